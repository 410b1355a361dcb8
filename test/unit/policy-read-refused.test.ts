/**
 * A call whose target's policy IAM would not let the caller read: the caller's role names the policy
 * partitions of its declared targets only, so the refusal's reason (in the caller's access log) names
 * the missing edge and its fix rather than the table. Fail closed all the same, and the caller's error
 * still says only `denied`. The decision, the cache that remembers why its last read failed, and the
 * outbound stage that words the access log.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshDeniedError } from '../../functions/mesh/errors';
import { authorize as authorizeStage } from '../../functions/mesh/pipeline/authorize';
import { startCall } from '../../functions/mesh/pipeline/call-context';
import type { PolicyTableClient } from '../../functions/mesh/policy/policy-cache';
import { buildServicePolicy, emptyServicePolicy } from '../../functions/mesh/policy/service-policy';
import { admit, authorize } from '../../functions/mesh/policy-decision';
import { checkPolicyItem } from '../../shared/policy-item-check';
import { clockedPolicyCache } from '../support/clocked-policy-cache';
import { fixture, T0 } from '../support/pipeline-fixture';

const TTL = 5_000;
const BOUND = TTL + 1_000;
const LEGACY = [
  { pk: 'legacy', sk: 'service', functionName: 'shop-legacy' },
  { pk: 'legacy', sk: 'allow#orders', source: 'orders' },
];
const READ_REFUSED =
  'the role of orders may not read the policy of legacy (IAM refused it): most likely no edge orders -> legacy ' +
  'is declared; declare the edge (orders.allowCallsTo(legacy)) in CDK';

/** The error DynamoDB answers a Query its caller's role does not allow (as the SDK and the wire path name it). */
function iamRefusal(): Error {
  return Object.assign(
    new Error(
      'User: arn:aws:sts::123456789012:assumed-role/shop-orders-role/shop-orders is not authorized to perform: ' +
        'dynamodb:Query on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/shop-policy because no ' +
        'identity-based policy allows the dynamodb:Query action',
    ),
    { name: 'AccessDeniedException' },
  );
}

/** A policy table holding legacy's items, whose Queries fail with `failure` while it is set. */
class Table implements PolicyTableClient {
  failure: (() => Error) | undefined;
  async send(command: unknown): Promise<unknown> {
    const input = (command as { input: { ExpressionAttributeValues?: { ':pk': { S: string } } } }).input;
    if (!input.ExpressionAttributeValues) return {}; // the policy version: none (every read is a Query)
    if (this.failure) throw this.failure();
    const pk = input.ExpressionAttributeValues[':pk'].S;
    const items = LEGACY.filter((i) => i.pk === pk);
    return { Items: items.map((i) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, { S: v }]))) };
  }
}

describe('the decision after IAM refused the read of the target policy', () => {
  const copy = buildServicePolicy('legacy', LEGACY, { check: checkPolicyItem, origin: 'table', loadedAt: T0 });
  const refused = { now: T0 + BOUND + 1, maxAgeMs: BOUND, readRefused: true };

  test('a copy past the bound: refused, naming the role, the likely missing edge and its fix', () => {
    assert.deepEqual(authorize(copy, 'orders', refused), {
      allowed: false,
      reason: 'policy-read-refused',
      detail: READ_REFUSED,
    });
  });

  test('nothing known of the target: refused the same way, not as an unknown service', () => {
    assert.deepEqual(authorize(emptyServicePolicy('legacy', T0 + BOUND), 'orders', refused), {
      allowed: false,
      reason: 'policy-read-refused',
      detail: READ_REFUSED,
    });
  });

  test('a copy within the bound still decides (fail static), and a stale one without IAM refusal is stale', () => {
    const within = { ...refused, now: T0 + BOUND };
    assert.equal(authorize(copy, 'orders', within).allowed, true);
    const noEdge = authorize(copy, 'frontend', within);
    assert.equal(!noEdge.allowed && noEdge.reason, 'no-edge');
    const stale = authorize(copy, 'orders', { ...refused, readRefused: false });
    assert.equal(!stale.allowed && stale.reason, 'stale-policy');
    const unknown = authorize(emptyServicePolicy('legacy', T0), 'orders', { now: T0, maxAgeMs: BOUND });
    assert.equal(!unknown.allowed && unknown.reason, 'unknown-service');
  });

  test("the inbound check reads the function's own policy: its refusal keeps the stale wording", () => {
    const a = admit(copy, 'orders', refused);
    assert.equal(!a.allowed && a.reason, 'stale-policy');
  });
});

