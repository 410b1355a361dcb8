/**
 * Local mesh speed: the Invoke round trip through the endpoint for a warm function, a worker's cold
 * start, and sustained requests/s — each next to a direct in-process call of the same handler, so the
 * mesh's own cost is visible. Run: npx tsx bench/local-mesh.bench.ts [--json]
 * Each result: { name, unit, n, p50, p99, mean, baseline: { p50, p99, mean } } (baseline = in-process).
 */

import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startLocalMesh } from '../local/mesh-local';
import { clientConfig, fixtureAssemblies } from '../test/support/example-assembly';
import { type BenchResult, besideInProcess, now, one, runBenchScript, stats, timeEach } from './support/bench-rows';

const HANDLER = join(__dirname, '../test/support/local-mesh-app/code/index.js');

type Handler = (e: unknown) => Promise<unknown>;

/** The echo function behind the local mesh, and the same handler in this process. */
interface EchoBench {
  readonly mesh: Awaited<ReturnType<typeof startLocalMesh>>;
  /** An Invoke through the endpoint with the real SDK. */
  readonly invoke: () => Promise<unknown>;
  readonly direct: Handler;
  readonly payload: Buffer;
}

export async function runLocalMeshBench(): Promise<BenchResult[]> {
  const { release1, release2 } = fixtureAssemblies();
  const mesh = await startLocalMesh({ assemblies: [release1, release2], port: 0, quiet: true, concurrencyLimit: 10 });
  const client = new LambdaClient(clientConfig(mesh.url));
  const payload = Buffer.from(JSON.stringify({ hello: 'mesh' }));
  const invoke = () => client.send(new InvokeCommand({ FunctionName: 'fixture-echo', Payload: payload }));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bench: EchoBench = { mesh, invoke, direct: require(HANDLER).echo as Handler, payload };
    return [await warmRow(bench), await coldStartRow(bench), await throughputRow(bench)];
  } finally {
    client.destroy();
    await mesh.stop();
  }
}

async function warmRow({ invoke, direct, payload }: EchoBench): Promise<BenchResult> {
  const warm = await timeEach(500, invoke, 50);
  const inproc = await timeEach(500, () => direct(JSON.parse(payload.toString())));
  return {
    name: 'local invoke round trip, warm',
    unit: 'ms',
    n: warm.length,
    mesh: stats(warm),
    baseline: stats(inproc),
    budget: { of: 'added-p50', max: 5 },
    note: 'SDK -> endpoint -> worker (fork/IPC) -> back; baseline: the handler called in-process',
  };
}

/** Cold start: discard the environment, invoke again; in-process, drop the module and require it again. */
async function coldStartRow({ mesh, invoke }: EchoBench): Promise<BenchResult> {
  const cold: number[] = [];
  const coldDirect: number[] = [];
  for (let i = 0; i < 20; i++) {
    await mesh.invoker.recycle('fixture-echo');
    const t = now();
    await invoke();
    cold.push(now() - t);
    delete require.cache[require.resolve(HANDLER)];
    const t2 = now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require(HANDLER).echo as Handler)({});
    coldDirect.push(now() - t2);
  }
  return {
    name: 'local invoke round trip, cold start',
    unit: 'ms',
    n: cold.length,
    mesh: stats(cold),
    baseline: stats(coldDirect),
    budget: { of: 'p50', max: 300 },
    note: 'a new worker process per call; baseline: first require + call in-process',
  };
}

/** Sustained throughput: 8 concurrent callers for 3 s (under the concurrency limit of 10). */
async function throughputRow({ invoke, direct }: EchoBench): Promise<BenchResult> {
  const rps = async (call: () => Promise<unknown>) => {
    const end = Date.now() + 3000;
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < end) {
          await call();
          n++;
        }
      }),
    );
    return n / 3;
  };
  const meshRps = await rps(invoke);
  const directRps = await rps(() => direct({}));
  return {
    name: 'local sustained invokes, 8 callers',
    unit: 'req/s',
    n: 1,
    mesh: one(meshRps),
    baseline: one(directRps),
    note: 'higher is better; 3 s of 8 concurrent SDK callers vs 8 in-process loops',
  };
}

if (require.main === module) runBenchScript(runLocalMeshBench, (r) => besideInProcess(r, 32, 2));
