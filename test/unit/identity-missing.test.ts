/**
 * A function whose identity secret holds no identity yet: it refuses mesh calls (inbound as
 * unauthenticated with reason `identity-unavailable`, outbound with MeshIdentityUnavailableError before
 * anything is sent), logs why and counts identity_unavailable_total, never lets the raw load error
 * escape, tries the load again at most once per second (injected clock), and picks the identity up
 * without a redeploy once the secret holds one.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshIdentityUnavailableError, MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { IDENTITY_RETRY_MS, IdentityLoader } from '../../functions/mesh/identity/identity-loader';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { METRICS } from '../../shared/names';

const items = [
  { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
  { pk: 'orders', sk: 'allow#frontend', source: 'frontend' },
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

const real: IdentityLike = {
  sign: () => 'signed',
  verify: ({ token }) => (token === 'good' ? { ok: true } : { ok: false, reason: 'bad' }),
};

function setup() {
  let now = 1_000_000;
  let loads = 0;
  let issued = false;
  const sent: string[] = [];
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'orders', functionVersion: '1', disabled: false },
    policy: { snapshot: { mesh: 'shop', generatedAt: '', items }, snapshotPath: null },
    transport: {
      invoke: async (req) => {
        sent.push(req.functionName);
        return { statusCode: 200, payload: new TextEncoder().encode('"paid"') };
      },
    },
    sink: (l) => lines.push(...l.split('\n')),
    now: () => now,
    identity: async () => {
      loads++;
      // What parseIdentitySecret says of the deploy's placeholder.
      if (!issued) throw new Error('identity secret lacks string field "certificate"; re-issue it');
      return real;
    },
  });
  const parsed = () => lines.map((l) => JSON.parse(l));
  return {
    rt,
    sent,
    parsed,
    loads: () => loads,
    issue: () => {
      issued = true;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const ctx = (mesh?: object) => ({
  awsRequestId: 'req-1',
  clientContext: mesh ? { custom: { mesh } } : undefined,
  getRemainingTimeInMillis: () => 3000,
});

describe('a function without an identity yet', () => {
  test('refuses inbound mesh calls as unauthenticated, with the reason in its log and a metric', async () => {
    const s = setup();
    let ran = 0;
    const h = wrapHandler(s.rt, async () => {
      ran += 1;
      return 'ran';
    });
    await assert.rejects(h({}, ctx({ v: 1, src: 'frontend', tok: 'good' })), (e: unknown) => {
      assert.ok(e instanceof MeshUnauthenticatedError);
      assert.doesNotMatch(e.message, /certificate|identity-unavailable/, 'the caller learns only unauthenticated');
      return true;
    });
    assert.equal(ran, 0);
    const access = s.parsed().find((l) => l.type === 'mesh-access');
    assert.equal(access.reason, 'identity-unavailable');
    assert.equal(access.outcome, 'unauthenticated');
    const unavailable = s.parsed().find((l) => l[METRICS.identityUnavailableTotal] === 1);
    assert.deepEqual(unavailable._aws.CloudWatchMetrics[0].Metrics, [
      { Name: METRICS.identityUnavailableTotal, Unit: 'Count' },
    ]);
    const warn = s.parsed().find((l) => l.level === 'WARN');
    assert.match(warn.reason, /lacks string field "certificate"/);
  });

  test('refuses outbound calls before sending anything, with a typed error and the caller-side record', async () => {
    const s = setup();
    await assert.rejects(s.rt.call('payments', { amount: 1 }), (e: unknown) => {
      assert.ok(e instanceof MeshIdentityUnavailableError);
      assert.match(e.message, /orders has no identity yet/);
      return true;
    });
    assert.deepEqual(s.sent, [], 'nothing reached the transport');
    const access = s.parsed().find((l) => l.type === 'mesh-access');
    assert.equal(access.reporter, 'source');
    assert.equal(access.outcome, 'unauthenticated');
    assert.match(access.error, /MeshIdentityUnavailableError/);
  });

  test('tries again at most once per retry interval, then picks the identity up without a redeploy', async () => {
    const s = setup();
    const h = wrapHandler(s.rt, async () => 'ran');
    for (let i = 0; i < 5; i++) await assert.rejects(h({}, ctx({ v: 1, src: 'frontend', tok: 'good' })));
    await assert.rejects(s.rt.call('payments', {}), MeshIdentityUnavailableError);
    assert.equal(s.loads(), 1, 'one load for six refused calls inside the interval');
    assert.equal(s.parsed().filter((l) => l[METRICS.identityUnavailableTotal] === 1).length, 1);

    s.issue(); // the secret now holds an identity
    await assert.rejects(h({}, ctx({ v: 1, src: 'frontend', tok: 'good' })), MeshUnauthenticatedError);
    assert.equal(s.loads(), 1, 'still inside the interval');
    s.advance(IDENTITY_RETRY_MS);
    assert.equal(await h({}, ctx({ v: 1, src: 'frontend', tok: 'good' })), 'ran');
    assert.equal(await s.rt.call('payments', {}), 'paid');
    assert.deepEqual(s.sent, ['shop-payments']);
    assert.equal(s.loads(), 2, 'loaded once more, then kept');
  });

  test('the loader shares one load between concurrent callers and keeps a loaded identity', async () => {
    let loads = 0;
    let release: (v: string) => void = () => undefined;
    const loader = new IdentityLoader(() => {
      loads++;
      return new Promise<string>((r) => {
        release = r;
      });
    });
    const a = loader.get();
    const b = loader.get();
    release('id');
    assert.deepEqual(await a, { identity: 'id' });
    assert.deepEqual(await b, { identity: 'id' });
    assert.deepEqual(await loader.get(), { identity: 'id' });
    assert.equal(loads, 1);
  });
});