describe('the policy cache remembers whether IAM refused its last read of a service', () => {
  test("set by IAM's refusal, for that service only; cleared by another failure and by a good read", async () => {
    const table = new Table();
    const clock = { now: T0 };
    const cache = clockedPolicyCache(table, clock, TTL);
    table.failure = iamRefusal;
    await cache.get('legacy');
    assert.equal(cache.freshness(clock.now, 'legacy').readRefused, true);
    assert.ok(!cache.freshness(clock.now).readRefused, 'not without a target (the inbound check)');
    assert.ok(!cache.freshness(clock.now, 'payments').readRefused, 'not for a service never read');
    // A read that fails for another reason: the table, not IAM.
    clock.now += TTL;
    table.failure = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'NetworkingError' });
    await cache.get('legacy');
    assert.equal(cache.freshness(clock.now, 'legacy').readRefused, false);
    // Refused again, then read: the copy is good and nothing is remembered of the refusal.
    clock.now += TTL;
    table.failure = iamRefusal;
    await cache.get('legacy');
    assert.equal(cache.freshness(clock.now, 'legacy').readRefused, true);
    clock.now += TTL;
    table.failure = undefined;
    const read = await cache.get('legacy');
    assert.equal(read.origin, 'table');
    assert.ok(!cache.freshness(clock.now, 'legacy').readRefused);
  });

  test('IAM refusal as DynamoDB may word it: AccessDenied, or a message saying not authorized', async () => {
    for (const failure of [
      () => Object.assign(new Error('Access denied'), { name: 'AccessDenied' }),
      () => Object.assign(iamRefusal(), { name: 'Http400' }),
    ]) {
      const table = new Table();
      table.failure = failure;
      const cache = clockedPolicyCache(table, { now: T0 }, TTL);
      await cache.get('legacy');
      assert.equal(cache.freshness(T0, 'legacy').readRefused, true, failure().name);
    }
  });
});

describe('stage authorize: a call whose target policy IAM refused to read', () => {
  /** orders' client, its cache reading `table` (no snapshot: the first call reads the table). */
  function ordersCalling(table: Table) {
    return fixture({ deps: { policy: clockedPolicyCache(table, { now: T0 }, TTL) } });
  }

  test('denied, the caller learning only that; the access log names the missing edge and its fix', async () => {
    const table = new Table();
    table.failure = iamRefusal;
    const { state, accessLog, lines } = ordersCalling(table);
    await assert.rejects(authorizeStage(startCall(state, 'legacy', {}, { idempotencyKey: 'k-1' })), (err: Error) => {
      assert.ok(err instanceof MeshDeniedError);
      assert.equal(
        err.message,
        'mesh: the call to legacy was refused: denied (request k-1); the reason is in the mesh access log',
      );
      return true;
    });
    const [line] = accessLog();
    assert.equal(line?.outcome, 'denied');
    assert.equal(line?.reason, `policy-read-refused: ${READ_REFUSED}`);
    assert.equal(lines.filter((l) => l.includes('"denied_total":1')).length, 1, 'counted as a refusal');
  });

  test('the table out of reach instead: the reason stays about the table', async () => {
    const table = new Table();
    table.failure = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'NetworkingError' });
    const { state, accessLog } = ordersCalling(table);
    await assert.rejects(authorizeStage(startCall(state, 'legacy', {}, {})), MeshDeniedError);
    assert.match(String(accessLog()[0]?.reason), /^unknown-service: no policy is known for legacy/);
  });
});
