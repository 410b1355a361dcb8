/**
 * DynamoDB `Query` and `GetItem` for the policy cache: on the wire (one signed HTTPS POST, awsJson1_0,
 * `X-Amz-Target: DynamoDB_20120810.<Op>`, aws/aws-json-call.ts), or through @aws-sdk/client-dynamodb
 * where the wire path does not go (aws/wire-or-sdk.ts: FIPS, dual-stack, container credentials).
 * A new sandbox reads its policy table before its first authorization (it does not trust an old
 * deploy-time snapshot), and requiring the SDK client there would add tens of ms to every cold start.
 * `policyTableReads` is what the policy cache's table reader (policy-table-reader.ts) reads with.
 */
import { type AttributeValue, unmarshallItem } from '../../../shared/attribute-value';
import { TABLE } from '../../../shared/names';
import { type AwsEnv, awsJsonCall, DYNAMODB, wireOrSdk } from '../aws';

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

export interface GetItemInput {
  readonly TableName: string;
  readonly Key: Record<string, AttributeValue>;
  readonly ConsistentRead?: boolean;
}

export interface GetItemOutput {
  readonly Item?: Record<string, AttributeValue>;
}

export interface PolicyTableQueryOptions {
  readonly env: AwsEnv;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Sends Query and GetItem requests for the policy cache, with the function's credentials. */
export class PolicyTableQuery {
  readonly query: (input: QueryInput) => Promise<QueryOutput>;
  readonly getItem: (input: GetItemInput) => Promise<GetItemOutput>;

  constructor(opts: PolicyTableQueryOptions) {
    const call = wireOrSdk<(operation: Operation, input: unknown) => Promise<unknown>>(DYNAMODB, opts.env, {
      purpose: 'read the policy table',
      now: opts.now,
      wire: (client) => (operation, input) =>
        awsJsonCall(client, `DynamoDB_20120810.${operation}`, input, { version: '1.0' }),
      sdk: (config) => {
        // Loaded on the first read, not when the cache is made.
        let client: PolicyTableClient | undefined;
        return (operation, input) => {
          client ??= new (
            require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')
          ).DynamoDBClient(config);
          return sdkSend(client, operation, input);
        };
      },
    });
    this.query = (input) => call('Query', input) as Promise<QueryOutput>;
    this.getItem = (input) => call('GetItem', input) as Promise<GetItemOutput>;
  }
}

type Operation = 'Query' | 'GetItem';

/** One Query or GetItem through an SDK client. */
function sdkSend(client: PolicyTableClient, operation: Operation, input: unknown): Promise<unknown> {
  const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const Command = sdk[`${operation}Command`] as new (input: never) => unknown;
  return client.send(new Command(input as never));
}

/** The part of a DynamoDB client the policy cache may be given (a real `DynamoDBClient` fits). */
export interface PolicyTableClient {
  send(command: unknown): Promise<unknown>;
}

export interface PolicyTableReadsOptions extends PolicyTableQueryOptions {
  readonly tableName: string;
  /** An SDK client to send the requests through (tests); default: signed on the wire. */
  readonly client?: PolicyTableClient;
  /** Query page size (`Limit`); only to exercise pagination. @default unset (DynamoDB's 1 MB pages) */
  readonly pageLimit?: number;
  /** Called once per Query sent (a page). */
  readonly onPage?: () => void;
}

/** The two reads of the policy cache, items unmarshalled to plain JSON. */
export interface PolicyTableReads {
  /** Every item of a partition (pk), page after page, strongly consistent. */
  partition(pk: string): Promise<unknown[]>;
  /** One item by its key, eventually consistent (the policy version); undefined if there is none. */
  item(key: Record<string, AttributeValue>): Promise<unknown>;
}

/**
 * Pages of a partition read at most (DynamoDB's pages are up to 1 MB each): a service's policy is a few
 * KB, so more is what a tool or a person with table write put there by mistake, and holding it all could
 * end a small sandbox. Past it the read fails, and the last good copy stays (policy-table-reader.ts).
 */
export const MAX_PARTITION_PAGES = 4;

export function policyTableReads(opts: PolicyTableReadsOptions): PolicyTableReads {
  const table = opts.client ? clientReads(opts.client) : new PolicyTableQuery(opts);
  return {
    async partition(pk) {
      const items: unknown[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      let pages = 0;
      do {
        // Pages made small on purpose (`pageLimit`, tests) are not what the bound is about.
        if (pages++ >= MAX_PARTITION_PAGES && !opts.pageLimit)
          throw new Error(`policy partition ${pk} is over ${MAX_PARTITION_PAGES} MB, far more than a policy holds`);
        opts.onPage?.();
        const out = await table.query({
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
    },
    async item(key) {
      // Eventually consistent: half the price of a consistent read; the reader counts its lag.
      const out = await table.getItem({ TableName: opts.tableName, Key: key });
      return out.Item ? unmarshallItem(out.Item) : undefined;
    },
  };
}

/** Queries and GetItems through a given SDK client. */
function clientReads(client: PolicyTableClient): Pick<PolicyTableQuery, 'query' | 'getItem'> {
  return {
    query: (input) => sdkSend(client, 'Query', input) as Promise<QueryOutput>,
    getItem: (input) => sdkSend(client, 'GetItem', input) as Promise<GetItemOutput>,
  };
}
