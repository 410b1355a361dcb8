/**
 * The dashboard's metric queries: SEARCH expressions over the runtime's EMF metrics (namespace and one
 * standard dimension set each, shared/names.ts METRICS) and the math expressions that graph them.
 */
import { type Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS, metricNamespace } from '../../shared/names';

/** The SEARCH schemas and the Metrics Insights source of one mesh's metrics (its own namespace). */
export interface MeshQuerySchemas {
  /** Per edge (caller -> callee), as the caller reports it, or the callee for a caller that reports nothing. */
  readonly edge: string;
  /** Per callee version, as the callee reports it. */
  readonly version: string;
  /** Per callee version and response code (requests_total only). */
  readonly versionCode: string;
  /** The per-version set in a Metrics Insights FROM clause. */
  readonly versionInsights: string;
}

/**
 * The schemas of mesh `meshName`'s namespace (shared/names.ts metricNamespace). Its `/` and `-` make both
 * languages quote it: a SEARCH schema quotes a name holding other than letters and digits ("CloudWatch
 * search expression syntax"), and Metrics Insights one holding other than letters, digits and underscores
 * ("Metrics Insights query components and syntax").
 */
export function meshQuerySchemas(meshName: string): MeshQuerySchemas {
  const namespace = metricNamespace(meshName);
  const schema = (set: readonly string[]) => `{"${namespace}",${[...set].sort().join(',')}}`;
  return {
    edge: schema(METRICS.edgeDimensions),
    version: schema(METRICS.versionDimensions[0]),
    versionCode: schema(METRICS.versionDimensions[1]),
    versionInsights: `SCHEMA("${namespace}", ${[...METRICS.versionDimensions[0]].sort().join(', ')})`,
  };
}

/** SEARCH expressions quote values; a service name cannot hold a quote (SERVICE_NAME_PATTERN). */
export function q(value: string): string {
  return Token.isUnresolved(value) ? `"${value}"` : JSON.stringify(value);
}

/** SEARCH over one metric of a schema (`MeshQuerySchemas`), narrowed by dimension values and any further terms. */
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
