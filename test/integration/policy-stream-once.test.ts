/**
 * The table's stream bumps once what the CLI bumped already, and never leaves out a write the version
 * does not announce: a CLI change is one bump (the CLI's), a deploy too big for the version item one bump
 * (the seeder's, its changes in change items), a raw PutItem or DeleteItem is one bump (the stream's),
 * and a raw overwrite of an item the CLI just changed is bumped, even when it writes back the very value
 * the CLI's bump carries. The local endpoint's DynamoDB (dynalite with its transactions) on
 * 127.0.0.1 records every change into a `NEW_IMAGE` stream, as the mesh's table declares it, and delivers
 * the batches to the bumper's handler; the real SDK client on the wire. Bumps are counted by the
 * version's generation (+1 per bump on every shard).
 */

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { seed } from '../../functions/control/policy-seeder';
import { bumpForStream, type PolicyStreamEvent } from '../../functions/control/policy-stream';
import { versionWriter } from '../../functions/control/version-writer';
import { createPolicyTable, serveDynamo } from '../../local/endpoint/dynamodb';
import { recordFilter } from '../../local/endpoint/event-filter';
import { TableStreams } from '../../local/endpoint/table-streams';
import { unmarshallItem } from '../../shared/attribute-value';
import { POLICY_VERSION } from '../../shared/names';
import { changeEntries, isEntry, isStub } from '../../shared/policy-changes';
import { POLICY_STREAM_FILTER } from '../../shared/policy-stream-filter';
import { bucketOf, versionCounters, versionKey } from '../../shared/policy-version';

const TABLE = 'once-policy';
const STREAM = `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/stream/1970-01-01T00:00:00.000`;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'test' };

