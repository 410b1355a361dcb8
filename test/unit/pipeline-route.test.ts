/** Stage `route`: the attempt's qualifier from the route and the breakers' ejections, and pinning behind the alias. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { route } from '../../functions/mesh/pipeline/route';
import { buildServicePolicy } from '../../functions/mesh/policy/service-policy';
import { checkPolicyItem } from '../../shared/policy-item-check';
import { fixture, PAYMENTS, planOf, readyCall, T0 } from '../support/pipeline-fixture';

const weighted = (weights: Record<string, number>) => [...PAYMENTS, { pk: 'payments', sk: 'route', weights }];

describe('pipeline stage: route', () => {
  test('no route item: the alias, with Lambda drawing the version behind it', async () => {
    const { state } = fixture();
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    assert.equal(a.qualifier, 'live');
    assert.equal(a.routeVersion, 'live');
    assert.equal(a.behindAlias, true);
    assert.deepEqual([...a.seen!], []);
    assert.equal(a.number, 1);
  });

  test('weights: versions chosen client-side, an ejected version left out', async () => {
    const { state } = fixture({ items: weighted({ '1': 0.5, '2': 0.5 }) });
    const call = await readyCall(state);
    const picks = [1, 2, 3, 4].map(() => route(call, planOf(call)).qualifier).sort();
    assert.deepEqual(picks, ['1', '1', '2', '2']);
    const b = state.breakers.get('payments', '2', { consecutiveFailures: 1 });
    b.failure(T0);
    const a = route(call, planOf(call));
    assert.deepEqual([a.qualifier, a.routeVersion, a.behindAlias, a.seen], ['1', '1', false, undefined]);
    assert.deepEqual([...a.ejected], ['2']);
  });

  test("another sandbox's open breaker (shared breaker item) ejects its version here too", async () => {
    const items = [
      ...weighted({ '1': 0.5, '2': 0.5 }),
      { pk: 'breaker#payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: T0 - 1000 },
    ];
    const { state } = fixture({ items });
    // The breaker partition comes with the table read; here the policy is built from its items directly.
    const policy = buildServicePolicy('payments', items, { check: checkPolicyItem, origin: 'table', loadedAt: T0 });
    const call = { ...(await readyCall(state)), policy };
    assert.deepEqual(
      [1, 2, 3].map(() => route(call, planOf(call)).qualifier),
      ['1', '1', '1'],
    );
  });

  test('behind the alias: pinned to a healthy version seen there while another seen version is ejected', async () => {
    const { state } = fixture();
    const call = await readyCall(state);
    const seen = state.aliases.seen('payments', 'live');
    seen.add('3').add('4');
    assert.equal(route(call, planOf(call)).qualifier, 'live', 'nothing ejected: the alias');
    state.breakers.get('payments', '4', { consecutiveFailures: 1 }).failure(T0);
    const a = route(call, planOf(call));
    assert.deepEqual([a.qualifier, a.routeVersion, a.behindAlias], ['3', '3', false]);
    assert.equal(a.seen, seen, 'the pinned attempt still learns what runs behind the alias');
  });
});
