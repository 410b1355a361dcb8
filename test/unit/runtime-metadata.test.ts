/** Mesh metadata: ClientContext and x-mesh-* headers in, base64 ClientContext out; garbage never throws. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CLIENT_CONTEXT_MAX_BYTES, encodeClientContext } from '../../functions/mesh/client-context';
import { MeshCallError } from '../../functions/mesh/errors';
import {
  isHttpEvent,
  metadataFromClientContext,
  metadataFromHeaders,
  metadataHeaders,
  parseMetadata,
  readMetadata,
  vouchedMetadata,
} from '../../functions/mesh/metadata';

const good = {
  v: 1,
  src: 'orders',
  tok: 'a.b.c',
  dl: 1_800_000_000_000,
  att: 2,
  idk: 'k-1',
  trc: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
} as const;

describe('runtime metadata', () => {
  test('a full ClientContext (parsed, as the Node runtime hands it over) round-trips', () => {
    const cc = JSON.parse(Buffer.from(encodeClientContext(good), 'base64').toString('utf8'));
    assert.deepEqual(metadataFromClientContext(cc), good);
  });

  test('a raw base64 or JSON string ClientContext is decoded too', () => {
    assert.deepEqual(metadataFromClientContext(encodeClientContext(good)), good);
    assert.deepEqual(metadataFromClientContext(JSON.stringify({ custom: { mesh: good } })), good);
    assert.deepEqual(metadataFromClientContext({ custom: { mesh: JSON.stringify(good) } }), good);
  });

  test('garbage: no metadata (the caller counts as external), never an exception', () => {
    for (const cc of [
      undefined,
      null,
      42,
      'not base64 !!',
      '{',
      [],
      { custom: null },
      { custom: { mesh: [] } },
      { custom: { mesh: { v: 2, src: 'orders' } } },
      { custom: { mesh: { v: 1, src: 'Orders!' } } },
      { custom: { mesh: { v: 1 } } },
    ]) {
      assert.equal(metadataFromClientContext(cc), undefined, JSON.stringify(cc));
    }
  });

  test('bad fields are dropped, the valid rest kept', () => {
    const m = parseMetadata({
      v: 1,
      src: 'orders',
      dl: 'soon',
      att: 0,
      idk: 'x'.repeat(500),
      trc: 'bad\u0000header',
      tok: 7,
    });
    assert.deepEqual(m, { v: 1, src: 'orders' });
  });

  test('fuzz: any JSON value parses to undefined or a well-formed MeshMetadata', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const m = metadataFromClientContext({ custom: { mesh: v } });
        if (m === undefined) return true;
        return m.v === 1 && /^[a-z][a-z0-9-]{0,39}$/.test(m.src) && (m.att === undefined || Number.isInteger(m.att));
      }),
      { numRuns: 2000 },
    );
  });

  test('HTTP events: API Gateway v1/v2 and Function URL shapes, headers case-insensitive', () => {
    const v2 = {
      rawPath: '/',
      requestContext: {},
      headers: {
        'X-Mesh-Source': 'orders',
        'x-mesh-deadline': '1800000000000',
        'x-mesh-attempt': '3',
        'x-mesh-idempotency-key': 'k',
      },
    };
    assert.equal(isHttpEvent(v2), true);
    assert.deepEqual(readMetadata(v2, {}), { v: 1, src: 'orders', dl: 1_800_000_000_000, att: 3, idk: 'k' });
    const v1 = { httpMethod: 'POST', headers: { 'x-mesh-source': 'orders', 'x-mesh-deadline': 'tomorrow' } };
    assert.deepEqual(readMetadata(v1, undefined), { v: 1, src: 'orders' });
    assert.equal(readMetadata({ httpMethod: 'GET', headers: {} }, {}), undefined);
    assert.equal(
      readMetadata({ headers: { 'x-mesh-source': 'orders' } }, {}),
      undefined,
      'a plain payload with a headers field is not HTTP',
    );
  });

  test('a token that bound no metadata vouches for no mirror mark and no routing header; the rest stays', () => {
    const meta = { v: 1, src: 'orders', att: 2, idk: 'k', dl: 5, mir: 1, rh: { 'x-route-cohort': 'beta' } } as const;
    assert.deepEqual(vouchedMetadata(meta, undefined), { v: 1, src: 'orders', att: 2, idk: 'k', dl: 5 });
    assert.equal(vouchedMetadata(meta, true), meta);
    assert.deepEqual(vouchedMetadata({ v: 1, src: 'orders', mir: 1 }, undefined), { v: 1, src: 'orders' });
    assert.deepEqual(vouchedMetadata({ v: 1, src: 'orders', rh: { 'x-route-a': 'b' } }, undefined), {
      v: 1,
      src: 'orders',
    });
    const plain = { v: 1, src: 'orders', att: 1 } as const;
    assert.equal(vouchedMetadata(plain, undefined), plain, 'nothing to drop: the same object');
  });

  test('headers out mirror headers in', () => {
    const h = metadataHeaders(good);
    assert.deepEqual(metadataFromHeaders(h), good);
  });

  test('ClientContext over 3,583 bytes fails clearly, naming the size', () => {
    assert.throws(
      () => encodeClientContext({ v: 1, src: 'orders', tok: 'x'.repeat(2900) }),
      (e: unknown) =>
        e instanceof MeshCallError && new RegExp(`over Lambda's ${CLIENT_CONTEXT_MAX_BYTES}-byte cap`).test(e.message),
    );
  });
});
