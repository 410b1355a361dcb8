/**
 * A policy table on the local endpoint's DynamoDB (dynalite with its transactions, on 127.0.0.1), filled
 * by the deploy-time seeder as a deploy fills it (version bumped), and an SDK client of it: the
 * starting point of the policy version tests.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type MeshPolicyEvent, seed } from '../../functions/control/policy-seeder';
import { bumpForStream, type PolicyStreamEvent } from '../../functions/control/policy-stream';
import { versionWriter } from '../../functions/control/version-writer';
import { PolicyCache, type PolicyCacheOptions } from '../../functions/mesh/policy/policy-cache';
import { createPolicyTable, serveDynamo } from '../../local/endpoint/dynamodb';
import type { AttributeValue } from '../../shared/attribute-value';
import { loopbackClientConfig } from './loopback-client';

export interface SeededPolicyTable {
  readonly client: DynamoDBClient;
  /**
   * A sandbox's policy cache reading this table, on the clock `clock.t` (no snapshot, quiet log), with
   * the callbacks the test watches (`onInvalidItem`, `onTableError`, ...).
   */
  cache(clock: { t: number }, watch?: Partial<PolicyCacheOptions>): PolicyCache;
  /**
   * Each item written with a raw PutItem (as the console or a script writes), then their stream records
   * handed to the stream's bumper in one batch; resolves to the services it bumped.
   */
  putAndBump(items: readonly Record<string, AttributeValue>[]): Promise<string[]>;
  close(): Promise<void>;
}

export async function seededPolicyTable(table: string, items: readonly unknown[]): Promise<SeededPolicyTable> {
  const dynamo = await serveDynamo();
  const client = new DynamoDBClient(loopbackClientConfig(dynamo.url));
  await createPolicyTable(dynamo.url, table);
  const event: MeshPolicyEvent = {
    RequestType: 'Create',
    ResourceProperties: { TableName: table, Items: JSON.stringify(items) },
  };
  await seed(client, event, () => undefined);
  return {
    client,
    cache: (clock, watch = {}) =>
      new PolicyCache({
        tableName: table,
        snapshotPath: null,
        now: () => clock.t,
        client: { send: (c) => client.send(c as never) },
        log: () => undefined,
        ...watch,
      }),
    async putAndBump(raw) {
      const records: NonNullable<PolicyStreamEvent['Records']>[number][] = [];
      for (const Item of raw) {
        await client.send(new PutItemCommand({ TableName: table, Item: Item as never }));
        records.push({
          eventName: 'INSERT',
          dynamodb: { Keys: { pk: Item.pk, sk: Item.sk } as never, NewImage: Item },
        });
      }
      return bumpForStream(versionWriter(client), table, { Records: records });
    },
    async close() {
      client.destroy();
      await dynamo.close();
    },
  };
}
