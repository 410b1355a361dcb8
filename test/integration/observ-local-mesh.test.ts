/**
 * Observability through the real local mesh (contract 8): workers print EMF lines and send X-Ray
 * subsegments over UDP, the local mesh writes each invocation's function segment, and `mesh stat`,
 * `mesh trace` and `mesh check` read it all back over HTTP like an operator would.
 *
 * Two apps: the observability fixture (test/support/observ-app, a stand-in runtime that emits what the
 * runtime emits — always present), and the example app with the real runtime (infra/app.ts), when it
 * is in the tree.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { startLocalMesh, type LocalMesh } from '../../local/mesh-local';
import { main } from '../../cli/main';
import { processContext } from '../../cli/context';
import type { Trace, TraceSpan, StatsSnapshot } from '../../local/telemetry/telemetry-store';
import { observAssemblies } from '../support/observ-app/assemblies';
import { exampleAssemblies } from '../support/example-assembly';
import { ENV } from '../../shared/names';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' };
  const code = await main(args, processContext({ env, out: (t) => out.push(t), err: (t) => err.push(t) }));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

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
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'observ-frontend', Qualifier: 'live', Payload: Buffer.from(JSON.stringify(payload)) }));
    return JSON.parse(Buffer.from(r.Payload!).toString()) as Record<string, unknown>;
  };

  before(async () => {
    const a = observAssemblies();
    mesh = await startLocalMesh({ assemblies: [a.release1, a.release2], port: 0, quiet: true });
    lambda = new LambdaClient({ endpoint: mesh.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  it('one request through frontend -> orders -> payments is one trace of three linked hops with annotations', async () => {
    // Act
    await invoke({ item: 'first' });
    // Assess: the subsegments arrive over UDP, so wait for the whole trace.
    const trace = await until('a trace with three services', () => {
      const t = mesh.store.traces(1)[0];
      const full = t && mesh.store.trace(t.id);
      return full && flatten(full.roots).length >= 5 ? full : undefined;
    });
    assert.equal(trace.roots.length, 1, 'every span hangs off the entry function');
    assert.deepEqual(trace.services, ['observ-frontend', 'observ-orders', 'observ-payments']);
    const spans = flatten(trace.roots);
    assert.deepEqual(spans.map((s) => [s.name, s.depth]), [
      ['observ-frontend', 0], ['orders', 1], ['observ-orders', 2], ['payments', 3], ['observ-payments', 4],
    ]);
    const calls = spans.filter((s) => s.kind === 'subsegment');
    assert.deepEqual(calls.map((c) => [c.annotations.source, c.annotations.target, c.annotations.attempt]), [['frontend', 'orders', 1], ['orders', 'payments', 1]]);
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
    assert.match(text.out, /payments .* v1 \d+% \(100%\)  v2 \d+% \(0\.0%\)/);
    assert.match(text.out, /orders\s+-> payments\s+2 /);
  });

  it('`mesh check` passes on every mesh function of the local mesh', async () => {
    const res = await cli(['check', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 0, res.out + res.err);
    for (const s of ['admin', 'frontend', 'orders', 'payments']) assert.match(res.out, new RegExp(`^${s} \\(observ-${s}\\)$`, 'm'));
    assert.match(res.out, /√ mesh layer attached \(observ-mesh-runtime\)/);
    assert.match(res.out, /√ alias live \(v1 \+ canary v2 50%\)/);
    assert.match(res.out, /- identity readable/);
    assert.match(res.out, /Status check results are √: 20 passed, 0 failed/);
    const bad = await cli(['check', '--service', 'nope', '--endpoint-url', mesh.url]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown service "nope" in mesh observ; known services: admin, frontend, orders, payments/);
  });
});

const example = exampleAssemblies();
describe('observability on the local mesh (example app, real runtime)', { skip: example ? false : 'the example app (infra/app.ts) is not in the tree yet' }, () => {
  let mesh: LocalMesh;
  before(async () => {
    mesh = await startLocalMesh({ assemblies: [example!.release1, example!.release2], port: 0, quiet: true });
  });
  after(() => mesh?.stop());

  it('traffic through the example app yields traces with linked hops and golden metrics per edge', async () => {
    const lambda = new LambdaClient({ endpoint: mesh.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      const frontend = mesh.registry.listFunctions().find((f) => f.Environment?.Variables?.[ENV.service] === 'frontend')?.FunctionName;
      assert.ok(frontend, 'the example app has a frontend service');
      for (let i = 0; i < 10; i++) {
        await lambda.send(new InvokeCommand({ FunctionName: frontend, Qualifier: 'live', Payload: Buffer.from('{}') }));
      }
    } finally {
      lambda.destroy();
    }
    const trace = await until('a trace across three functions', () => {
      for (const t of mesh.store.traces(10)) if (t.services.length >= 3) return mesh.store.trace(t.id);
      return undefined;
    });
    const calls = flatten(trace!.roots).filter((s) => s.kind === 'subsegment' && s.annotations.target !== undefined);
    assert.ok(calls.length >= 2, 'two mesh calls with annotations');
    const res = await cli(['stat', '--json', '--endpoint-url', mesh.url]);
    assert.equal(res.code, 0, res.err);
    const s = JSON.parse(res.out) as StatsSnapshot;
    assert.ok(s.edges.some((e) => e.destination === 'payments' && e.requests > 0), JSON.stringify(s.edges));
  });
});
