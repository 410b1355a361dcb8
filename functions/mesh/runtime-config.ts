/** The environment the runtime reads once (at first use), as a plain object tests can build. */
import type { HttpTargets } from '../../shared/http-target';
import { ENV } from '../../shared/names';
import { type MetricDimensions, metricDimensionsOf } from '../../shared/telemetry/metric-dimensions';
import { parseRouteHeaderNames } from './routing/route-headers';

export interface RuntimeConfig {
  readonly meshName: string;
  readonly service: string;
  readonly disabled: boolean;
  readonly functionVersion: string;
  /** The region this function runs in (AWS_REGION); a fallback elsewhere is signed with that region's identity. */
  readonly region?: string;
  readonly xrayAddress?: string;
  /**
   * The HTTP targets the deployment declared (MESH_HTTP_TARGETS); policy items never add one. Parsed
   * on the first read, by the outbound pipeline's file: only calls and a deployment's ping read them.
   */
  readonly httpTargets: HttpTargets;
  /**
   * Routing header names besides the `x-route-` prefix (MESH_ROUTE_HEADERS), lower-case. Parsed on the
   * first read: only an HTTP event and a call read them.
   */
  readonly routeHeaders: ReadonlySet<string>;
  /** The dimension sets its metrics are published under (MESH_METRIC_DIMENSIONS; default `standard`). */
  readonly metricDimensions: MetricDimensions;
}

export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeConfig {
  let httpTargets: HttpTargets | undefined;
  let routeHeaders: ReadonlySet<string> | undefined;
  return {
    meshName: env[ENV.meshName] ?? 'mesh',
    service: env[ENV.service] ?? env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
    disabled: env[ENV.disabled] === 'true',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    xrayAddress: env.AWS_XRAY_DAEMON_ADDRESS,
    get httpTargets() {
      httpTargets ??= (require('./outbound-entry') as typeof import('./outbound-entry')).parseHttpTargets(
        env[ENV.httpTargets],
      );
      return httpTargets;
    },
    get routeHeaders() {
      routeHeaders ??= parseRouteHeaderNames(env[ENV.routeHeaders]);
      return routeHeaders;
    },
    metricDimensions: metricDimensionsOf(env[ENV.metricDimensions]),
  };
}

/** `base` with the fields of `override` in place of its own, its lazy fields left unread. */
export function withConfig(base: RuntimeConfig, override: Partial<RuntimeConfig> | undefined): RuntimeConfig {
  return override ? Object.defineProperties(base, Object.getOwnPropertyDescriptors(override)) : base;
}
