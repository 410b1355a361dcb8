/**
 * Stage `failover` through the client: a call whose target is unavailable goes once to the declared
 * fallback (a service, a version, the function in another region), the handler learns who served it,
 * and the caller's telemetry names the fallback; never a repeated side effect on an edge that is not
 * idempotent, never for a function error unless the edge says so. And the decision, case by case.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshClient } from '../../functions/mesh/client';
import { MeshOutcomeUnknownError, MeshRemoteError } from '../../functions/mesh/errors';
import { decideFailover, splitFunctionArn } from '../../functions/mesh/resilience/failover-decision';
import type { InvokeRequest } from '../../functions/mesh/transport/lambda-invoke';
import { fixture, functionError, ok, PAYMENTS, transportOf } from '../support/pipeline-fixture';

const WEST = 'arn:aws:lambda:us-west-2:123456789012:function:shop-payments';
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });

function client(items: unknown[], answer: (req: InvokeRequest) => ReturnType<typeof ok>) {
  const transport = transportOf(answer);
  const f = fixture({ items, transport });
  return {
    ...f,
    transport,
    client: new MeshClient({ ...f.state.deps, now: f.state.now, sleep: async () => undefined }),
  };
}

const edge = (fields: Record<string, unknown>) => [
  PAYMENTS[0],
  { ...PAYMENTS[1], retries: { maxAttempts: 2 }, ...fields },
  { pk: 'payments-lite', sk: 'service', functionName: 'shop-payments-lite' },
  { pk: 'payments-lite', sk: 'allow#orders', source: 'orders' },
];

describe('pipeline stage: failover', () => {
  test('throttled past the retries: the fallback service serves the call, and says so', async () => {
    const {
      client: c,
      transport,
      accessLog,
      lines,
    } = client(edge({ fallback: { service: 'payments-lite' } }), (r) => {
      if (r.functionName === 'shop-payments') throw throttled();
      return ok({ paid: true }, '4');
    });
    const out = await c.call('payments', { amount: 1 }, { withMeta: true, idempotencyKey: 'k-1' });
    assert.deepEqual(out, {
      result: { paid: true },
      meta: { target: 'payments-lite', version: '4', fallback: true, primary: 'payments', attempts: 1 },
    });
    assert.deepEqual(
      transport.requests.map((r) => r.functionName),
      ['shop-payments', 'shop-payments', 'shop-payments-lite'],
    );
    const log = accessLog();
    assert.deepEqual(
      log.map((l) => [l.destination, l.outcome, l.fallbackFor]),
      [
        ['payments', 'throttled', undefined],
        ['payments-lite', 'success', 'payments'],
      ],
    );
    assert.equal(log[1]!.idempotencyKey, 'k-1', 'the fallback carries the same idempotency key');
    const emf = lines.filter((l) => l.includes('"fallback_total":1'));
    assert.equal(emf.length, 1);
    assert.match(emf[0]!, /"destination_workload":"payments-lite"/);
  });

  test('the function in another region: invoked by its ARN, at the primary’s alias, reported with its region', async () => {
    const {
      client: c,
      transport,
      accessLog,
    } = client(edge({ fallback: { functionArn: WEST } }), (r) => {
      if (r.functionName === 'shop-payments') throw throttled();
      return ok({ paid: true }, '7');
    });
    const out = await c.call('payments', {}, { withMeta: true });
    assert.deepEqual(out.meta, {
      target: 'payments',
      version: '7',
      region: 'us-west-2',
      fallback: true,
      primary: 'payments',
      attempts: 1,
    });
    const last = transport.requests.at(-1)!;
    assert.deepEqual([last.functionName, last.qualifier], [WEST, 'live']);
    assert.equal(accessLog().at(-1)!.version, '7@us-west-2');
  });

  test('a fallback ARN with its own qualifier is invoked at that qualifier, not at the primary’s alias', async () => {
    const { client: c, transport } = client(edge({ fallback: { functionArn: `${WEST}:blue` } }), (r) => {
      if (r.functionName === 'shop-payments') throw throttled();
      return ok({ paid: true }, '9');
    });
    await c.call('payments', {});
    const last = transport.requests.at(-1)!;
    assert.deepEqual([last.functionName, last.qualifier], [WEST, 'blue']);
  });

  test('served by the target itself: the meta says no fallback and names no primary', async () => {
    const { client: c } = client(edge({ fallback: { service: 'payments-lite' } }), () => ok({ paid: true }, '2'));
    const out = await c.call('payments', {}, { withMeta: true });
    assert.deepEqual(out.meta, { target: 'payments', version: '2', fallback: false, attempts: 1 });
  });

  test('the function in another region is signed with the caller’s identity in that region', async () => {
    // Prepare: an identity per region (the callee there trusts only its own region's CA).
    const asked: (string | undefined)[] = [];
    const signer = (region: string) => ({ sign: () => `token-of-${region}` });
    const transport = transportOf((r) => {
      if (r.functionName === 'shop-payments') throw throttled();
      return ok({ paid: true }, '7');
    });
    const f = fixture({ items: edge({ fallback: { functionArn: WEST } }), transport });
    const c = new MeshClient({
      ...f.state.deps,
      identity: async (region) => {
        asked.push(region);
        return signer(region ?? 'us-east-1');
      },
      now: f.state.now,
      sleep: async () => undefined,
    });
    // Act
    await c.call('payments', {});
    // Assess: the primary's attempts carry this region's token, the fallback the other region's.
    const tokens = transport.requests.map(
      (r) => JSON.parse(Buffer.from(r.clientContext!, 'base64').toString()).custom.mesh.tok,
    );
    assert.deepEqual(asked, [undefined, 'us-west-2']);
    assert.equal(tokens.at(-1), 'token-of-us-west-2');
    assert.ok(tokens.slice(0, -1).every((t) => t === 'token-of-us-east-1'));
  });

  test('another version: pinned, past the route', async () => {
    const { client: c, transport } = client(edge({ fallback: { version: '3' } }), (r) => {
      if (r.qualifier !== '3') throw throttled();
      return ok({}, '3');
    });
    const out = await c.call('payments', {}, { withMeta: true });
    assert.equal(out.meta.version, '3');
    assert.equal(transport.requests.at(-1)!.qualifier, '3');
  });

  test('not idempotent: a timeout may have run the handler, so the fallback is not called', async () => {
    const { client: c, transport } = client(edge({ fallback: { service: 'payments-lite' } }), (r) => {
      if (r.functionName === 'shop-payments') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return ok({});
    });
    await assert.rejects(c.call('payments', {}), MeshOutcomeUnknownError);
    assert.deepEqual(
      transport.requests.map((r) => r.functionName),
      ['shop-payments'],
    );
  });

  test('a function error fails over only when the edge says so (and the edge is idempotent)', async () => {
    const answer = (r: InvokeRequest) =>
      r.functionName === 'shop-payments' ? functionError('CardDeclined', 'no') : ok({ served: 'lite' });
    const plain = client(edge({ idempotent: true, fallback: { service: 'payments-lite' } }), answer);
    await assert.rejects(plain.client.call('payments', {}), MeshRemoteError);
    const opted = client(
      edge({ idempotent: true, fallback: { service: 'payments-lite', onFunctionError: true } }),
      answer,
    );
    assert.deepEqual(await opted.client.call('payments', {}), { served: 'lite' });
  });

  test('no fallback declared: the call ends with the target’s own error, as before', async () => {
    const { client: c } = client(edge({}), () => {
      throw throttled();
    });
    await assert.rejects(c.call('payments', {}), { name: 'MeshThrottledError' });
  });
});

describe('failover decision', () => {
  const base = {
    fallback: { service: 'lite' },
    idempotent: false,
    lastDelivery: 'not-delivered',
    mayHaveRun: false,
  } as const;
  test('taken for an unavailable target whose attempts never arrived', () => {
    for (const outcome of ['circuit-open', 'throttled', 'service-error', 'timeout'] as const) {
      assert.deepEqual(decideFailover({ ...base, outcome }), { failover: true }, outcome);
    }
  });
  test('not taken for refusals, bad requests or the caller’s own rate limit', () => {
    for (const outcome of ['denied', 'unauthenticated', 'client-error', 'rate-limited'] as const) {
      assert.deepEqual(decideFailover({ ...base, outcome }), { failover: false, reason: 'not-unavailable' }, outcome);
    }
  });
  test('not taken on an edge that is not idempotent once an attempt may have run', () => {
    assert.deepEqual(decideFailover({ ...base, outcome: 'service-error', lastDelivery: 'unknown' }), {
      failover: false,
      reason: 'may-have-run',
    });
    assert.deepEqual(decideFailover({ ...base, outcome: 'circuit-open', mayHaveRun: true }), {
      failover: false,
      reason: 'may-have-run',
    });
    assert.deepEqual(decideFailover({ ...base, idempotent: true, outcome: 'service-error', lastDelivery: 'unknown' }), {
      failover: true,
    });
  });
  test('a function error: only with onFunctionError, and never after the handler ran on a non-idempotent edge', () => {
    const fe = { ...base, outcome: 'function-error', lastDelivery: 'delivered' } as const;
    assert.deepEqual(decideFailover(fe), { failover: false, reason: 'function-error' });
    const opted = { ...fe, fallback: { service: 'lite', onFunctionError: true } };
    assert.deepEqual(decideFailover(opted), { failover: false, reason: 'may-have-run' });
    assert.deepEqual(decideFailover({ ...opted, idempotent: true }), { failover: true });
  });
  test('no fallback: nothing to decide', () => {
    assert.deepEqual(decideFailover({ ...base, fallback: undefined, outcome: 'throttled' }), {
      failover: false,
      reason: 'no-fallback',
    });
  });
});

describe('a fallback function ARN', () => {
  test('splits into its region, the unqualified ARN and the qualifier, if any', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-payments';
    assert.deepEqual(splitFunctionArn(`${arn}:live`), { region: 'eu-west-1', unqualified: arn, qualifier: 'live' });
    assert.deepEqual(splitFunctionArn(arn), { region: 'eu-west-1', unqualified: arn });
  });
});
