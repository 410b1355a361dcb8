/**
 * The CloudWatch dashboard queries what the runtime emits. The example app runs on the local mesh
 * under the demo's traffic (checkouts, and frontend's denied attempts to charge payments itself),
 * with an operator's mirror on payments, a short fault on inventory, then a tight rate limit on
 * inventory and a fault on payments with a fallback to inventory, so every kind of line occurs;
 * every EMF line the workers print is collected. Then each metric query of each widget of the
 * example app's synthesized dashboard is held to those lines:
 * - its schema is the namespace and one of the dimension sets the runtime's lines carry by default;
 * - a query of requests or latency finds lines of that metric with exactly its dimension values;
 * - a query of a counter that only some calls emit (denials, retries, breaker opens, rate-limited
 *   calls, fallbacks, mirror copies)
 *   finds lines of its edge, and lines of its metric from the same reporter;
 * and every edge that had denied calls, and every metric the runtime emitted, is graphed somewhere.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { demoPlan } from '../../local/start-command';
import { startTraffic, type Traffic } from '../../local/traffic';
import { ENV, METRICS, metricNamespace } from '../../shared/names';
import { matches, queriesOf } from '../support/dashboard-body';
import { exampleAssemblies } from '../support/example-assembly';
import { eventually, runMesh, setPolicy as setPolicyWith } from '../support/mesh-cli';

/** One dimension set of one directive of an EMF line of the mesh namespace, flattened. */
interface Line {
  /** The set's dimension names, sorted. */
  readonly set: string;
  readonly dims: Readonly<Record<string, string>>;
  readonly metrics: readonly string[];
}

/** The dimension sets the runtime publishes by default, as sorted name lists. */
const DEFAULT_SETS = new Set(
  [METRICS.edgeDimensions, ...METRICS.versionDimensions].map((s) => [...s].sort().join(',')),
);

/** Counters emitted only by some calls: their query must find its edge, and its metric from its reporter. */
const SOMETIMES = new Set<string>([
  METRICS.deniedTotal,
  METRICS.retriesTotal,
  METRICS.breakerOpenTotal,
  METRICS.rateLimitedTotal,
  METRICS.fallbackTotal,
  METRICS.mirrorRequestsTotal,
  METRICS.mirrorRequestDurationMs,
]);

/**
 * The dashboard body of a synthesized template, with CloudFormation tokens flattened to text: a
 * version's number as the local mesh published it (`versionOf`), anything else (the region) a mark.
 */
function dashboardWidgets(
  templateFile: string,
  versionOf: (functionName: string) => string | undefined,
): { title: string; expressions: string[] }[] {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const dash = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!;
  const version = (logicalId: string): string => {
    const fnRef = (template.Resources[logicalId]?.Properties.FunctionName as { Ref?: string } | undefined)?.Ref;
    const name = fnRef ? template.Resources[fnRef]?.Properties.FunctionName : undefined;
    return (typeof name === 'string' && versionOf(name)) || 'TOKEN';
  };
  const flat = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map(flat).join('');
    const o = v as Record<string, unknown>;
    if (o && 'Fn::Join' in o) return flat((o['Fn::Join'] as [string, unknown[]])[1]);
    const att = o?.['Fn::GetAtt'] as [string, string] | undefined;
    if (att?.[1] === 'Version') return version(att[0]);
    return 'TOKEN';
  };
  const body = JSON.parse(flat(dash.Properties.DashboardBody)) as {
    widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
  };
  return body.widgets
    .filter((w) => w.properties.metrics)
    .map((w) => ({
      title: w.properties.title ?? '',
      expressions: w.properties
        .metrics!.flat()
        .filter((x): x is { expression: string } => typeof (x as { expression?: unknown })?.expression === 'string')
        .map((x) => x.expression),
    }));
}

/** A breaker that, once open, lets a probe through after a second (the runtime's default: 30 s). */
const BREAKER_OPEN_1S = { openMs: 1_000 };

