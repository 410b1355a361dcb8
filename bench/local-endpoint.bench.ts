/**
 * The local endpoint's own cost: an Invoke round trip for a warm hello function, split so each layer's
 * share is visible, each next to a direct in-process call of the same handler (the baseline):
 * 1. endpoint + real SDK, in-process backend (HTTP, SigV4, dispatch, validation; no worker),
 * 2. endpoint with a bare HTTP client (the same minus the SDK's middleware and signing),
 * 3. the worker invoker alone (IPC to a warm worker; no HTTP),
 * 4. endpoint + SDK + warm worker (what a caller of the local mesh pays).
 * Run: npx tsx bench/local-endpoint.bench.ts [--json]
 * Each result: { name, unit, n, mesh, baseline } like the other benches (baseline = in-process call).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startEndpoint } from '../local/endpoint';
import { FunctionRegistry } from '../local/registry/function-registry';
import { LocalInvoker } from '../local/runtime/invoker';
import { TestInvoker, TestRegistry } from '../test/integration/local-endpoint-fixture';
import { type BenchResult, besideInProcess, runBenchScript, type Stats, stats, timeEach } from './support/bench-rows';

/** The endpoint's own share (HTTP + dispatch + validation, no SDK, no worker) at p50, in ms. */
export const ENDPOINT_ADDED_P50_BUDGET_MS = 2;

const N = 1000;
const WARMUP = 100;
const HELLO = 'exports.handler = async (event) => ({ hello: "world", event });\n';
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

type Handler = (e: unknown) => Promise<unknown>;

/** N timed calls after WARMUP unmeasured ones. */
const measure = (fn: () => Promise<unknown>) => timeEach(N, fn, WARMUP);

export async function runLocalEndpointBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'endpoint-bench-'));
  try {
    writeFileSync(join(dir, 'hello.js'), HELLO);
    const handler = require(join(dir, 'hello.js')).handler as Handler;
    const payload = Buffer.from('{"n":1}');
    const direct = () => handler(JSON.parse(payload.toString('utf8'))).then((r) => Buffer.from(JSON.stringify(r)));
    const baseline = stats(await measure(direct));
    return [...(await inProcessBackendRows(handler, payload, baseline)), ...(await workerRows(dir, payload, baseline))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-opt`, { recursive: true, force: true });
  }
}

/** 1 + 2: the endpoint over an in-process backend, with the SDK and with a bare HTTP client. */
async function inProcessBackendRows(handler: Handler, payload: Buffer, baseline: Stats): Promise<BenchResult[]> {
  const testRegistry = new TestRegistry();
  testRegistry.add('hello', (e) => handler(e));
  const testInvoker = new TestInvoker(testRegistry);
  const bare = await startEndpoint({ port: 0, registry: testRegistry, invoker: testInvoker });
  const bareClient = new LambdaClient({ endpoint: bare.url, region: 'us-east-1', credentials });
  try {
    const sdk = await measure(async () => {
      await bareClient.send(new InvokeCommand({ FunctionName: 'hello', Payload: payload }));
      testInvoker.calls.length = 0;
    });
    const url = `${bare.url}/2015-03-31/functions/hello/invocations`;
    const http = await measure(async () => {
      const res = await fetch(url, { method: 'POST', body: payload });
      await res.arrayBuffer();
      testInvoker.calls.length = 0;
    });
    return [
      { name: 'endpoint + SDK, in-process backend', unit: 'ms', n: N, mesh: stats(sdk), baseline },
      {
        name: 'endpoint + bare HTTP, in-process',
        unit: 'ms',
        n: N,
        mesh: stats(http),
        baseline,
        budget: { of: 'added-p50', max: ENDPOINT_ADDED_P50_BUDGET_MS },
        note: 'the endpoint alone: loopback HTTP, service dispatch, name/limit/JSON checks, registry lookup',
      },
    ];
  } finally {
    bareClient.destroy();
    await bare.close();
  }
}

/** 3 + 4: the local mesh's registry and worker invoker, alone and behind the endpoint. */
async function workerRows(dir: string, payload: Buffer, baseline: Stats): Promise<BenchResult[]> {
  const registry = new FunctionRegistry();
  registry.putFunction({
    name: 'hello',
    codeDir: dir,
    handler: 'hello.handler',
    runtime: 'nodejs20.x',
    timeout: 10,
    memorySize: 128,
    environment: {},
    layerDirs: [],
    codeSha256: 'bench',
  });
  // The invoker's work dir beside the code, not in it: it copies the code dir into its work dir.
  const invoker = new LocalInvoker({ registry, workDir: `${dir}-opt` });
  const endpoint = await startEndpoint({ port: 0, registry, invoker });
  invoker.setEndpointUrl(endpoint.url);
  const client = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials });
  try {
    let i = 0;
    const ipc = await measure(() =>
      invoker.invoke({
        functionName: 'hello',
        version: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hello',
        payload,
        invocationType: 'RequestResponse',
        logTail: false,
        requestId: `bench-${i++}`,
      }),
    );
    const full = await measure(() => client.send(new InvokeCommand({ FunctionName: 'hello', Payload: payload })));
    return [
      { name: 'worker invoker alone, warm', unit: 'ms', n: N, mesh: stats(ipc), baseline },
      { name: 'endpoint + SDK + warm worker', unit: 'ms', n: N, mesh: stats(full), baseline },
    ];
  } finally {
    client.destroy();
    await invoker.stop();
    await endpoint.close();
  }
}

if (require.main === module) runBenchScript(runLocalEndpointBench, (r) => besideInProcess(r, 38, 3, ''));
