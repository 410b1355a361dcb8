/**
 * DynamoDB `Query` for the policy cache: on the wire (one signed HTTPS POST, awsJson1_0,
 * `X-Amz-Target: DynamoDB_20120810.Query`, aws/aws-json-call.ts), or through @aws-sdk/client-dynamodb
 * where the wire path does not go (aws/aws-endpoint.ts: FIPS, dual-stack, container credentials).
 * A new sandbox reads its policy table before its first authorization (it does not trust an old
 * deploy-time snapshot), and requiring the SDK client there would add tens of ms to every cold start.
 */
import type { AttributeValue } from '../../../shared/attribute-value';
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
  private readonly send: (input: QueryInput) => Promise<QueryOutput>;
  private readonly get: (input: GetItemInput) => Promise<GetItemOutput>;

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
      this.get = (input) => awsJsonCall<GetItemOutput>(client, 'DynamoDB_20120810.GetItem', input, { version: '1.0' });
    } else {
      const sdk = sdkClient(opts.env);
      this.send = async (input) => sdk((m) => new m.QueryCommand(input as never)) as Promise<QueryOutput>;
      this.get = async (input) => sdk((m) => new m.GetItemCommand(input as never)) as Promise<GetItemOutput>;
    }
  }

  query(input: QueryInput): Promise<QueryOutput> {
    return this.send(input);
  }

  getItem(input: GetItemInput): Promise<GetItemOutput> {
    return this.get(input);
  }
}

type DynamoSdk = typeof import('@aws-sdk/client-dynamodb');

/** The SDK path: its endpoint rules and credential providers, loaded on the first read. */
function sdkClient(env: AwsEnv): (command: (sdk: DynamoSdk) => unknown) => Promise<unknown> {
  let client: import('@aws-sdk/client-dynamodb').DynamoDBClient | undefined;
  return async (command) => {
    const sdk = require('@aws-sdk/client-dynamodb') as DynamoSdk;
    // Passed explicitly: not every SDK release reads AWS_ENDPOINT_URL_*, and `env` may not be the process's.
    client ??= new sdk.DynamoDBClient({ endpoint: configuredEndpoint(DYNAMODB, env), region: regionOf(env) });
    return client.send(command(sdk) as never);
  };
}
