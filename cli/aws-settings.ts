/**
 * Where the CLI's AWS calls go, worked out the way the AWS CLI does: `--endpoint-url` beats
 * AWS_ENDPOINT_URL_<SERVICE>, which beats AWS_ENDPOINT_URL (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true); `--region` beats AWS_REGION / AWS_DEFAULT_REGION, then
 * the profile. Against an endpoint (LocalStack, the local mesh) a missing region defaults to
 * us-east-1 and missing credentials to dummy ones, so `mesh status` works with nothing configured.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AwsFlags } from './args';
import { UsageError } from './errors';

/** The AWS services the CLI talks to, by their SDK serviceId env suffix (AWS_ENDPOINT_URL_<suffix>). */
export const AWS_SERVICES = [
  'LAMBDA',
  'DYNAMODB',
  'CLOUDWATCH',
  'XRAY',
  'CLOUDWATCH_LOGS',
  'SECRETS_MANAGER',
  'CODEDEPLOY',
  'IAM',
] as const;
export type AwsService = (typeof AWS_SERVICES)[number];

export interface AwsSettings {
  /** Explicit region, or undefined to let the SDK read the profile. */
  readonly region?: string;
  /** Used when neither flags, env nor profile give a region. */
  readonly fallbackRegion?: string;
  readonly endpoints: Readonly<Record<AwsService, string | undefined>>;
  /** Dummy credentials when an endpoint is set and nothing else provides any. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const ENDPOINT_DEFAULT_REGION = 'us-east-1';

type Env = Readonly<Record<string, string | undefined>>;

/** Pure: flags + environment (+ whether shared config files exist) -> settings. */
export function resolveAwsSettings(
  flags: Pick<AwsFlags, 'region' | 'endpointUrl'>,
  env: Env,
  fileExists: (path: string) => boolean,
): AwsSettings {
  const ignoreConfigured = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true';
  const fromEnv = (name: string) => (env[name] ? checkedEndpoint(name, env[name]) : undefined);
  const endpointFor = (svc: AwsService): string | undefined =>
    (flags.endpointUrl && checkedEndpoint('--endpoint-url', flags.endpointUrl)) ||
    (ignoreConfigured ? undefined : fromEnv(`AWS_ENDPOINT_URL_${svc}`) || fromEnv('AWS_ENDPOINT_URL')) ||
    undefined;
  const endpoints = Object.fromEntries(AWS_SERVICES.map((svc) => [svc, endpointFor(svc)])) as Record<
    AwsService,
    string | undefined
  >;
  const anyEndpoint = Object.values(endpoints).some(Boolean);
  const region = flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const home = env.HOME ?? homedir();
  const credentialSources = [
    env.AWS_ACCESS_KEY_ID,
    env.AWS_PROFILE,
    env.AWS_WEB_IDENTITY_TOKEN_FILE,
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
  ];
  const hasCredentials =
    credentialSources.some(Boolean) ||
    fileExists(env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials')) ||
    fileExists(env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'));
  return {
    region,
    fallbackRegion: anyEndpoint ? ENDPOINT_DEFAULT_REGION : undefined,
    endpoints,
    // Never against real AWS: there, missing credentials must fail loudly.
    credentials: anyEndpoint && !hasCredentials ? DUMMY_CREDENTIALS : undefined,
  };
}

/**
 * An endpoint the SDK can send to: an http(s) URL. `127.0.0.1:4566` without its scheme would otherwise
 * fail the first call as "Invalid URL", naming neither the flag nor the fix.
 */
function checkedEndpoint(source: string, value: string): string {
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {}
  if (protocol === 'http:' || protocol === 'https:') return value;
  const example = source.startsWith('--') ? `${source} http://127.0.0.1:4566` : `${source}=http://127.0.0.1:4566`;
  throw new UsageError(
    `${source} ${JSON.stringify(value)} is not an http(s) URL; give the scheme, host and port, e.g. ${example}`,
  );
}

/** A one-line description of where calls go, for `mesh status`. */
export function describeTarget(settings: AwsSettings, region: string): string {
  const ep = settings.endpoints.LAMBDA ?? settings.endpoints.DYNAMODB;
  return ep ? `${region}, endpoint ${ep}` : region;
}
