/** The environment the runtime reads once (at first use), as a plain object tests can build. */
import { type HttpTargets, parseHttpTargets } from '../../shared/http-target';
import { ENV } from '../../shared/names';
import { type MetricDimensions, metricDimensionsOf } from '../../shared/telemetry/metric-dimensions';
import { parseRouteHeaderNames } from './routing/route-headers';

export interface RuntimeConfig {
  readonly meshName: string;
  readonly service: string;
  readonly disabled: boolean;
  readonly functionVersion: string;
  readonly xrayAddress?: string;
  /** The HTTP targets the deployment declared (MESH_HTTP_TARGETS); policy items never add one. */
  readonly httpTargets: HttpTargets;
  /** Routing header names besides the `x-route-` prefix (MESH_ROUTE_HEADERS), lower-case. */
  readonly routeHeaders: ReadonlySet<string>;
  /** The dimension sets its metrics are published under (MESH_METRIC_DIMENSIONS; default `standard`). */
  readonly metricDimensions: MetricDimensions;
}

export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeConfig {
  return {
    meshName: env[ENV.meshName] ?? 'mesh',
    service: env[ENV.service] ?? env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
    disabled: env[ENV.disabled] === 'true',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    xrayAddress: env.AWS_XRAY_DAEMON_ADDRESS,
    httpTargets: parseHttpTargets(env[ENV.httpTargets]),
    routeHeaders: parseRouteHeaderNames(env[ENV.routeHeaders]),
    metricDimensions: metricDimensionsOf(env[ENV.metricDimensions]),
  };
}
