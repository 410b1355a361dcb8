/**
 * Which CloudWatch dimension sets the runtime's metrics are published under. Every combination of
 * dimension values is one custom metric, billed per month ("Amazon CloudWatch pricing"), so the
 * default keeps per-call detail (response code, the version a caller reached) in log properties and
 * publishes per edge and per version only. Read by the runtime (MESH_METRIC_DIMENSIONS), checked by
 * the constructs, and counted by the scale model (docs/observability.md, "What a mesh is billed for").
 */
import { DEPLOYMENT, EXTERNAL, UNKNOWN_SOURCE } from '../names';

/**
 * `standard`: per edge (source, destination, reporter) and per callee version (with response_code for
 * requests only). `detailed`: also every (source, destination, version, response code, reporter).
 */
export type MetricDimensions = 'standard' | 'detailed';

export const METRIC_DIMENSIONS: readonly MetricDimensions[] = ['standard', 'detailed'];

export const DEFAULT_METRIC_DIMENSIONS: MetricDimensions = 'standard';

export function isMetricDimensions(value: unknown): value is MetricDimensions {
  return (METRIC_DIMENSIONS as readonly unknown[]).includes(value);
}

/** The environment's setting; unset or unrecognised is the default (the runtime never fails on telemetry). */
export function metricDimensionsOf(value: string | undefined): MetricDimensions {
  return isMetricDimensions(value) ? value : DEFAULT_METRIC_DIMENSIONS;
}

/**
 * Whether a caller records its own calls: a mesh service does; a caller outside the mesh, an
 * unverified one and the pre-traffic check do not, so the callee's record is the edge's only one.
 */
export function callerReportsItself(source: string): boolean {
  return source !== EXTERNAL && source !== UNKNOWN_SOURCE && source !== DEPLOYMENT.checkSource;
}
