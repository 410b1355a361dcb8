/**
 * Observability through the real local mesh: workers print EMF lines and send X-Ray
 * subsegments over UDP, the local mesh writes each invocation's function segment, and `mesh stat`,
 * `mesh trace` and `mesh check` read it all back over HTTP like an operator would (and CloudWatch's
 * ListMetrics, on the SDK and in its query protocol, lists the metrics the example app's real runtime published).
 *
 * Two apps: the observability fixture (test/support/observ-app, a stand-in runtime that emits what the
 * runtime emits — always present), and the example app with the real runtime (infra/app.ts), when it
 * is in the tree.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, ListMetricsCommand, type ListMetricsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { ENV, LIVE_ALIAS, METRICS, metricNamespace } from '../../shared/names';
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import type { Trace, TraceSpan } from '../../shared/telemetry/trace-assembler';
import { exampleAssemblies } from '../support/example-assembly';
import { meshInProcess } from '../support/mesh-in-process';
import { observAssemblies } from '../support/observ-app/assemblies';
import { queryRequest, xmlValues } from '../support/query-client';
import { warmEnvironments } from '../support/warm-environments';

const cli = (args: string[]) =>
  meshInProcess(args, {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  });

function flatten(spans: readonly TraceSpan[]): TraceSpan[] {
  return spans.flatMap((s) => [s, ...flatten(s.children)]);
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('observability on the local mesh (fixture app)', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  const invoke = async (payload: unknown) => {
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: 'observ-frontend',
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
    return JSON.parse(Buffer.from(r.Payload!).toString()) as Record<string, unknown>;
  };

  before(async () => {
    const a = observAssemblies();
    mesh = await startLocalMesh({ assemblies: [a.release1, a.release2], port: 0, quiet: true });
    lambda = new LambdaClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  it('one request through frontend -> orders -> payments is one trace of three linked hops with annotations', async () => {
    // Act
    await invoke({ item: 'first' });
    // Assess: the subsegments arrive over UDP, so wait for the whole trace (complete: every hop in).
    const trace = await until('a complete trace with three services', () => {
      const full = mesh.store.lastComplete();
      return full && flatten(full.roots).length >= 5 ? full : undefined;
    });
    assert.equal(trace.roots.length, 1, 'every span hangs off the entry function');
    assert.deepEqual(trace.services, ['observ-frontend', 'observ-orders', 'observ-payments']);
    const spans = flatten(trace.roots);
    assert.deepEqual(
      spans.map((s) => [s.name, s.depth]),
      [
        ['observ-frontend', 0],
        ['orders', 1],
        ['observ-orders', 2],
        ['payments', 3],
        ['observ-payments', 4],
      ],
    );
    const calls = spans.filter((s) => s.kind === 'subsegment');
    assert.deepEqual(
      calls.map((c) => [c.annotations.source, c.annotations.target, c.annotations.attempt]),
      [
        ['frontend', 'orders', 1],
        ['orders', 'payments', 1],
      ],
    );
    for (const c of calls) {
      assert.ok(['1', '2'].includes(String(c.annotations.version)));
      assert.ok(c.annotations.outcome === 'ok' || c.annotations.outcome === 'error');
      assert.ok(c.durationMs! >= c.children[0]!.durationMs!, 'a call lasts at least as long as the function it called');
    }

    // The same trace through the CLI, as JSON and as a waterfall.
    const json = await cli(['trace', trace.id, '--json', '--endpoint-url', mesh.url]);
    assert.equal(json.code, 0, json.err);
    const parsed = JSON.parse(json.out) as Trace & { source: string };
    assert.equal(parsed.source, 'local');
    assert.equal(parsed.id, trace.id);
    const last = await cli(['trace', '--last', '--endpoint-url', mesh.url]);
    assert.equal(last.code, 0, last.err);
    const lines = last.out.split('\n');
    assert.match(lines[0]!, new RegExp(`^trace ${trace.id} .* observ-frontend -> observ-orders -> observ-payments`));
    assert.equal(lines.filter((l) => l.includes('|') && l.includes('█')).length, 5, last.out);
    assert.match(last.out, /source=orders target=payments version=\d attempt=1 outcome=(ok|error)/);
  });

  it('a failing canary shows a falling success rate for its version in `mesh stat --json`; a denied edge counts in denied_total', async () => {
    // Act: release 2 of payments fails every call and takes half the traffic; one call to admin is denied.
    for (let i = 0; i < 24; i++) await invoke({ item: `n${i}` });
    await invoke({ admin: true });
    // Assess
    const res = await cli(['stat', '--json', '--window', '5m', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 0, res.err);
    const s = JSON.parse(res.out) as StatsSnapshot & { source: string };
    assert.equal(s.source, 'local');
    const payments = s.services.find((x) => x.service === 'payments')!;
    const v1 = payments.versions.find((v) => v.version === '1')!;
    const v2 = payments.versions.find((v) => v.version === '2')!;
    assert.ok(v2.requests > 0 && v1.requests > 0, `both versions took traffic: ${JSON.stringify(payments.versions)}`);
    assert.equal(v1.successRate, 1);
    assert.equal(v2.successRate, 0);
    assert.ok(payments.successRate! < 1);
    const edge = s.edges.find((e) => e.source === 'orders' && e.destination === 'payments' && e.version === '2')!;
    assert.equal(edge.successRate, 0);
    assert.ok(edge.p50 !== null && edge.p99! >= edge.p50);
    const denied = s.edges.find((e) => e.source === 'frontend' && e.destination === 'admin')!;
    assert.ok(denied.denied >= 1);

    const text = await cli(['stat', '--endpoint-url', mesh.url, '--service', 'payments']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^local mesh, last 60s/);
    assert.match(text.out, /payments .* v1 \d+% \(100%\) {2}v2 \d+% \(0\.0%\)/);
    assert.match(text.out, /orders\s+-> payments\s+2 /);
  });

  it('`mesh check` passes on every mesh function of the local mesh', async () => {
    const res = await cli(['check', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 0, res.out + res.err);
    for (const s of ['admin', 'frontend', 'orders', 'payments'])
      assert.match(res.out, new RegExp(`^${s} \\(observ-${s}\\)$`, 'm'));
    assert.match(res.out, /√ mesh layer attached \(observ-mesh-runtime\)/);
    assert.match(res.out, /√ alias live \(v1 \+ canary v2 50%\)/);
    assert.match(res.out, /- identity readable/);
    assert.match(res.out, /Status check results are √: 36 passed, 0 failed/);
    const bad = await cli(['check', '--service', 'nope', '--endpoint-url', mesh.url]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown service "nope" in mesh observ; known services: admin, frontend, orders, payments/);
  });

  // Last in this suite: it removes the policy table.
  it('`mesh check` fails with a fix, exit 1, when the policy table is gone', async () => {
    const { DynamoDBClient, DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
    const db = new DynamoDBClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await db.send(new DeleteTableCommand({ TableName: 'observ-policy' }));
    } finally {
      db.destroy();
    }
    const res = await cli(['check', '--service', 'orders', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 1, res.out + res.err);
    assert.match(
      res.out,
      /× policy table reachable\n {4}DescribeTable observ-policy: .*\n {4}fix: deploy the Mesh \(it owns the table observ-policy\)/,
    );
    assert.match(res.out, /Status check results are ×: 4 passed, 1 failed/);
  });
});

const example = exampleAssemblies();
describe('observability on the local mesh (example app, real runtime)', {
  skip: example ? false : 'the example app (infra/app.ts) is not in the tree yet',
}, () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  const fn = new Map<string, string>();
  const invoke = (service: string, payload: unknown) =>
    lambda.send(
      new InvokeCommand({
        FunctionName: fn.get(service),
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [example!.release1, example!.release2], port: 0, quiet: true });
    lambda = new LambdaClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    for (const f of mesh.registry.listFunctions()) {
      const service = f.Environment?.Variables?.[ENV.service];
      if (service) fn.set(service, f.FunctionName!);
    }
  });
  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  /** Invokes the frontend once and waits until its trace is whole (subsegments arrive over UDP, last). */
  const checkoutTrace = async () => {
    const before = new Set(mesh.store.traces(200).map((t) => t.id));
    const r = await invoke('frontend', { action: 'checkout', sku: 'sku-1', quantity: 1 });
    assert.equal(r.FunctionError, undefined);
    return until("the checkout's trace, whole", () => {
      for (const t of mesh.store.traces(5)) {
        if (before.has(t.id)) continue;
        const full = mesh.store.trace(t.id);
        const spans = full ? flatten(full.roots) : [];
        const calls = spans.filter((x) => x.kind === 'subsegment' && x.annotations.target !== undefined);
        const names = spans.map((x) => x.name);
        if (
          full &&
          full.roots.length === 1 &&
          calls.length >= 3 &&
          ['frontend', 'orders', 'payments'].every((x) => names.includes(fn.get(x)!))
        )
          return full;
      }
      return undefined;
    });
  };

  it('one checkout through frontend -> orders -> payments is one trace with linked, annotated hops', async () => {
    const trace = await checkoutTrace();
    assert.equal(trace.roots[0]!.name, fn.get('frontend'), 'the entry function is the root');
    const spans = flatten(trace.roots);
    for (const [source, target] of [
      ['frontend', 'orders'],
      ['orders', 'payments'],
    ] as const) {
      const call = spans.find(
        (x) => x.kind === 'subsegment' && x.annotations.source === source && x.annotations.target === target,
      );
      assert.ok(call, `a ${source} -> ${target} call subsegment`);
      assert.ok(
        call.children.some((c) => c.name === fn.get(target)),
        `${target}'s function segment hangs under the call`,
      );
      for (const k of ['version', 'attempt', 'outcome'])
        assert.notEqual(call.annotations[k], undefined, `annotation ${k} on ${source} -> ${target}`);
    }
  });

  it('ListMetrics on the SDK lists what a checkout published: the edge it took and Lambda metrics of the function', async () => {
    await checkoutTrace();
    const frontend = mesh.registry.listFunctions().find((f) => f.FunctionName === fn.get('frontend'));
    const namespace = metricNamespace(frontend?.Environment?.Variables?.[ENV.meshName] ?? '');
    const cloudWatch = new CloudWatchClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const edge = { Namespace: namespace, MetricName: METRICS.requestsTotal };
      const filters = [
        { Name: 'source_workload', Value: 'frontend' },
        { Name: 'destination_workload', Value: 'orders' },
        { Name: 'reporter' },
      ];
      // A worker's EMF lines reach the local mesh through its stdout, on their own time.
      let listed: ListMetricsCommandOutput | undefined;
      for (let i = 0; i < 100 && !listed?.Metrics?.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        listed = await cloudWatch.send(
          new ListMetricsCommand({ ...edge, Dimensions: filters, RecentlyActive: 'PT3H' }),
        );
      }
      const dimensions = listed?.Metrics?.map((m) => Object.fromEntries(m.Dimensions!.map((d) => [d.Name, d.Value])));
      assert.deepEqual(dimensions, [
        { source_workload: 'frontend', destination_workload: 'orders', reporter: 'source' },
      ]);
      const lambdaMetrics = await cloudWatch.send(
        new ListMetricsCommand({
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: fn.get('frontend') }],
        }),
      );
      const names = new Set(lambdaMetrics.Metrics?.map((m) => m.MetricName));
      assert.deepEqual([...names].sort(), ['Duration', 'Errors', 'Invocations']);
      // The same listing in CloudWatch's query protocol, as older clients (Debian's aws CLI 2.9) ask.
      const query = await queryRequest(
        { endpoint: mesh.url, service: 'monitoring' },
        {
          Action: 'ListMetrics',
          Version: '2010-08-01',
          Namespace: 'AWS/Lambda',
          'Dimensions.member.1.Name': 'FunctionName',
          'Dimensions.member.1.Value': fn.get('frontend')!,
        },
      );
      assert.equal(query.status, 200, query.body);
      assert.deepEqual([...new Set(xmlValues(query.body, 'MetricName'))].sort(), [...names].sort());
    } finally {
      cloudWatch.destroy();
    }
  });

  it("each service's outgoing calls hang under its own function segment", async () => {
    const spans = flatten((await checkoutTrace()).roots);
    const call = spans.find(
      (x) => x.kind === 'subsegment' && x.annotations.source === 'orders' && x.annotations.target === 'payments',
    )!;
    assert.equal(spans.find((x) => x.id === call.parentId)?.name, fn.get('orders'));
  });

  /**
   * Every version a round of `concurrency` checkouts reaches gets that many environments, so the round
   * waits on no cold start: started all at once on busy cores, they can outlast orders' 2 s per-try
   * timeout to payments, and the stable version would count the refusals (504) as its own failures.
   * frontend admits outside callers, so it is warmed with a charge its own mesh refuses before any call.
   */
  const warmCheckoutPath = async (concurrency: number) => {
    const live = async (service: string) =>
      (await lambda.send(new GetAliasCommand({ FunctionName: fn.get(service), Name: LIVE_ALIAS }))).FunctionVersion!;
    const targets = [
      { functionName: fn.get('frontend')!, version: await live('frontend'), payload: { action: 'pay-direct' } },
      { functionName: fn.get('orders')!, version: await live('orders') },
      { functionName: fn.get('inventory')!, version: await live('inventory') },
      { functionName: fn.get('payments')!, version: '1' },
      { functionName: fn.get('payments')!, version: '2' },
    ];
    for (const target of targets) await warmEnvironments(lambda, mesh, target, concurrency);
  };

  it('a call the policy refuses before any attempt shows in its trace: the trace is `refused`', async () => {
    // Act: frontend charges payments itself, an edge the policy does not declare; its mesh refuses it.
    const before = new Set(mesh.store.traces(1000).map((t) => t.id));
    const r = await invoke('frontend', { action: 'pay-direct' });
    assert.match(Buffer.from(r.Payload!).toString(), /"denied":true/);
    // Assess
    const listed = await until('the refused call in its trace', () =>
      mesh.store.traces(50).find((t) => !before.has(t.id) && t.complete && t.outcome === 'refused'),
    );
    const refusal = flatten(mesh.store.trace(listed.id)!.roots).find((s) => s.annotations.outcome === 'denied');
    assert.deepEqual(
      [refusal?.annotations.source, refusal?.annotations.target, refusal?.annotations.attempt, refusal?.error],
      ['frontend', 'payments', 0, true],
    );
    assert.equal(listed.fault || listed.error, false, 'frontend answered well: no HasFault, no HasError');
  });

  it("`mesh trace` lists the app's traces and leaves out the mesh's control functions' unless --all", async () => {
    // Arrange: an operator's write on an edge nobody uses makes the policy version bumper run: a trace
    // rooted at a control function. Then one checkout of the app.
    const services = new Set(
      mesh.registry.listFunctions().flatMap((f) => (f.Environment?.Variables?.[ENV.service] ? [f.FunctionName!] : [])),
    );
    const deny = await cli(['policy', 'deny', 'inventory', 'frontend', '--endpoint-url', mesh.url]);
    assert.equal(deny.code, 0, deny.err);
    const control = await until('a trace of a control function', () =>
      mesh.store.traces(1000).find((t) => !services.has(t.root)),
    );
    const undo = await cli(['policy', 'delete', 'frontend', 'deny#inventory', '--endpoint-url', mesh.url]);
    assert.equal(undo.code, 0, undo.err);
    const app = await checkoutTrace();
    // `--last` shows the newest complete trace: wait until every hop of this one has arrived (the
    // queue's consumer answers last) and nothing came for a moment.
    await until('the checkout trace complete', () => mesh.store.traces(50).find((t) => t.id === app.id && t.complete));

    // Act
    const list = await cli(['trace', '--limit', '1000', '--json', '--endpoint-url', mesh.url]);
    const all = await cli(['trace', '--all', '--limit', '1000', '--json', '--endpoint-url', mesh.url]);
    const last = await cli(['trace', '--last', '--json', '--endpoint-url', mesh.url]);
    const text = await cli(['trace', '--endpoint-url', mesh.url]);

    // Assess
    type Listed = { traces: { id: string; root: string }[]; hidden: number };
    assert.equal(list.code, 0, list.err);
    const listed = JSON.parse(list.out) as Listed;
    assert.deepEqual(
      listed.traces.filter((t) => !services.has(t.root)),
      [],
      'every listed trace starts at a mesh service',
    );
    assert.ok(
      listed.traces.some((t) => t.id === app.id),
      "the app's request is listed",
    );
    assert.ok(listed.hidden >= 1, `the control function's trace is counted as left out: ${list.out}`);
    const everything = JSON.parse(all.out) as Listed;
    assert.ok(
      everything.traces.some((t) => t.id === control.id),
      '--all lists the control trace too',
    );
    assert.equal(everything.hidden, 0);
    assert.equal(last.code, 0, last.err);
    assert.ok(services.has((JSON.parse(last.out) as Trace).roots[0]!.name), '--last is a trace of the app');
    assert.match(text.out, /\(\d+ traces? of the mesh's control functions left out; --all lists them\)$/);
  });

  it('a failing canary shows a falling success rate for its version in `mesh stat --json`; a denied edge counts in denied_total', async () => {
    // Give payments' release 2 (fails a fifth of its calls) half the traffic, so it sees enough calls.
    const { UpdateAliasCommand } = await import('@aws-sdk/client-lambda');
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: fn.get('payments'),
        Name: LIVE_ALIAS,
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
      }),
    );
    // 96 checkouts, CHECKOUTS_AT_ONCE at a time, each hop on a warm environment. Every environment the
    // warm-up starts is a worker process that costs CPU time; how many calls run at once is not what the
    // test measures.
    const CHECKOUTS_AT_ONCE = 4;
    await warmCheckoutPath(CHECKOUTS_AT_ONCE);
    // The warm-up's refusals are not the test's: dropped with everything counted so far. A worker writes
    // its metric lines before it answers, so those of the warm-up are all in the store by now.
    mesh.store.clear();
    for (let i = 0; i < 96 / CHECKOUTS_AT_ONCE; i++)
      await Promise.all(
        Array.from({ length: CHECKOUTS_AT_ONCE }, () =>
          invoke('frontend', { action: 'checkout', sku: 'sku-1', quantity: 1 }),
        ),
      );
    // orders accepts calls from frontend only: an outside caller is refused.
    const refused = await invoke('orders', { sku: 'sku-1', quantity: 1 });
    assert.equal(refused.FunctionError, 'Unhandled');

    const res = await cli(['stat', '--json', '--window', '5m', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 0, res.err);
    const s = JSON.parse(res.out) as StatsSnapshot;
    const payments = s.services.find((x) => x.service === 'payments')!;
    const v1 = payments.versions.find((v) => v.version === '1')!;
    const v2 = payments.versions.find((v) => v.version === '2')!;
    assert.ok(v1 && v2 && v2.requests > 20, JSON.stringify(payments.versions));
    assert.equal(v1.successRate, 1, `the stable version does not fail: ${JSON.stringify(v1.codes)}`);
    assert.ok(v2.successRate! < 1, `the canary's success rate falls: ${v2.successRate}`);
    const denied = s.edges.find((e) => e.source === 'external' && e.destination === 'orders');
    assert.ok(denied && denied.denied >= 1, JSON.stringify(s.edges.map((e) => [e.source, e.destination, e.denied])));
    assert.ok(s.edges.some((e) => e.source === 'orders' && e.destination === 'inventory' && e.successRate === 1));

    // The canary's failed attempts show in the traces: every trace with a failed hop is listed by
    // `--failed`, and one whose checkout a retry recovered is `retried`, not a fault (the entry answered
    // well, as X-Ray's HasFault says), so an operator sees it needed a retry.
    const marked = await until('the traces of the failed attempts, all arrived', () => {
      const all = mesh.store.traces(1000);
      if (all.some((t) => !t.complete)) return undefined;
      const failed = all.filter((t) => flatten(mesh.store.trace(t.id)!.roots).some((x) => x.fault || x.error));
      return failed.length > 0 ? failed : undefined;
    });
    const failedList = await cli([
      'trace',
      '--failed',
      '--all',
      '--limit',
      '1000',
      '--json',
      '--endpoint-url',
      mesh.url,
    ]);
    assert.equal(failedList.code, 0, failedList.err);
    type Listed = { id: string; fault: boolean; outcome: string };
    const listed = (JSON.parse(failedList.out) as { traces: Listed[] }).traces;
    assert.deepEqual(listed.map((t) => t.id).sort(), marked.map((t) => t.id).sort(), 'no failed hop is lost');
    const retried = listed.filter((t) => t.outcome === 'retried');
    assert.ok(retried.length > 0, JSON.stringify(listed));
    assert.ok(
      retried.every((t) => !t.fault),
      'a checkout a retry recovered is no fault',
    );
    // The outside call orders refused: its entry answered with a function error, a fault.
    assert.ok(listed.some((t) => t.outcome === 'fault' && t.fault));
    const throughPayments = await cli([
      'trace',
      '--failed',
      '--service',
      'payments',
      '--limit',
      '1000',
      '--json',
      '--endpoint-url',
      mesh.url,
    ]);
    const viaPayments = (JSON.parse(throughPayments.out) as { traces: Listed[] }).traces;
    // A checkout whose every attempt failed (rare) is a fault; the rest were recovered by a retry.
    assert.ok(
      viaPayments.every((t) => t.outcome === 'retried' || t.outcome === 'fault'),
      JSON.stringify(viaPayments),
    );
    assert.ok(
      retried.every((t) => viaPayments.some((v) => v.id === t.id)),
      'the retried checkouts went through payments',
    );
    const table = await cli(['trace', '--failed', '--limit', '1000', '--endpoint-url', mesh.url]);
    assert.match(table.out, /OUTCOME/);
    assert.match(table.out, / retried /);
  });

  it('`mesh check` passes on every function of the example app, identity included', async () => {
    const res = await cli(['check', '--json', '--endpoint-url', mesh.url]);
    const report = JSON.parse(res.out) as {
      failed: number;
      passed: number;
      services: { service: string; checks: { check: string; status: string }[] }[];
    };
    assert.equal(res.code, 0, res.out);
    assert.equal(report.failed, 0);
    assert.deepEqual(report.services.map((s) => s.service).sort(), [...fn.keys()].sort());
    for (const s of report.services) {
      assert.equal(s.checks.find((c) => c.check === 'identity readable')?.status, 'pass', `${s.service}: identity`);
    }
  });
});
