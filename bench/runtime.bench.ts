/**
 * Runtime speed against baselines measured in the same run (cold starts and the layer's size are
 * bench/cold-start.bench.ts):
 * - per hop, warm: call() + the callee's wrapper (the mesh's Invoke on the wire) vs a direct SDK Invoke
 *   of the same function on the same loopback Invoke endpoint (<= +0.1 ms p50, <= +0.5 ms p99); and,
 *   for the mesh's own share, vs the same signed Invoke without the mesh; CPU per call
 * - routing accuracy of SWRR over 1,000 calls, and failed calls before a failing canary is ejected
 * - for the record: what loading Powertools Tracer + Metrics costs (why telemetry is hand-written)
 * Run: npx tsx bench/runtime.bench.ts [--json]. Rows: { name, unit, n, mesh, baseline, budget? }.
 */
import { execFileSync } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MeshRuntime } from '../functions/mesh/mesh-runtime';
import { chooseRoute, RouteBalancers } from '../functions/mesh/routing/route-choice';
import { LambdaInvokeTransport } from '../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../functions/mesh/wrapper';
import { lambdaClientConfig, startLambdaInvokeServer } from '../test/support/lambda-invoke-server';
import { type BenchResult, now, one, runBenchScript, stats } from './support/bench-rows';

export type { BenchResult, Budget } from './support/bench-rows';

