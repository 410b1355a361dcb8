/**
 * The SDK clients, created on first use so `mesh --help` and `mesh shift payments 150` never load
 * the AWS SDK (startup stays fast).
 */
import { existsSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsFlags } from './args';
import { type AwsService, type AwsSettings, resolveAwsSettings } from './aws-settings';
import { CommandError } from './errors';

/** What an SDK client of any service is made with: region, endpoint (when one is set), credentials. */
export interface ClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface AwsClients {
  readonly settings: AwsSettings;
  region(): Promise<string>;
  /** The configuration for a client of `service` (for the services without a client here). */
  config(service: AwsService): Promise<ClientConfig>;
  lambda(): Promise<LambdaClient>;
  dynamo(): Promise<DynamoDBClient>;
}

export function awsClients(
  flags: Pick<AwsFlags, 'region' | 'endpointUrl'>,
  env: NodeJS.ProcessEnv = process.env,
): AwsClients {
  const settings = resolveAwsSettings(flags, env, existsSync);
  let region: Promise<string> | undefined;
  let lambda: Promise<LambdaClient> | undefined;
  let dynamo: Promise<DynamoDBClient> | undefined;

  const resolveRegion = async (): Promise<string> => {
    if (settings.region) return settings.region;
    // Let the SDK read the profile (AWS_PROFILE, ~/.aws/config) before falling back.
    const { LambdaClient } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    try {
      const r = await new LambdaClient({}).config.region();
      if (r) return r;
    } catch {
      /* no region configured */
    }
    if (settings.fallbackRegion) return settings.fallbackRegion;
    throw new CommandError('no AWS region configured: set AWS_REGION, or pass --region us-east-1');
  };
  const regionOnce = () => (region ??= resolveRegion());
  const common = async (svc: AwsService): Promise<ClientConfig> => ({
    region: await regionOnce(),
    ...(settings.endpoints[svc] ? { endpoint: settings.endpoints[svc] } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  });
  return {
    settings,
    region: regionOnce,
    config: common,
    lambda: () =>
      (lambda ??= (async () => {
        const { LambdaClient } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
        return new LambdaClient(await common('LAMBDA'));
      })()),
    dynamo: () =>
      (dynamo ??= (async () => {
        const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
        return new DynamoDBClient(await common('DYNAMODB'));
      })()),
  };
}
