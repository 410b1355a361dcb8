/**
 * A real restart of `mesh local` on one fixed port: calls, a `mesh shift`, an operator's deny, Ctrl-C,
 * then the same command again. The local mesh keeps nothing between runs (docs/local-mesh.md, "Stopping
 * and starting again"): the second run is a fresh deployment of the same assemblies, and every command
 * must say so rather than show the first run's state. No worker outlives the first run, and its port is
 * free for the second.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { meshArgs, type Run, run } from '../support/mesh-cli';
import { MESH_LOCAL_ENV, type ServedMesh, serveMeshLocal } from '../support/mesh-local-process';
import { observAssemblies } from '../support/observ-app/assemblies';
import { processAlive } from '../support/process-alive';

/** A port free now: taken from the system, then let go. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('mesh local stopped and started again on the same port', () => {
  const running: ServedMesh[] = [];
  /** `mesh local` on `port`, serving the fixture app's two releases. */
  const serve = (port: number) => {
    const { release1, release2 } = observAssemblies();
    return serveMeshLocal(['--assembly', release1, '--assembly', release2, '--port', String(port), '--quiet']);
  };
  const mesh = async (url: string, ...args: string[]): Promise<Run> => {
    const r = await run(process.execPath, await meshArgs(args), { ...MESH_LOCAL_ENV, AWS_ENDPOINT_URL: url });
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  const json = async (url: string, ...args: string[]) => JSON.parse((await mesh(url, ...args, '--json')).stdout);
  const calls = async (url: string, n: number) => {
    const lambda = new LambdaClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    for (let i = 0; i < n; i++)
      await lambda.send(new InvokeCommand({ FunctionName: 'observ-frontend', Qualifier: 'live', Payload: '{}' }));
    lambda.destroy();
  };
  const payments = (status: { services: { service: string; alias: { weights: unknown } }[] }) =>
    status.services.find((s) => s.service === 'payments')!.alias.weights;
  const denies = (items: { sk: string }[]) => items.filter((i) => i.sk.startsWith('deny#')).map((i) => i.sk);

  after(async () => {
    for (const s of running) {
      if (s.child.exitCode !== null) continue;
      s.child.kill('SIGINT');
      await s.exited;
    }
  });

  it('keeps no policy item, alias weight or counter of the first run, and leaves nothing behind', async () => {
    const port = await freePort();
    // The first run: traffic, a shift and a deny, as an operator makes them.
    const first = await serve(port);
    running.push(first);
    await calls(first.url, 5);
    await mesh(first.url, 'shift', 'payments', '20');
    await mesh(first.url, 'policy', 'deny', 'orders', 'payments', '--reason', 'incident-7');
    assert.deepEqual(payments(await json(first.url, 'status')), { '2': 0.2 });
    assert.deepEqual(denies(await json(first.url, 'policy', 'list', '--service', 'payments')), ['deny#orders']);
    assert.ok((await json(first.url, 'stat')).services.length > 0);
    const workers = ((await (await fetch(`${first.url}/_mesh/local`)).json()) as { workers: { pid: number }[] })
      .workers;
    assert.ok(workers.length > 0);
    // Ctrl-C
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 0);
    for (const { pid } of workers) assert.equal(processAlive(pid), false, `worker ${pid} outlived its mesh`);
    // The second run binds the same port, and holds what the assemblies deploy, nothing more.
    const second = await serve(port);
    running.push(second);
    assert.equal(second.url, first.url);
    assert.deepEqual(payments(await json(second.url, 'status')), { '2': 0.5 }, 'the weight the template sets');
    assert.deepEqual(denies(await json(second.url, 'policy', 'list', '--service', 'payments')), []);
    const policy = (await (await fetch(`${second.url}/_mesh/policy`)).json()) as { edges: { state: string }[] };
    assert.ok(
      policy.edges.every((e) => e.state === 'allowed'),
      "the dashboard's policy has no deny",
    );
    const stat = await json(second.url, 'stat');
    assert.deepEqual([stat.services, stat.edges], [[], []], 'no counter of the first run');
    assert.match((await mesh(second.url, 'stat')).stdout, /no traffic in this window/);
  });
});
