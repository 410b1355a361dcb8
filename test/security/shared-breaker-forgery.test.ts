/**
 * Attack: a caller with shared breakers on may write its target's breaker partition
 * (`breaker#<target>`, any attributes: IAM's `dynamodb:LeadingKeys` names the partition only). One
 * `breaker#<version>` item dated ten years ahead passes the policy schema (`openedAt` is any finite
 * number), and every other caller's sandboxes read it with the target's policy. It must not eject the
 * version for everyone until that date: the writers' conditional put only moves `openedAt` forward, so
 * nothing the mesh writes would replace it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedBreakerItem, sharedEjected } from '../../functions/mesh/resilience/shared-breaker';
import { breakerPartition, SORT_KEY } from '../../shared/names';
import { type BreakerStateItem, parsePolicyItem } from '../../shared/policy';

const NOW = Date.UTC(2026, 11, 2);
const TEN_YEARS_MS = 10 * 365 * 86_400_000;
const OPEN_MS = 30_000;

describe('attack: a shared breaker item dated in the future', () => {
  const forged = {
    pk: breakerPartition('payments'),
    sk: SORT_KEY.breaker('1'),
    version: '1',
    state: 'open',
    openedAt: NOW + TEN_YEARS_MS,
    ttl: Math.ceil((NOW + TEN_YEARS_MS) / 1000),
  };

  test('passes the schema, so every sandbox keeps it with the policy', () => {
    const parsed = parsePolicyItem(forged);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  });

  test('ejects the version nowhere: not now, not an hour or a day later', () => {
    const items = new Map([['1', forged as BreakerStateItem]]);
    for (const later of [0, 3_600_000, 86_400_000]) {
      assert.deepEqual([...sharedEjected(items, NOW + later, OPEN_MS)], [], `${later} ms later`);
    }
  });

  test("an honest writer's item, beside it for another version, still ejects its version", () => {
    const items = new Map<string, BreakerStateItem>([
      ['1', forged as BreakerStateItem],
      ['2', sharedBreakerItem('payments', '2', NOW - 1_000, OPEN_MS)],
    ]);
    assert.deepEqual([...sharedEjected(items, NOW, OPEN_MS)], ['2']);
  });
});
