/**
 * Routing headers (functions/mesh/routing/route-headers.ts): which inbound headers an invocation's
 * outbound calls may route by, and how they travel in the metadata (`rh`), bounded.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeClientContext } from '../../functions/mesh/client-context';
import { metadataFromClientContext, parseMetadata } from '../../functions/mesh/metadata';
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

  it('keeps a name and a value exactly at their limits, and drops them one character longer', () => {
    const name = `x-route-${'n'.repeat(ROUTE_HEADERS.maxNameLength - 'x-route-'.length)}`;
    const value = 'v'.repeat(ROUTE_HEADERS.maxValueLength);
    assert.deepEqual(routeHeadersOf({ [name]: value }, new Set()), { [name]: value });
    assert.equal(routeHeadersOf({ [`${name}n`]: 'ok' }, new Set()), undefined, 'name one over');
    assert.equal(routeHeadersOf({ [name]: `${value}v` }, new Set()), undefined, 'value one over');
  });

  it('counts a header repeated in another case once against the limit, its last value winning', () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < ROUTE_HEADERS.maxHeaders; i++) {
      headers[`x-route-h${i}`] = 'lower';
      headers[`X-Route-H${i}`] = 'upper';
    }
    const out = routeHeadersOf(headers, new Set())!;
    assert.equal(Object.keys(out).length, ROUTE_HEADERS.maxHeaders);
    assert.equal(out[`x-route-h${ROUTE_HEADERS.maxHeaders - 1}`], 'upper');
  });

  it('reads nothing from headers that are not an object (an event is untrusted JSON)', () => {
    // A string has keys "0", "1"...: with "0" listed as a routing header they would be read as headers.
    assert.equal(routeHeadersOf('abc' as unknown as Record<string, unknown>, new Set(['0'])), undefined);
    assert.equal(routeHeadersOf(7 as unknown as Record<string, unknown>, new Set(['0'])), undefined);
  });

  it("lets a call's own headers win over the invocation's", () => {
    assert.deepEqual(mergeRouteHeaders({ 'x-route-a': '1', 'x-route-b': '2' }, { 'x-route-a': 'call' }), {
      'x-route-a': 'call',
      'x-route-b': '2',
    });
    assert.deepEqual(mergeRouteHeaders(undefined, { a: '1' }), { a: '1' });
    assert.deepEqual(mergeRouteHeaders({ a: '1' }, undefined), { a: '1' });
    // With one side missing the other is handed on as it is, not copied for every call.
    const only = { 'x-route-a': '1' };
    assert.equal(mergeRouteHeaders(only, undefined), only);
    assert.equal(mergeRouteHeaders(undefined, only), only);
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
