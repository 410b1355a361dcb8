/** The condition a policy write carries: the item as the command read it (cli/policy-guard.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeGuard } from '../../cli/policy-guard';

const key = { pk: 'payments', sk: 'traffic' };

describe('writeGuard', () => {
  it('an item the command did not find must still be absent', () => {
    assert.deepEqual(writeGuard(key, [{ pk: 'payments', sk: 'route' }]), {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    });
  });

  it("pins a stamped item's strings and booleans, not its numbers or maps", () => {
    const read = {
      pk: 'payments',
      sk: 'traffic',
      timeoutMs: 1000,
      retries: { maxAttempts: 2 },
      managedBy: 'operator',
      idempotent: true,
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    assert.deepEqual(writeGuard(key, [read]), {
      ConditionExpression: 'attribute_exists(#pk) AND #a0 = :v0 AND #a1 = :v1 AND #a2 = :v2',
      ExpressionAttributeNames: { '#pk': 'pk', '#a0': 'managedBy', '#a1': 'idempotent', '#a2': 'updatedAt' },
      ExpressionAttributeValues: {
        ':v0': { S: 'operator' },
        ':v1': { BOOL: true },
        ':v2': { S: '2026-01-01T00:00:00.000Z' },
      },
    });
  });

  it('an item read without a stamp must still have none: a CLI write in between adds one', () => {
    const guard = writeGuard(key, [{ pk: 'payments', sk: 'traffic', timeoutMs: 1000 }]);
    assert.equal(guard.ConditionExpression, 'attribute_exists(#pk) AND attribute_not_exists(#stamp)');
    assert.deepEqual(guard.ExpressionAttributeNames, { '#pk': 'pk', '#stamp': 'updatedAt' });
    assert.equal(guard.ExpressionAttributeValues, undefined);
  });
});
