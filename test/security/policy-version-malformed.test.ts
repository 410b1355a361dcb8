/**
 * A version item whose generation is not a number (written by a script, a restore or anyone with table
 * write): every bump's `ADD` on it failed with DynamoDB's "An operand in the update expression has an
 * incorrect data type", in the one transaction over all shards and shard by shard alike. No counter
 * moved again, so warm sandboxes kept confirming their copies: a deny reached new sandboxes only. The
 * bump now repairs such a generation and goes on. The local endpoint's DynamoDB (dynalite with its
 * transactions) on 127.0.0.1, the real SDK client, caches with their own clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { versionWriter } from '../../functions/control/version-writer';
import { POLICY_VERSION } from '../../shared/names';
import { bumpPolicyVersion, versionKey } from '../../shared/policy-version';
import { policyFleet } from '../support/policy-fleet';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'test' };
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
];

describe('a version item whose generation is not a number', () => {
  let table: SeededPolicyTable;
  let client: DynamoDBClient;
  const clock = { t: 1_700_000_000_000 };
  const clients = { dynamo: async () => client } as unknown as AwsClients;

  before(async () => {
    table = await seededPolicyTable(TABLE, items);
    client = table.client;
  });
  after(() => table.close());

  const fleet = policyFleet({ table: TABLE, client: { send: (c) => client.send(c as never) }, clock });
  /** Shard `shard`'s generation written as `value`, past the bump's checks, as a raw UpdateItem does. */
  const corrupt = (shard: number, value: Record<string, unknown>) =>
    client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: versionKey(shard),
        UpdateExpression: 'SET #g = :v',
        ExpressionAttributeNames: { '#g': POLICY_VERSION.generation },
        ExpressionAttributeValues: { ':v': value as never },
      }),
    );
  const generation = async (shard: number) =>
    (await client.send(new GetItemCommand({ TableName: TABLE, Key: versionKey(shard), ConsistentRead: true }))).Item?.[
      POLICY_VERSION.generation
    ];

  it('does not stop a deny from reaching warm sandboxes within TTL + 1 s', async () => {
    const caches = await fleet.warm(4);
    await corrupt(7, { S: 'seven' });
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDeny(existing, 'orders', 'payments', stamp, 'incident'), existing);
    const seen = await fleet.seenWithin(caches, 'orders', false);
    assert.ok(fleet.within(seen), `every cache refused orders within TTL + 1 s: ${seen.join(', ')} ms`);
    assert.equal((await generation(7))?.N !== undefined, true, 'the generation is a number again');
  });

  it('is repaired by a bump shard by shard too, where transactions are not offered', async () => {
    await corrupt(3, { M: { n: { N: '1' } } });
    const writer = versionWriter(client);
    const shardByShard = { ...writer, transactWrite: () => Promise.reject(new Error('UnknownOperationException')) };
    await bumpPolicyVersion(shardByShard, TABLE, ['payments']);
    assert.equal((await generation(3))?.N, '1', 'counted again from the repair');
  });

  it('is repaired when DynamoDB cancels the transaction for it, as it does on AWS', async () => {
    await corrupt(11, { BOOL: true });
    const writer = versionWriter(client);
    // DynamoDB cancels the whole transaction, with the shard's reason among the others.
    const asAws = {
      ...writer,
      transactWrite: (input: Parameters<typeof writer.transactWrite>[0]) =>
        writer.transactWrite(input).catch((err: Error) => {
          if (!/incorrect data type/.test(err.message)) throw err;
          const reasons = input.TransactItems.map((_, i) => ({ Code: i === 11 ? 'ValidationError' : 'None' }));
          throw Object.assign(
            new Error('Transaction cancelled, please refer cancellation reasons for specific reasons'),
            {
              name: 'TransactionCanceledException',
              CancellationReasons: reasons,
            },
          );
        }),
    };
    await bumpPolicyVersion(asAws, TABLE, ['payments'], { keys: [{ pk: 'payments', sk: 'allow#orders' }] });
    assert.equal((await generation(11))?.N, '1');
  });
});
