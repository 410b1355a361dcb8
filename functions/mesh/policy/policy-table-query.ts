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
