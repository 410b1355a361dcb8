/**
 * Routing headers (functions/mesh/routing/route-headers.ts): which inbound headers an invocation's
 * outbound calls may route by, and how they travel in the metadata (`rh`), bounded.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeClientContext, metadataFromClientContext, parseMetadata } from '../../functions/mesh/metadata';
import { mergeRouteHeaders, parseRouteHeaderNames, routeHeadersOf } from '../../functions/mesh/routing/route-headers';
import { readConfig } from '../../functions/mesh/runtime-config';
import { ROUTE_HEADERS } from '../../shared/names';

describe('routing headers', () => {
  it('keeps the x-route- prefix and the names MESH_ROUTE_HEADERS lists, lower-cased; never the rest', () => {
    const extra = parseRouteHeaderNames(' X-User-Id, ,bad name,x-tenant ');
    assert.deepEqual([...extra], ['x-user-id', 'x-tenant']);
    const h = routeHeadersOf(
      {
        'X-Route-Beta': 'yes',
        'x-user-id': ['u-1', 'u-2'],
        Authorization: 'Bearer secret',
        cookie: 'a=b',
        'x-route-n': 3,
      },
      extra,
    );
    assert.deepEqual(h, { 'x-route-beta': 'yes', 'x-user-id': 'u-1' });
    assert.equal(routeHeadersOf({ host: 'a' }, extra), undefined);
    assert.equal(routeHeadersOf(undefined, extra), undefined);
  });

  it('carries at most the allowed number of headers, each within its length', () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x-route-h${i}`, String(i)]));
    assert.equal(Object.keys(routeHeadersOf(many, new Set())!).length, ROUTE_HEADERS.maxHeaders);
    const long = { 'x-route-a': 'v'.repeat(ROUTE_HEADERS.maxValueLength + 1), 'x-route-b': 'ok' };
    assert.deepEqual(routeHeadersOf(long, new Set()), { 'x-route-b': 'ok' });
  });

  it("lets a call's own headers win over the invocation's", () => {
    assert.deepEqual(mergeRouteHeaders({ 'x-route-a': '1', 'x-route-b': '2' }, { 'x-route-a': 'call' }), {
      'x-route-a': 'call',
      'x-route-b': '2',
    });
    assert.deepEqual(mergeRouteHeaders(undefined, { a: '1' }), { a: '1' });
    assert.deepEqual(mergeRouteHeaders({ a: '1' }, undefined), { a: '1' });
  });

  it('reads MESH_ROUTE_HEADERS once into the runtime config', () => {
    assert.deepEqual([...readConfig({ MESH_ROUTE_HEADERS: 'X-Tenant' }).routeHeaders], ['x-tenant']);
    assert.equal(readConfig({}).routeHeaders.size, 0);
  });
});

describe('metadata: mirror mark and routing headers', () => {
  it('round-trips through the ClientContext', () => {
    const meta = { v: 1 as const, src: 'orders', mir: 1 as const, rh: { 'x-route-beta': 'yes' } };
    const back = metadataFromClientContext(Buffer.from(encodeClientContext(meta), 'base64').toString('utf8'));
    assert.deepEqual(back, meta);
  });

  it('drops what is malformed: a mirror mark other than 1, header entries out of bounds', () => {
    const m = parseMetadata({
      v: 1,
      src: 'orders',
      mir: true,
      rh: { 'x-route-a': 'ok', 'Bad Name': 'x', 'x-route-b': 3, 'x-route-c': 'v'.repeat(300) },
    });
    assert.deepEqual(m, { v: 1, src: 'orders', rh: { 'x-route-a': 'ok' } });
    assert.deepEqual(parseMetadata({ v: 1, src: 'orders', rh: ['x'] }), { v: 1, src: 'orders' });
    assert.deepEqual(parseMetadata({ v: 1, src: 'orders', rh: { 'Bad Name': 'x' } }), { v: 1, src: 'orders' });
  });
});
