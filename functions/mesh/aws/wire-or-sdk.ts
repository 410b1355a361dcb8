/**
 * How every AWS caller of the runtime is made: on the wire where aws-endpoint.ts says the runtime can
 * reach the service itself (a signed request over a kept-alive client), else through the AWS SDK,
 * whose endpoint rules and credential providers cover the rest (FIPS, dual-stack, container
 * credentials, other partitions). The SDK client gets the configured endpoint and the region passed
 * explicitly: not every SDK release reads AWS_ENDPOINT_URL_<SERVICE>, and agents that open a new
 * connection after an idle spell, as the wire client does (sdk-agents.ts). The `sdk` path requires its
 * client itself, so the wire path never loads one.
 */
import { type AwsEnv, type AwsService, awsRoute, configuredEndpoint, regionOf } from './aws-endpoint';
import { AwsWireClient } from './aws-wire-client';
import { sdkRequestHandler } from './sdk-agents';

/** What an SDK client of the service is made with. */
export interface SdkClientConfig {
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly requestHandler?: ReturnType<typeof sdkRequestHandler>;
}

export interface AwsPaths<T> {
  /** What the requests are for, in the credentials error: "read the identity secret". */
  readonly purpose: string;
  readonly wire: (client: AwsWireClient) => T;
  readonly sdk: (config: SdkClientConfig) => T;
  /** The wire client's clock (signing dates, idle sockets). @default Date.now */
  readonly now?: () => number;
}

export function wireOrSdk<T>(service: AwsService, env: AwsEnv, paths: AwsPaths<T>): T {
  const route = awsRoute(service, env);
  if (!route.wire) {
    const requestHandler = sdkRequestHandler(paths.now);
    return paths.sdk({ endpoint: configuredEndpoint(service, env), region: regionOf(env), requestHandler });
  }
  const { url, region } = route;
  return paths.wire(
    new AwsWireClient({ url, region, service: service.name, env, purpose: paths.purpose, now: paths.now }),
  );
}
