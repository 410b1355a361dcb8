/**
 * What one policy change costs the control plane: the table's stream delivers its records to the version
 * bumper (functions/control/policy-stream.ts), which bumps the changed services. Measured on the local
 * endpoint's DynamoDB (dynalite with its transactions, and its stream emulation delivering batches as
 * Lambda's poller does) for the two kinds of writer: the CLI (writes, then bumps itself; its records reach
 * the bumper a stream delay later, when the version carries them, and bump nothing) and any other (a raw
 * PutItem: the stream's bump only). The mapping's filter (shared/policy-stream-filter.ts) keeps the
 * version items' own records from the bumper. The local stream delivers at once; each change holds it back until
 * the writer is done, as the stream's delay does.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { bumpForStream, type PolicyStreamEvent } from '../../functions/control/policy-stream';
import { versionWriter } from '../../functions/control/version-writer';
import { createPolicyTable, serveDynamo } from '../../local/endpoint/dynamodb';
import { recordFilter } from '../../local/endpoint/event-filter';
import { TableStreams } from '../../local/endpoint/table-streams';
import type { AttributeValue } from '../../shared/attribute-value';
import { itemBytes } from '../../shared/item-size';
import { POLICY_VERSION } from '../../shared/names';
import { POLICY_STREAM_FILTER } from '../../shared/policy-stream-filter';
import { versionKey } from '../../shared/policy-version';

/** Per change, averaged over the changes made. */
export interface BumperCost {
  /** Invocations of the bumper (one per batch of records). */
  readonly invocations: number;
  /** Stream records delivered past the mapping's filter: the policy items written. */
  readonly records: number;
  /** Version items written (32 per bump), in transactions. */
  readonly versionWrites: number;
  /** Write units of those writes: a transactional write of an item up to 1 KB is 2. */
  readonly writeUnits: number;
  /** Bytes of a version item as DynamoDB sizes it (names and values), what the write units follow. */
  readonly versionItemBytes: number;
}

const TABLE = 'cost-policy';
const STREAM = `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/stream/1970-01-01T00:00:00.000`;

export async function measureBumper(writer: 'cli' | 'raw', changes = 10): Promise<BumperCost> {
  const streams = new TableStreams();
  const dynamo = await serveDynamo({ streams: streams.in('us-east-1') });
  const { url } = dynamo;
  const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    await createPolicyTable(url, TABLE);
    let invocations = 0;
    let records = 0;
    let held = Promise.resolve();
    streams.declare(TABLE, STREAM, 'NEW_IMAGE', 'us-east-1');
    streams.map({
      streamArn: STREAM,
      functionName: 'cost-version-bumper',
      batchSize: 100,
      // The mapping's filter, as the mesh declares it: version items' records never reach the bumper.
      accepts: recordFilter([JSON.stringify(POLICY_STREAM_FILTER)]),
      deliver: async (event) => {
        await held;
        invocations++;
        const batch = event as PolicyStreamEvent;
        records += batch.Records?.length ?? 0;
        return bumpForStream(versionWriter(client), TABLE, batch);
      },
    });
    const clients = { dynamo: async () => client } as unknown as AwsClients;
    for (let i = 0; i < changes; i++) {
      let release = () => {};
      held = new Promise<void>((r) => {
        release = r;
      });
      await change(writer, client, clients, i);
      release();
      await streams.drained();
    }
    const item = await client.send(new GetItemCommand({ TableName: TABLE, Key: versionKey(0) }));
    const bytes = itemBytes((item.Item ?? {}) as Record<string, AttributeValue>);
    // Each bump writes every shard and adds 1 to the generation.
    const versionWrites = Number(item.Item?.[POLICY_VERSION.generation]?.N ?? 0) * POLICY_VERSION.shards;
    const per = (n: number) => n / changes;
    return {
      invocations: per(invocations),
      records: per(records),
      versionWrites: per(versionWrites),
      writeUnits: per(versionWrites) * 2 * Math.max(1, Math.ceil(bytes / 1024)),
      versionItemBytes: bytes,
    };
  } finally {
    streams.close();
    client.destroy();
    await dynamo.close();
  }
}

/** One operator deny of a new caller of `hub`: through the CLI's plan, or a raw PutItem. */
async function change(writer: 'cli' | 'raw', client: DynamoDBClient, clients: AwsClients, i: number): Promise<void> {
  const from = `caller-${i}`;
  if (writer === 'cli') {
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'bench' };
    await applyPlan(clients, TABLE, planDeny(existing, from, 'hub', stamp, 'bench'), existing);
    return;
  }
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: 'hub' }, sk: { S: `deny#${from}` }, source: { S: from }, managedBy: { S: 'operator' } },
    }),
  );
}
