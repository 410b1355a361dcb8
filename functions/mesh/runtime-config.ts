/** The environment the runtime reads once (at first use), as a plain object tests can build. */
import { ENV } from '../../shared/names';
import { parseRouteHeaderNames } from './routing/route-headers';

export interface RuntimeConfig {
  readonly meshName: string;
  readonly service: string;
  readonly disabled: boolean;
  readonly functionVersion: string;
  readonly xrayAddress?: string;
  /** Routing header names besides the `x-route-` prefix (MESH_ROUTE_HEADERS), lower-case. */
  readonly routeHeaders: ReadonlySet<string>;
}

export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeConfig {
  return {
    meshName: env[ENV.meshName] ?? 'mesh',
    service: env[ENV.service] ?? env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
    disabled: env[ENV.disabled] === 'true',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    xrayAddress: env.AWS_XRAY_DAEMON_ADDRESS,
    routeHeaders: parseRouteHeaderNames(env[ENV.routeHeaders]),
  };
}
