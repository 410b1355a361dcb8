/**
 * The dashboard's metric queries: SEARCH expressions over the runtime's EMF metrics (namespace and one
 * standard dimension set each, shared/names.ts METRICS) and the math expressions that graph them.
 */
import { type Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS } from '../../shared/names';

/** A SEARCH schema: the namespace and one dimension set the runtime publishes. */
const schema = (set: readonly string[]) => `{${METRICS.namespace},${[...set].sort().join(',')}}`;
/** Per edge (caller -> callee), as the caller reports it, or the callee for a caller that reports nothing. */
export const EDGE_SCHEMA = schema(METRICS.edgeDimensions);
/** Per callee version, as the callee reports it. */
export const VERSION_SCHEMA = schema(METRICS.versionDimensions[0]);
/** Per callee version and response code (requests_total only). */
export const VERSION_CODE_SCHEMA = schema(METRICS.versionDimensions[1]);
/** The per-version set in a Metrics Insights FROM clause. */
export const VERSION_INSIGHTS_SCHEMA = `SCHEMA("${METRICS.namespace}", ${[...METRICS.versionDimensions[0]].sort().join(', ')})`;

/** SEARCH expressions quote values; a service name cannot hold a quote (SERVICE_NAME_PATTERN). */
export function q(value: string): string {
  return Token.isUnresolved(value) ? `"${value}"` : JSON.stringify(value);
}

/** SEARCH over one metric of the mesh namespace, narrowed by dimension values and any further terms. */
export function searchExpression(
  set: string,
  metric: string,
  filters: Record<string, string>,
  stat: string,
  period: Duration,
  extra = '',
): string {
  const terms = [`MetricName="${metric}"`, ...Object.entries(filters).map(([k, v]) => `${k}=${q(v)}`)];
  if (extra) terms.push(extra);
  return `SEARCH('${set} ${terms.join(' ').replace(/'/g, "\\'")}', '${stat}', ${period.toSeconds()})`;
}

/** A graph line of metric math over `period`. */
export function graphExpression(
  expression: string,
  label: string,
  period: Duration,
  color?: string,
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression,
    label,
    period,
    usingMetrics: {},
    ...(color ? { color } : {}),
  });
}