/** For the record: the naive telemetry choice. */
function powertoolsLoad(): BenchResult {
  const pt: number[] = [];
  for (let i = 0; i < 5; i++) {
    const script = `const t=process.hrtime.bigint();require('@aws-lambda-powertools/tracer');require('@aws-lambda-powertools/metrics');process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    pt.push(Number(execFileSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' })));
  }
  return {
    name: 'powertools tracer+metrics load',
    unit: 'ms',
    n: pt.length,
    mesh: stats(pt),
    baseline: one(0),
    note: 'not used: hand-written EMF/X-Ray wire format',
  };
}

/** The runtime's Invoke transport to the loopback server: the wire path, as in a deployed function. */
function wireTransport(url: string): LambdaInvokeTransport {
  return new LambdaInvokeTransport({
    env: { AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  });
}

/** A service's mesh runtime in the bench mesh: its policy from a snapshot of `items`, Invoke on the wire. */
function benchRuntime(
  url: string,
  service: string,
  items: Record<string, unknown>[],
  sink: (line: string) => void,
): MeshRuntime {
  return new MeshRuntime({
    env: {},
    config: { meshName: 'bench', service },
    policy: { snapshot: { mesh: 'bench', generatedAt: '', items }, snapshotPath: null },
    transport: wireTransport(url),
    sink,
    identity: async () => undefined,
  });
}

/** The three ways of one hop to hello on the loopback Invoke server. */
interface Hop {
  readonly server: Awaited<ReturnType<typeof startLambdaInvokeServer>>;
  /** A direct SDK Invoke of the bare function. */
  readonly directCall: () => Promise<unknown>;
  /** orders' `call()` to hello, whose function runs behind the mesh wrapper. */
  readonly meshCall: () => Promise<unknown>;
  /** The same signed Invoke the mesh sends, without the mesh: what the mesh itself adds. */
  readonly wireCall: () => Promise<unknown>;
}

async function perHop(): Promise<BenchResult[]> {
  const hop = await startHop();
  try {
    for (let i = 0; i < 400; i++) {
      await hop.directCall();
      await hop.meshCall();
      await hop.wireCall();
    }
    const N = 4000;
    const { base, mesh, wire } = await interleaved(hop, N);
    // CPU: per side in blocks (process.cpuUsage cannot split interleaved calls).
    const cpuBase = await cpuPerCall(hop.directCall, 1000);
    const cpuMesh = await cpuPerCall(hop.meshCall, 1000);
    return [
      {
        name: 'per hop: call()+wrapper vs SDK Invoke',
        unit: 'ms',
        n: N,
        mesh: stats(mesh),
        baseline: stats(base),
        budget: { of: 'added-p50', max: 0.1 },
      },
      {
        name: 'per hop p99',
        unit: 'ms',
        n: N,
        mesh: stats(mesh),
        baseline: stats(base),
        budget: { of: 'added-p99', max: 0.5 },
      },
      {
        name: 'per hop: call()+wrapper vs the same wire Invoke',
        unit: 'ms',
        n: N,
        mesh: stats(mesh),
        baseline: stats(wire),
        note: "the mesh's own share: route, policy, breaker, budget, metadata, the callee's wrapper, telemetry",
      },
      { name: 'per hop CPU per call', unit: 'ms', n: 1000, mesh: one(cpuMesh), baseline: one(cpuBase) },
    ];
  } finally {
    await hop.server.close();
  }
}

async function startHop(): Promise<Hop> {
  const devnull = openSync('/dev/null', 'w');
  const sink = (l: string) => void writeSync(devnull, `${l}\n`);
  const items = [
    { pk: 'hello', sk: 'service', functionName: 'bench-hello-wrapped' },
    { pk: 'hello', sk: 'allow#orders', source: 'orders' },
  ];
  const helloFn = async (event: unknown) => ({ hello: (event as { name?: string } | null)?.name ?? 'world' });
  let callee!: ReturnType<typeof wrapHandler>;
  const server = await startLambdaInvokeServer({
    'bench-hello': { versions: { '1': helloFn }, aliases: { live: { version: '1' } } },
    'bench-hello-wrapped': { versions: { '1': (e, c) => callee(e, c) }, aliases: { live: { version: '1' } } },
  });
  const rt = (service: string) => benchRuntime(server.url, service, items, sink);
  callee = wrapHandler(rt('hello'), helloFn);
  const orders = rt('orders');
  const direct = new LambdaClient(lambdaClientConfig(server.url));
  const payload = { name: 'mesh', order: 'o-1', items: [1, 2, 3] };
  const bareWire = wireTransport(server.url);
  return {
    server,
    directCall: async () => {
      const out = await direct.send(
        new InvokeCommand({
          FunctionName: 'bench-hello',
          Qualifier: 'live',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      return JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
    },
    meshCall: () => orders.call('hello', payload),
    wireCall: async () => {
      const out = await bareWire.invoke({
        functionName: 'bench-hello',
        qualifier: 'live',
        payload: Buffer.from(JSON.stringify(payload)),
        clientContext: Buffer.from('{}').toString('base64'),
        signal: new AbortController().signal,
      });
      return JSON.parse(Buffer.from(out.payload).toString('utf8'));
    },
  };
}

/**
 * Latency: direct, mesh and wire calls alternate one by one, so bursts of load from other processes on
 * this shared machine land on every side alike (blocks of calls made p99 a coin toss).
 */
async function interleaved(hop: Hop, n: number) {
  const base: number[] = [];
  const mesh: number[] = [];
  const wire: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = now();
    await hop.directCall();
    base.push(now() - t);
    t = now();
    await hop.meshCall();
    mesh.push(now() - t);
    t = now();
    await hop.wireCall();
    wire.push(now() - t);
  }
  return { base, mesh, wire };
}

/** CPU time (user + system) per call over n calls in a block, ms. */
async function cpuPerCall(fn: () => Promise<unknown>, n: number): Promise<number> {
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / n / 1000;
}

function routing(): BenchResult {
  const weights = { '1': 0.9, '2': 0.1 };
  const route = { pk: 'x', sk: 'route' as const, weights };
  const balancers = new RouteBalancers();
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const v = chooseRoute({ target: 'payments', route, balancers }).version!;
    counts[v] = (counts[v] ?? 0) + 1;
  }
  const deviation = Math.max(...Object.entries(weights).map(([v, w]) => Math.abs((counts[v] ?? 0) / 1000 - w))) * 100;
  return {
    name: 'routing: SWRR deviation, 1000 calls',
    unit: '%',
    n: 1000,
    mesh: one(deviation),
    baseline: one(0),
    budget: { of: 'p50', max: 1 },
    note: JSON.stringify(counts),
  };
}

async function breakerReaction(): Promise<BenchResult> {
  let server: Awaited<ReturnType<typeof startLambdaInvokeServer>> | undefined;
  server = await startLambdaInvokeServer({
    'bench-pay': {
      versions: {
        '1': () => ({ ok: 1 }),
        '2': () => {
          throw Object.assign(new Error('bad canary'), { name: 'CanaryBug' });
        },
      },
    },
  });
  try {
    const items = [
      { pk: 'pay', sk: 'service', functionName: 'bench-pay' },
      { pk: 'pay', sk: 'allow#orders', source: 'orders', retries: { maxAttempts: 1 } },
      { pk: 'pay', sk: 'route', weights: { '1': 0.9, '2': 0.1 } },
    ];
    const rt = benchRuntime(server.url, 'orders', items, () => undefined);
    let failed = 0;
    for (let i = 0; i < 300; i++) await rt.call('pay', { i }).catch(() => failed++);
    return {
      name: 'breaker: failed calls before ejection',
      unit: 'calls',
      n: 300,
      mesh: one(failed),
      baseline: one(0),
      budget: { of: 'p50', max: 5 },
    };
  } finally {
    await server.close();
  }
}

/** Only the per-hop loop (for profiling): `npx tsx bench/runtime.bench.ts --hop`. */
export { perHop };

export async function runRuntimeBench(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [powertoolsLoad()];
  rows.push(...(await perHop()));
  rows.push(routing());
  rows.push(await breakerReaction());
  return rows;
}

if (require.main === module) {
  runBenchScript(
    process.argv.includes('--hop') ? perHop : runRuntimeBench,
    (r) =>
      `${r.name.padEnd(40)} mesh p50 ${r.mesh.p50.toFixed(3)} p99 ${r.mesh.p99.toFixed(3)} baseline p50 ${r.baseline.p50.toFixed(3)} ${r.unit}`,
  );
}
