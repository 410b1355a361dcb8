/**
 * DynamoDB `Query` for the policy cache: on the wire (one signed HTTPS POST, awsJson1_0,
 * `X-Amz-Target: DynamoDB_20120810.Query`, aws/aws-json-call.ts), or through @aws-sdk/client-dynamodb
 * where the wire path does not go (aws/aws-endpoint.ts: FIPS, dual-stack, container credentials).
 * A new sandbox reads its policy table before its first authorization (it does not trust an old
 * deploy-time snapshot), and requiring the SDK client there would add tens of ms to every cold start.
 * `partitionReader` is what the policy cache requires on its first read: one partition, page by page.
 */
import { type AttributeValue, unmarshallItem } from '../../../shared/attribute-value';

// Items read from the table are checked with it; so are those of a snapshot synth did not seal.
export { checkPolicyItem } from '../../../shared/policy-item-check';

import { TABLE } from '../../../shared/names';
import { type AwsEnv, AwsWireClient, awsJsonCall, awsRoute, configuredEndpoint, DYNAMODB, regionOf } from '../aws';

export interface QueryInput {
  readonly TableName: string;
  readonly KeyConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly ExclusiveStartKey?: Record<string, AttributeValue>;
  readonly Limit?: number;
  readonly ConsistentRead?: boolean;
}

export interface QueryOutput {
  readonly Items?: Record<string, AttributeValue>[];
  readonly LastEvaluatedKey?: Record<string, AttributeValue>;
}

export interface PolicyTableQueryOptions {
  readonly env: AwsEnv;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Sends Query requests for the policy cache, with the function's credentials. */
export class PolicyTableQuery {
  private readonly send: (input: QueryInput) => Promise<QueryOutput>;

  constructor(opts: PolicyTableQueryOptions) {
    const route = awsRoute(DYNAMODB, opts.env);
    if (route.wire) {
      const client = new AwsWireClient({
        url: route.url,
        region: route.region,
        service: DYNAMODB.name,
        env: opts.env,
        purpose: 'read the policy table',
        now: opts.now,
      });
      this.send = (input) => awsJsonCall<QueryOutput>(client, 'DynamoDB_20120810.Query', input, { version: '1.0' });
    } else {
      this.send = sdkQuery(opts.env);
    }
  }

  query(input: QueryInput): Promise<QueryOutput> {
    return this.send(input);
  }
}

/** The SDK path: its endpoint rules and credential providers, loaded on the first read. */
function sdkQuery(env: AwsEnv): (input: QueryInput) => Promise<QueryOutput> {
  let client: import('@aws-sdk/client-dynamodb').DynamoDBClient | undefined;
  return async (input) => {
    const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    // Passed explicitly: not every SDK release reads AWS_ENDPOINT_URL_*, and `env` may not be the process's.
    client ??= new sdk.DynamoDBClient({ endpoint: configuredEndpoint(DYNAMODB, env), region: regionOf(env) });
    return (await client.send(new sdk.QueryCommand(input as never))) as QueryOutput;
  };
}

/** The part of a DynamoDB client the policy cache may be given (a real `DynamoDBClient` fits). */
export interface PolicyTableClient {
  send(command: unknown): Promise<unknown>;
}

export interface PartitionReaderOptions extends PolicyTableQueryOptions {
  readonly tableName: string;
  /** An SDK client to send the Queries through (tests); default: signed on the wire. */
  readonly client?: PolicyTableClient;
  /** Query page size (`Limit`); only to exercise pagination. @default unset (DynamoDB's 1 MB pages) */
  readonly pageLimit?: number;
  /** Called once per Query sent (a page). */
  readonly onPage?: () => void;
}

/** Reads every item of a partition (pk), unmarshalled to plain JSON, page after page. */
export function partitionReader(opts: PartitionReaderOptions): (pk: string) => Promise<unknown[]> {
  const wire = opts.client ? undefined : new PolicyTableQuery(opts);
  const send = wire ? (input: QueryInput) => wire.query(input) : clientQuery(opts.client!);
  return async (pk) => {
    const items: unknown[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      opts.onPage?.();
      const out = await send({
        TableName: opts.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ExclusiveStartKey: startKey,
        Limit: opts.pageLimit,
        // A deny must be seen by the first read after it: eventually consistent reads may miss it.
        ConsistentRead: true,
      });
      for (const it of out.Items ?? []) items.push(unmarshallItem(it));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  };
}

/** Queries through a given SDK client. */
function clientQuery(client: PolicyTableClient): (input: QueryInput) => Promise<QueryOutput> {
  return (input) => {
    const { QueryCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    return client.send(new QueryCommand(input as never)) as Promise<QueryOutput>;
  };
}
