/**
 * Where the runtime sends an AWS request, and whether it speaks the wire itself or leaves the request
 * to the AWS SDK. Pure: the environment comes in.
 *
 * The wire path covers what a Lambda function has: the region's endpoint in the aws, aws-cn and
 * aws-us-gov partitions, or the endpoint configured with AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL
 * (AWS SDKs and Tools Reference Guide, "Service-specific endpoints"; a configured endpoint wins, and
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns both off), with credentials in the environment.
 * Everything else goes to the SDK, whose endpoint rules and credential providers know it: FIPS or
 * dual-stack endpoints (AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT: not every service has them in
 * every region), a region of another partition, credentials from a container endpoint (no keys in the
 * environment).
 */

export type AwsEnv = Readonly<Record<string, string | undefined>>;

/** An AWS service the runtime calls on its hot path. */
export interface AwsService {
  /** `AWS_ENDPOINT_URL_<id>`: the SDK's service id, upper case, spaces as `_`. */
  readonly endpointId: string;
  /** Host prefix of the regional endpoint, and the SigV4 signing name. */
  readonly name: string;
}

export const LAMBDA: AwsService = { endpointId: 'LAMBDA', name: 'lambda' };
export const DYNAMODB: AwsService = { endpointId: 'DYNAMODB', name: 'dynamodb' };
export const SECRETS_MANAGER: AwsService = { endpointId: 'SECRETS_MANAGER', name: 'secretsmanager' };
/** The channels `mesh.send` reaches (SDK service ids SQS, SNS, EventBridge). */
export const SQS: AwsService = { endpointId: 'SQS', name: 'sqs' };
export const SNS: AwsService = { endpointId: 'SNS', name: 'sns' };
export const EVENTBRIDGE: AwsService = { endpointId: 'EVENTBRIDGE', name: 'events' };

export type AwsRoute =
  | { readonly wire: true; readonly url: URL; readonly region: string }
  | { readonly wire: false; readonly reason: string };

/** DNS suffix per partition, by region name; other partitions (ISO, sovereign) go to the SDK. */
const PARTITIONS: readonly [RegExp, string][] = [
  [/^cn-(north|northwest)-\d+$/, 'amazonaws.com.cn'],
  [/^us-gov-(east|west)-\d+$/, 'amazonaws.com'],
  [
    /^(af|ap|ca|eu|il|me|mx|sa|us)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d+$/,
    'amazonaws.com',
  ],
];

const on = (v: string | undefined) => v?.toLowerCase() === 'true';

/** The endpoint configured for `service`, if any (specific beats global). */
export function configuredEndpoint(service: AwsService, env: AwsEnv): string | undefined {
  if (on(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) return undefined;
  return env[`AWS_ENDPOINT_URL_${service.endpointId}`] || env.AWS_ENDPOINT_URL || undefined;
}

export function regionOf(env: AwsEnv): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/** Wire or SDK for `service`, and on the wire the URL and the signing region. */
export function awsRoute(service: AwsService, env: AwsEnv): AwsRoute {
  if (
    !env.AWS_ACCESS_KEY_ID &&
    (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
  ) {
    return { wire: false, reason: 'credentials come from a container credentials endpoint' };
  }
  const configured = configuredEndpoint(service, env);
  const region = regionOf(env);
  if (configured) {
    let url: URL;
    try {
      url = new URL(configured);
    } catch {
      // Named so the call pipeline knows nothing was sent (resilience/delivery.ts).
      throw Object.assign(
        new Error(
          `AWS_ENDPOINT_URL_${service.endpointId} / AWS_ENDPOINT_URL = ${JSON.stringify(configured)} is not a URL; ` +
            'set it to the endpoint, e.g. http://127.0.0.1:4566',
        ),
        { name: 'InvalidEndpointError' },
      );
    }
    // A local endpoint takes any region; the SDK would refuse to sign without one.
    return { wire: true, url, region: region ?? 'us-east-1' };
  }
  if (on(env.AWS_USE_FIPS_ENDPOINT)) return { wire: false, reason: 'AWS_USE_FIPS_ENDPOINT is true' };
  if (on(env.AWS_USE_DUALSTACK_ENDPOINT)) return { wire: false, reason: 'AWS_USE_DUALSTACK_ENDPOINT is true' };
  if (!region) return { wire: false, reason: 'no AWS_REGION' };
  const suffix = PARTITIONS.find(([pattern]) => pattern.test(region))?.[1];
  if (!suffix) return { wire: false, reason: `region ${region} is outside the partitions the runtime knows` };
  return { wire: true, url: new URL(`https://${service.name}.${region}.${suffix}`), region };
}