const example = exampleAssemblies();
describe('the dashboard queries what the runtime emits', { skip: example ? false : 'no example app' }, () => {
  let local: LocalMesh;
  let traffic: Traffic;
  const lines: Line[] = [];
  const seen = (metric: string, dims: Record<string, string> = {}) =>
    lines.some((l) => l.metrics.includes(metric) && Object.entries(dims).every(([k, v]) => l.dims[k] === v));
  /** The version release 2 published of a function: its canary. */
  const newestVersion = (functionName: string) =>
    local.deployments
      .flatMap((d) => d.versions)
      .filter((v) => v.functionName === functionName)
      .at(-1)?.version;
  const setPolicy = (service: string, items: unknown[]) => setPolicyWith(local.url, service, items);

  before(async () => {
    local = await startLocalMesh({
      assemblies: [example!.release1, example!.release2],
      port: 0,
      quiet: true,
      onLog: (_fn, _version, line) => {
        if (!line.startsWith('{') || !line.includes('"_aws"')) return;
        const o = JSON.parse(line) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
        };
        for (const d of o._aws.CloudWatchMetrics) {
          if (d.Namespace !== metricNamespace('shop')) continue;
          for (const set of d.Dimensions) {
            lines.push({
              set: [...set].sort().join(','),
              dims: Object.fromEntries(set.map((k) => [k, String(o[k])])),
              metrics: d.Metrics.map((m) => m.Name),
            });
          }
        }
      },
    });
    const services = new Map<string, string>();
    for (const f of local.registry.listFunctions()) {
      const svc = f.Environment?.Variables?.[ENV.service];
      if (svc) services.set(svc, f.FunctionName);
    }
    traffic = startTraffic({ url: local.url, plan: demoPlan(services), rps: 20, concurrency: 3 });
    // A caller outside the mesh tries orders, which admits none: the callee's own denial.
    const outside = new LambdaClient({
      endpoint: local.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    await outside.send(new InvokeCommand({ FunctionName: `${services.get('orders')}:live`, Payload: '{}' }));
    outside.destroy();
    // An operator mirrors payments to its canary, and breaks inventory for a moment. The breakers this
    // opens (orders' on inventory, and frontend's on orders, which fails with it) stay open for a second,
    // not the default 30 s: the checkouts and the rate limit below only flow once they have closed, and
    // no line this test looks for needs them to stay open longer.
    await setPolicy('payments', [{ sk: 'route', mirror: { version: '2', percent: 50 } }]);
    await setPolicy('orders', [{ sk: 'traffic', breaker: BREAKER_OPEN_1S }]);
    await setPolicy('inventory', [
      { sk: 'fault', abort: { percent: 100 } },
      { sk: 'traffic', breaker: BREAKER_OPEN_1S },
    ]);
    await eventually('a breaker opening on orders -> inventory', () => seen(METRICS.breakerOpenTotal), 120_000);
    assert.equal((await runMesh(local.url, ['policy', 'delete', 'inventory', 'fault'])).code, 0);
    await eventually(
      'checkouts, denials, retries and mirror copies',
      () =>
        [METRICS.deniedTotal, METRICS.retriesTotal, METRICS.mirrorRequestsTotal].every((m) => seen(m)) &&
        seen(METRICS.requestsTotal, {
          destination_workload: 'payments',
          destination_version: '2',
          reporter: 'destination',
        }) &&
        seen(METRICS.requestsTotal, { destination_workload: 'inventory', reporter: 'source' }) &&
        seen(METRICS.requestsTotal, {
          destination_workload: 'payments',
          response_code: '200',
          reporter: 'destination',
        }),
      120_000,
    );
    // A limit orders' checkouts exceed, then payments failing with a fallback declared for it (the
    // charge is idempotent, so a function error may fail over): orders refuses calls over the limit,
    // and the fallback serves the charges payments fails.
    await setPolicy('inventory', [
      { sk: 'traffic', rateLimit: { perSecond: 0.5, burst: 1 }, breaker: BREAKER_OPEN_1S },
    ]);
    await eventually('a call refused over the rate limit', () => seen(METRICS.rateLimitedTotal), 120_000);
    assert.equal((await runMesh(local.url, ['policy', 'delete', 'inventory', 'traffic'])).code, 0);
    await setPolicy('payments', [
      { sk: 'fault', abort: { percent: 100 } },
      { sk: 'traffic', fallback: { service: 'inventory', onFunctionError: true } },
    ]);
    await eventually('a call a fallback served', () => seen(METRICS.fallbackTotal), 120_000);
    for (const sk of ['fault', 'traffic'])
      assert.equal((await runMesh(local.url, ['policy', 'delete', 'payments', sk])).code, 0);
    await traffic.stop();
  });

  after(async () => {
    await traffic?.stop();
    await local?.stop();
  });

  it('every widget query has the schema of the runtime’s lines and finds the lines it is about', () => {
    const template = readdirSync(example!.release2).find((f) => f.endsWith('.template.json'))!;
    const widgets = dashboardWidgets(join(example!.release2, template), newestVersion);
    const queries = widgets.flatMap((w) => w.expressions.flatMap((e) => queriesOf(w.title, e)));
    assert.ok(queries.length > 20, `queries found: ${queries.length}`);
    const problems: string[] = [];
    for (const q of queries) {
      const where = `${q.widget}: ${q.text}`;
      const set = [...q.schema].sort().join(',');
      // Only the default sets: every metricDimensions setting publishes them.
      if (q.namespace !== metricNamespace('shop') || !DEFAULT_SETS.has(set)) {
        problems.push(`${where}\n  schema ${q.namespace} ${q.schema.join(',')} is not a default set of the runtime`);
        continue;
      }
      const ofMetric = lines.filter((l) => l.set === set && l.metrics.includes(q.metric));
      if (SOMETIMES.has(q.metric)) {
        const edge = lines.some((l) => l.set === set && matches(l, q));
        const reporter = q.filters.reporter;
        const metric = ofMetric.some((l) => reporter === undefined || l.dims.reporter === reporter);
        if (!edge || !metric)
          problems.push(`${where}\n  ${!edge ? 'no line of this edge' : 'no line of this metric from this reporter'}`);
      } else if (!ofMetric.some((l) => matches(l, q))) {
        problems.push(`${where}\n  no ${q.metric} line with ${JSON.stringify(q.filters)}`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('graphs every edge that had denied calls, declared or not, and every metric the runtime emitted', () => {
    const template = readdirSync(example!.release2).find((f) => f.endsWith('.template.json'))!;
    const queries = dashboardWidgets(join(example!.release2, template), newestVersion).flatMap((w) =>
      w.expressions.flatMap((e) => queriesOf(w.title, e)),
    );
    const deniedEdges = lines.filter((l) => l.metrics.includes(METRICS.deniedTotal));
    // frontend's attempts to charge payments itself: an edge the policy never declared.
    assert.ok(
      deniedEdges.some((l) => l.dims.source_workload === 'frontend' && l.dims.destination_workload === 'payments'),
    );
    for (const l of deniedEdges) {
      assert.ok(
        queries.some(
          (q) => q.metric === METRICS.deniedTotal && [...q.schema].sort().join(',') === l.set && matches(l, q),
        ),
        `no widget shows the denials of ${JSON.stringify(l.dims)}`,
      );
    }
    for (const metric of new Set(lines.flatMap((l) => l.metrics))) {
      assert.ok(
        queries.some((q) => q.metric === metric),
        `the runtime emits ${metric}, and no widget graphs it`,
      );
    }
    // Mirror copies are graphed apart: no requests query can count them.
    const mirrorLines = lines.filter((l) => l.metrics.includes(METRICS.mirrorRequestsTotal));
    assert.ok(mirrorLines.length > 0);
    assert.ok(mirrorLines.every((l) => !l.metrics.includes(METRICS.requestsTotal)));
  });
});
