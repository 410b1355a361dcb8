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
import { type BenchResult, now, one, stats } from './support/bench-rows';

const HANDLER = join(__dirname, '../test/support/local-mesh-app/code/index.js');

export async function runLocalMeshBench(): Promise<BenchResult[]> {
  const { release1, release2 } = fixtureAssemblies();
  const mesh = await startLocalMesh({ assemblies: [release1, release2], port: 0, quiet: true, concurrencyLimit: 10 });
  const client = new LambdaClient(clientConfig(mesh.url));
  const payload = Buffer.from(JSON.stringify({ hello: 'mesh' }));
  const invoke = () => client.send(new InvokeCommand({ FunctionName: 'fixture-echo', Payload: payload }));
  const results: BenchResult[] = [];
  try {
    // 1. Warm round trip.
    for (let i = 0; i < 50; i++) await invoke();
    const warm: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = now();
      await invoke();
      warm.push(now() - t);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const direct = require(HANDLER).echo as (e: unknown) => Promise<unknown>;
    const inproc: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = now();
      await direct(JSON.parse(payload.toString()));
      inproc.push(now() - t);
    }
    results.push({
      name: 'local invoke round trip, warm',
      unit: 'ms',
      n: warm.length,
      mesh: stats(warm),
      baseline: stats(inproc),
      budget: { of: 'added-p50', max: 5 },
      note: 'SDK -> endpoint -> worker (fork/IPC) -> back; baseline: the handler called in-process',
    });

    // 2. Cold start: discard the environment, invoke again.
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
      await (require(HANDLER).echo as (e: unknown) => Promise<unknown>)({});
      coldDirect.push(now() - t2);
    }
    results.push({
      name: 'local invoke round trip, cold start',
      unit: 'ms',
      n: cold.length,
      mesh: stats(cold),
      baseline: stats(coldDirect),
      budget: { of: 'p50', max: 300 },
      note: 'a new worker process per call; baseline: first require + call in-process',
    });

    // 3. Sustained throughput: 8 concurrent callers for 3 s (under the concurrency limit of 10).
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
    results.push({
      name: 'local sustained invokes, 8 callers',
      unit: 'req/s',
      n: 1,
      mesh: one(meshRps),
      baseline: one(directRps),
      note: 'higher is better; 3 s of 8 concurrent SDK callers vs 8 in-process loops',
    });
  } finally {
    client.destroy();
    await mesh.stop();
  }
  return results;
}

if (require.main === module) {
  runLocalMeshBench()
    .then((results) => {
      if (process.argv.includes('--json')) {
        process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        return;
      }
      const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
      for (const r of results) {
        process.stdout.write(
          `${r.name.padEnd(32)} mesh p50 ${f(r.mesh.p50)} p99 ${f(r.mesh.p99)} ${r.unit}   in-process p50 ${f(r.baseline.p50)} p99 ${f(r.baseline.p99)} ${r.unit}\n`,
        );
      }
    })
    .catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    });
}
