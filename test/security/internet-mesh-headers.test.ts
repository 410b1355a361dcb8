/**
 * Attack: an HTTP request from the internet (API Gateway, a Function URL with auth NONE) carrying the
 * mesh's `x-mesh-*` headers, to a function that admits `external` callers. Anyone can send them, so the
 * caller stays `external` whatever `x-mesh-source` says. With identity off, the wrapper still acted on
 * the rest: the invocation's idempotency key, attempt and deadline were the request's headers. The key
 * is what every call of the invocation derives its own from (functions/mesh/idempotency-key.ts), so a
 * client that sent one key twice, with an order of 1 cent and then one of 1,000 dollars, had the
 * second order's charge carry the first's key: a callee that deduplicates (as it should) answered it
 * with the stored answer of the first, and charged nothing. An external caller's key is Lambda's
 * request id, its attempt and deadline are none: nothing it claims is acted on. With identity on, a
 * request with `x-mesh-source` and no valid token was already refused (held, checked here too).
 * The real wrapper and runtime; the callee's Invoke is kept in memory, as sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdentityLike } from '../../functions/mesh/mesh-runtime';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { META, META_HEADER } from '../../shared/names';
import { Capture } from '../support/captured-call';

const ITEMS = [
  { pk: 'frontend', sk: 'allow#external', source: 'external' },
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#frontend', source: 'frontend' },
];

/** frontend's runtime, its calls kept; identity off unless given. */
function frontend(identity?: IdentityLike) {
  const transport = new Capture();
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'frontend', functionVersion: '1' },
    policy: { snapshot: { mesh: 'shop', generatedAt: '', items: ITEMS }, snapshotPath: null },
    transport,
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => identity,
    sleep: async () => undefined,
  });
  return { rt, transport, lines };
}

/** A Function URL request (payload 2.0) from the internet, mesh headers and all. */
function fromTheInternet(body: string, headers: Record<string, string>) {
  return {
    version: '2.0',
    rawPath: '/checkout',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: '/checkout' } },
    body,
    isBase64Encoded: false,
  };
}

const FORGED = {
  [META_HEADER.source]: 'orders',
  [META_HEADER.idempotencyKey]: 'order-1',
  [META_HEADER.attempt]: '3',
  [META_HEADER.deadline]: String(Date.now() + 3_600_000),
};

/** The idempotency key of each Invoke sent, from its ClientContext. */
const keysSent = (c: Capture) =>
  c.sent.map(
    (s) => JSON.parse(Buffer.from(s.clientContext, 'base64').toString('utf8')).custom[META.clientContextKey].idk,
  );

describe('attack: mesh headers on a request from the internet', () => {
  test('identity off: the headers change nothing; the key is the request id, so a second order is charged on its own', async () => {
    // Prepare: frontend charges what each checkout asks, and notes what it was told about the caller.
    const { rt, transport } = frontend();
    const seen: unknown[] = [];
    const wrapped = wrapHandler(rt, async (event) => {
      const s = rt.scope!;
      seen.push({ source: s.source, idempotencyKey: s.idempotencyKey, attempt: s.attempt, deadline: s.deadline });
      await rt.call('payments', JSON.parse((event as { body: string }).body));
      return { statusCode: 200, body: 'ordered' };
    });

    // Act: two orders under one forged key, one of 1 cent, one of 100,000.
    for (const [id, amountCents] of [
      ['r-1', 1],
      ['r-2', 100_000],
    ] as const) {
      const event = fromTheInternet(JSON.stringify({ amountCents }), FORGED);
      const res = (await wrapped(event, { awsRequestId: id })) as { statusCode: number };
      assert.equal(res.statusCode, 200);
    }

    // Assess: the charges carry keys of their own; the caller is external, keyed by Lambda's request id,
    // with no attempt and no deadline.
    const [first, second] = keysSent(transport);
    assert.notEqual(first, second, 'the second charge carries the key of the first');
    assert.deepEqual(seen, [
      { source: 'external', idempotencyKey: 'r-1', attempt: undefined, deadline: undefined },
      { source: 'external', idempotencyKey: 'r-2', attempt: undefined, deadline: undefined },
    ]);
  });

  test('identity off: a deadline in the past on the headers refuses nothing', async () => {
    const { rt } = frontend();
    const wrapped = wrapHandler(rt, async () => ({ statusCode: 200, body: 'ok' }));
    const event = fromTheInternet('{}', { ...FORGED, [META_HEADER.deadline]: '1' });
    assert.equal(((await wrapped(event, { awsRequestId: 'r-3' })) as { statusCode: number }).statusCode, 200);
  });

  test('held, identity on: x-mesh-source without a valid token is refused 401; other mesh headers alone are external', async () => {
    const identity: IdentityLike = { sign: () => 'tok', verify: () => ({ ok: false, reason: 'token-missing' }) };
    const { rt } = frontend(identity);
    let runs = 0;
    const seen: unknown[] = [];
    const wrapped = wrapHandler(rt, async () => {
      runs++;
      seen.push(rt.scope!.idempotencyKey);
      return { statusCode: 200, body: 'ok' };
    });
    const refused = (await wrapped(fromTheInternet('{}', FORGED), { awsRequestId: 'r-4' })) as { statusCode: number };
    assert.equal(refused.statusCode, 401);
    const { [META_HEADER.source]: _src, ...rest } = FORGED;
    const served = (await wrapped(fromTheInternet('{}', rest), { awsRequestId: 'r-5' })) as { statusCode: number };
    assert.equal(served.statusCode, 200);
    assert.equal(runs, 1);
    assert.deepEqual(seen, ['r-5']);
  });
});