describe('policy stream: a change the CLI bumped is not bumped again, any other write is', () => {
  let dynamo: Awaited<ReturnType<typeof serveDynamo>>;
  let client: DynamoDBClient;
  const streams = new TableStreams();
  const clients = { dynamo: async () => client } as unknown as AwsClients;
  /** Batches wait on this before the bumper takes them: a test holds the stream back to write in between. */
  let gate: Promise<void> = Promise.resolve();
  let bumped: string[][] = [];
  let delivered: NonNullable<PolicyStreamEvent['Records']>[number][] = [];

  const version = async () => {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: versionKey(0), ConsistentRead: true }),
    );
    const item = unmarshallItem(Item ?? {});
    return {
      generation: Number(item[POLICY_VERSION.generation] ?? 0),
      counters: versionCounters(item),
      entries: changeEntries(item, POLICY_VERSION.changes),
    };
  };
  const cliDeny = async (from: string, to: string, reason: string) => {
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDeny(existing, from, to, stamp, reason), existing);
  };
  const rawDeny = (from: string, to: string, reason: string) =>
    client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: to },
          sk: { S: `deny#${from}` },
          source: { S: from },
          reason: { S: reason },
          managedBy: { S: 'operator' },
        },
      }),
    );

  before(async () => {
    dynamo = await serveDynamo({ streams: streams.in('us-east-1') });
    client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await createPolicyTable(dynamo.url, TABLE);
    streams.declare(TABLE, STREAM, 'NEW_IMAGE', 'us-east-1');
    streams.map({
      streamArn: STREAM,
      functionName: 'once-version-bumper',
      batchSize: 100,
      // The mapping's filter, as the mesh declares it (shared/policy-stream-filter.ts)
      accepts: recordFilter([JSON.stringify(POLICY_STREAM_FILTER)]),
      deliver: async (event) => {
        await gate;
        delivered.push(...((event as PolicyStreamEvent).Records ?? []));
        bumped.push(await bumpForStream(versionWriter(client), TABLE, event as PolicyStreamEvent));
      },
    });
  });

  beforeEach(() => {
    bumped = [];
    delivered = [];
    gate = Promise.resolve();
  });

  after(async () => {
    streams.close();
    client.destroy();
    await dynamo.close();
  });

  /** Holds the stream's batches back until the returned function is called (a stream delay, made long). */
  const holdStream = () => {
    let release = () => {};
    gate = new Promise<void>((r) => {
      release = r;
    });
    return () => release();
  };

  it('a CLI deny is bumped once: by the CLI, and its record through the stream bumps nothing', async () => {
    const from = await version();
    // The record reaches the bumper a stream delay after the write, when the CLI has bumped (the local
    // stream would deliver it at once, before the CLI's bump: then both bump, which is harmless)
    const release = holdStream();
    await cliDeny('orders', 'payments', 'incident 1');
    release();
    await streams.drained();
    const to = await version();
    assert.ok(bumped.length > 0, 'the stream delivered the deny’s record to the bumper');
    assert.deepEqual(
      delivered.map((r) => r.dynamodb?.Keys?.pk?.S),
      ['payments'],
      'and only it: the version items the bump wrote are filtered out',
    );
    assert.deepEqual(bumped.flat(), [], 'the stream bumped nothing');
    assert.equal(to.generation - from.generation, 1, 'one bump: the CLI’s');
    assert.notEqual(to.counters[bucketOf('payments')], from.counters[bucketOf('payments')]);
  });

  it('a deploy of 40 items, carried in change items, is bumped once: by the seeder', async () => {
    const from = await version();
    const items = Array.from({ length: 40 }, (_, i) => ({
      pk: 'payments',
      sk: `allow#caller-${i}`,
      source: `caller-${i}`,
      managedBy: 'deploy',
    }));
    const release = holdStream();
    await seed(
      client,
      { RequestType: 'Create', ResourceProperties: { TableName: TABLE, Items: JSON.stringify(items) } },
      () => undefined,
    );
    const seeded = await version();
    assert.ok(isStub(seeded.entries.at(-1)), 'the version carries a stub of the deploy');
    release();
    await streams.drained();
    assert.equal(delivered.length, 40, 'the stream delivered the 40 items’ records, not the change items’');
    assert.deepEqual(bumped.flat(), [], 'the stream bumped nothing: the change items announce every record');
    assert.equal((await version()).generation - from.generation, 1, 'one bump: the seeder’s');
  });

  it('a raw PutItem and a raw DeleteItem are each bumped once, by the stream', async () => {
    const start = await version();
    await rawDeny('frontend', 'inventory', 'script');
    await streams.drained();
    const put = await version();
    assert.equal(put.generation - start.generation, 1, 'the PutItem: one bump');
    assert.notEqual(put.counters[bucketOf('inventory')], start.counters[bucketOf('inventory')]);
    await client.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'inventory' }, sk: { S: 'deny#frontend' } } }),
    );
    await streams.drained();
    const removed = await version();
    assert.equal(removed.generation - put.generation, 1, 'the DeleteItem: one bump');
    assert.notEqual(removed.counters[bucketOf('inventory')], put.counters[bucketOf('inventory')]);
  });

  it('a raw overwrite right after a CLI change, before the stream delivers it, is bumped for the overwrite', async () => {
    const start = await version();
    const release = holdStream();
    await cliDeny('frontend', 'orders', 'incident 2');
    const cli = await version();
    await rawDeny('frontend', 'orders', 'overwritten by a script');
    release();
    await streams.drained();
    const end = await version();
    assert.equal(end.generation - start.generation, 2, 'the CLI’s bump and the stream’s for the overwrite');
    assert.deepEqual(bumped.flat(), ['orders']);
    assert.notEqual(end.counters[bucketOf('orders')], cli.counters[bucketOf('orders')]);
    const last = end.entries.at(-1);
    assert.ok(isEntry(last), 'the newest bump carries its changes in the version item');
    const carried = last.changes.find((c) => c.pk === 'orders' && c.sk === 'deny#frontend');
    assert.equal(carried?.item?.reason, 'overwritten by a script', 'the newest bump carries the overwrite');
  });

  it('a raw write that changes the item and one that writes the CLI’s value back are still bumped', async () => {
    // Prepare: the CLI's deny, announced by its bump; the stream held back
    const release = holdStream();
    await cliDeny('frontend', 'payments', 'incident 3');
    const cli = await version();
    const kept = (
      await client.send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'payments' }, sk: { S: 'deny#frontend' } } }),
      )
    ).Item!;
    // Act: the deny lifted, then written back as it was: the item ends as the CLI's bump carries it, but a
    // sandbox that queried in between holds no deny, filed under the CLI's value
    await client.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'payments' }, sk: { S: 'deny#frontend' } } }),
    );
    await client.send(new PutItemCommand({ TableName: TABLE, Item: kept }));
    release();
    await streams.drained();
    // Assess: the stream bumped for the delete, so that sandbox queries again
    const end = await version();
    assert.equal(end.generation - cli.generation, 1, 'one bump, for the delete');
    assert.notEqual(end.counters[bucketOf('payments')], cli.counters[bucketOf('payments')]);
  });

  it('breaker state and the version items never reach the bumper (the mapping’s filter)', async () => {
    const start = await version();
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'breaker#payments' }, sk: { S: 'breaker#2' }, state: { S: 'open' }, ttl: { N: '1' } },
      }),
    );
    await rawDeny('orders', 'inventory', 'script');
    await streams.drained();
    assert.deepEqual(
      delivered.map((r) => `${r.dynamodb?.Keys?.pk?.S}/${r.dynamodb?.Keys?.sk?.S}`),
      ['inventory/deny#orders'],
    );
    assert.equal((await version()).generation - start.generation, 1);
  });
});
