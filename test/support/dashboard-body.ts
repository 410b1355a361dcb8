/**
 * A synthesized CloudWatch dashboard as tests read it: its widgets, the bytes its body adds to the
 * template, and the metric queries of its graphs (SEARCH expressions and Metrics Insights SELECTs), parsed
 * far enough to tell which dimension values a query finds.
 */

/** One metric query of a widget: a SEARCH, or a Metrics Insights SELECT. */
export interface Query {
  readonly widget: string;
  readonly text: string;
  readonly namespace: string;
  readonly schema: readonly string[];
  readonly metric: string;
  /** Dimension values every matching line must carry. */
  readonly filters: Readonly<Record<string, string>>;
  /** Groups of alternatives (`(response_code="200" OR ...)`): a line must match one of each group. */
  readonly anyOf: readonly (readonly [string, string][])[];
}

function pairs(text: string): [string, string][] {
  return [...text.matchAll(/([A-Za-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]);
}

/** The metric queries in one widget expression. */
export function queriesOf(widget: string, expression: string): Query[] {
  const out: Query[] = [];
  for (const m of expression.matchAll(/SEARCH\('((?:[^'\\]|\\.)*)',\s*'[^']+',\s*\d+\)/g)) {
    const inner = m[1]!;
    const schema = /^\{([^}]*)\}/.exec(inner)![1]!.split(',');
    let rest = inner.slice(inner.indexOf('}') + 1);
    const anyOf = [...rest.matchAll(/\(([^()]*)\)/g)].map((g) => pairs(g[1]!));
    rest = rest.replace(/\([^()]*\)/g, '');
    const all = Object.fromEntries(pairs(rest));
    const { MetricName, ...filters } = all;
    out.push({
      widget,
      text: m[0],
      // A namespace holding other than letters and digits is quoted in a schema.
      namespace: schema[0]!.replace(/^"(.*)"$/, '$1'),
      schema: schema.slice(1),
      metric: MetricName!,
      filters,
      anyOf,
    });
  }
  const select = /^SELECT SUM\((\w+)\) FROM SCHEMA\("([^"]+)", ([^)]*)\)(?: WHERE (.*?))?(?: GROUP BY .*)?$/.exec(
    expression,
  );
  if (select) {
    const filters = Object.fromEntries(
      [...(select[4] ?? '').matchAll(/(\w+) = '([^']*)'/g)].map((w) => [w[1]!, w[2]!]),
    );
    out.push({
      widget,
      text: expression,
      namespace: select[2]!,
      schema: select[3]!.split(',').map((d) => d.trim()),
      metric: select[1]!,
      filters,
      anyOf: [],
    });
  }
  return out;
}

/** Whether a line with these dimension values is one a query finds. */
export function matches(
  line: { readonly dims: Readonly<Record<string, string>> },
  q: Pick<Query, 'filters' | 'anyOf'>,
) {
  if (!Object.entries(q.filters).every(([k, v]) => line.dims[k] === v)) return false;
  return q.anyOf.every((group) => group.some(([k, v]) => line.dims[k] === v));
}

/** CloudFormation's cap on a template's size (`cdk deploy` sends a big one through S3). */
export const TEMPLATE_BYTES_MAX = 1024 * 1024;

/** A template as the assembly holds it. */
interface TemplateJson {
  readonly Resources: Readonly<Record<string, { readonly Type?: string; readonly Properties?: unknown }>>;
}

/** A synthesized dashboard: its widgets, what its body adds to the template, and its graphs' queries. */
export interface SynthesizedDashboard {
  readonly widgets: readonly { readonly type: string; readonly properties: Record<string, unknown> }[];
  /** The body as the template holds it, in bytes of JSON (what it adds to the template's size). */
  readonly bodyBytes: number;
  readonly queries: readonly Query[];
}

/** The one dashboard of a template, CloudFormation tokens in its body flattened to a mark. */
export function synthesizedDashboard(template: TemplateJson): SynthesizedDashboard {
  const dashboards = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) throw new Error(`${dashboards.length} dashboards in the template`);
  const raw = (dashboards[0]!.Properties as { DashboardBody: unknown }).DashboardBody;
  const flat = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map(flat).join('');
    if (v && typeof v === 'object' && 'Fn::Join' in v)
      return flat((v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]);
    return 'TOKEN';
  };
  const widgets = (JSON.parse(flat(raw)) as SynthesizedDashboard).widgets;
  const queries = widgets.flatMap((w) => {
    const title = String(w.properties.title ?? '');
    const metrics = (w.properties.metrics as unknown[][] | undefined) ?? [];
    return metrics
      .flat()
      .filter((x): x is { expression: string } => typeof (x as { expression?: unknown })?.expression === 'string')
      .flatMap((x) => queriesOf(title, x.expression));
  });
  return { widgets, bodyBytes: JSON.stringify(raw).length, queries };
}

/** Whether some graph's query of `metric` over the dimension set `set` finds the line with `dims`. */
export function graphs(
  dashboard: SynthesizedDashboard,
  metric: string,
  set: readonly string[],
  dims: Readonly<Record<string, string>>,
): boolean {
  const wanted = [...set].sort().join(',');
  return dashboard.queries.some(
    (q) => q.metric === metric && [...q.schema].sort().join(',') === wanted && matches({ dims }, q),
  );
}
