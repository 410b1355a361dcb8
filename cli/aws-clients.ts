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
    // The profile's (AWS_PROFILE, ~/.aws/config) before falling back; against an endpoint, never the
    // EC2 instance's (instance metadata): see profileRegion.
    const r = await profileRegion(settings.fallbackRegion === undefined);
    if (r) return r;
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

/**
 * The region the SDK finds in the profile, as it reads it; with `instance`, then the EC2 instance's
 * (instance metadata, as the SDK's clients do when nothing else names one). Against an endpoint (the
 * local mesh, LocalStack) the region is the profile's or us-east-1, never the instance's: an EC2 dev box
 * in eu-west-3 would look for the local mesh's functions there and find none, and elsewhere each
 * command waited up to a second for an instance metadata service that is not there.
 */
async function profileRegion(instance: boolean): Promise<string | undefined> {
  try {
    if (instance) {
      const { LambdaClient } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
      return await new LambdaClient({}).config.region();
    }
    // The SDK's own loader, the copy the Lambda client loads, without its last resort (instance metadata).
    const sdkConfig = require(
      require.resolve('@smithy/core/config', { paths: [require.resolve('@aws-sdk/client-lambda')] }),
    ) as typeof import('@smithy/core/config');
    const noInstance = { ...sdkConfig.NODE_REGION_CONFIG_OPTIONS, default: () => undefined };
    return await sdkConfig.loadConfig(noInstance, sdkConfig.NODE_REGION_CONFIG_FILE_OPTIONS)();
  } catch {
    return undefined; // no region configured
  }
}
