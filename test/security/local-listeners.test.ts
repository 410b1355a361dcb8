/**
 * Attack: the local mesh's listeners serve whoever reaches them. On the local mesh running the example
 * app, as a web page would (DNS rebinding: its own name resolved to 127.0.0.1, or a cross-origin
 * "simple" request) and as another local process would (it finds a sandbox's MESH_ENDPOINT port from
 * /proc, as any process of the same user can):
 * - the AWS endpoint must refuse a Host that is not a loopback name and a request a foreign page sent,
 *   before it lists functions or invokes one;
 * - frontend's sandbox listener must refuse to call orders as frontend for a process that is not its own.
 * The AWS SDK and the `aws` CLI against http://127.0.0.1:<port> and http://localhost:<port> keep working.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { LIVE_ALIAS } from '../../shared/names';
import { awsClis, NO_AWS_CLI, runAwsCli } from '../support/aws-cli';
import {
  clientConfig,
  discoverMesh,
  localExampleAssemblies,
  startTestMesh,
  type TestMesh,
} from '../support/example-assembly';

const { assemblies, skip } = localExampleAssemblies();

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request with exactly these headers (fetch and the SDK would set Host and Origin themselves). */
function raw(
  port: number,
  opts: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path,
        method: opts.method,
        headers: opts.headers,
        setHost: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

/** TCP ports a process listens on, from /proc (what any process of the same user can read). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (hex addr:port), st is f[3] (0A = LISTEN), inode is f[9].
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(Number.parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

describe('attack: reaching the local mesh from a web page or another local process', { skip }, () => {
  let mesh: TestMesh;
  let port = 0;
  let lambda: LambdaClient;
  let fn = new Map<string, string>();

  before(async () => {
    mesh = await startTestMesh([assemblies!.release1, assemblies!.release2]);
    port = Number(new URL(mesh.url).port);
    lambda = new LambdaClient(clientConfig(mesh.url));
    ({ fn } = await discoverMesh(lambda));
  });

  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  const invocationsOf = (service: string, since: number) =>
    mesh
      .local!.recentInvocations()
      .slice(since)
      .filter((r) => r.functionName === fn.get(service));

  it('the endpoint refuses a rebinding Host before listing or invoking anything', async () => {
    const rebound = { host: `rebind.attacker.example:${port}` };
    const list = await raw(port, { method: 'GET', path: '/2015-03-31/functions/', headers: rebound });
    assert.equal(list.status, 403, `a rebound page read the function list: ${list.body.slice(0, 200)}`);
    assert.doesNotMatch(list.body, /shop-frontend|MESH_/);

    const since = mesh.local!.recentInvocations().length;
    const invoke = await raw(port, {
      method: 'POST',
      path: `/2015-03-31/functions/${fn.get('frontend')}/invocations?Qualifier=${LIVE_ALIAS}`,
      headers: { ...rebound, 'content-type': 'text/plain' },
      body: '{"action":"checkout"}',
    });
    assert.equal(invoke.status, 403);
    const scan = await raw(port, {
      method: 'POST',
      path: '/',
      headers: { ...rebound, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
      body: '{"TableName":"shop-policy"}',
    });
    // DynamoDB's protocol answers client errors with 400 and the code in __type.
    assert.equal(scan.status, 400, `a rebound page read the policy table: ${scan.body.slice(0, 200)}`);
    assert.match(scan.body, /"__type":"AccessDeniedException"/);
    assert.equal(invocationsOf('frontend', since).length, 0);
  });

  it('the endpoint refuses a request a page of another origin sent (no preflight needed for text/plain)', async () => {
    const since = mesh.local!.recentInvocations().length;
    const r = await raw(port, {
      method: 'POST',
      path: `/2015-03-31/functions/${fn.get('frontend')}/invocations?Qualifier=${LIVE_ALIAS}`,
      headers: { host: `127.0.0.1:${port}`, origin: 'https://attacker.example', 'content-type': 'text/plain' },
      body: '{"action":"checkout"}',
    });
    assert.equal(r.status, 403, `a foreign page invoked frontend: ${r.body.slice(0, 200)}`);
    assert.equal(invocationsOf('frontend', since).length, 0);
  });

  it("frontend's sandbox listener will not call orders as frontend for another local process", {
    skip: existsSync('/proc/net/tcp') ? false : 'finds the listener through /proc (Linux)',
  }, async () => {
    // A warm frontend sandbox: its layer opened MESH_ENDPOINT at init.
    const warm = await lambda.send(
      new InvokeCommand({
        FunctionName: fn.get('frontend'),
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from('{"action":"checkout"}'),
      }),
    );
    assert.equal(warm.FunctionError, undefined);
    const workers = mesh.local!.invoker.workers().filter((w) => w.functionName === fn.get('frontend') && w.pid);
    const ports = workers.flatMap((w) => listeningPorts(w.pid!));
    assert.ok(ports.length > 0, `no listening port found for frontend's workers (${workers.map((w) => w.pid)})`);

    const since = mesh.local!.recentInvocations().length;
    for (const p of ports) {
      const r = await raw(p, {
        method: 'POST',
        path: '/orders',
        headers: { host: `127.0.0.1:${p}`, 'content-type': 'application/json' },
        body: '{"sku":"sku-1","quantity":1000}',
      });
      assert.equal(r.status, 401, `port ${p} served another process: ${r.status} ${r.body.slice(0, 200)}`);
      const rebound = await raw(p, {
        method: 'POST',
        path: '/orders',
        headers: { host: `rebind.attacker.example:${p}`, 'content-type': 'text/plain' },
        body: '{}',
      });
      assert.equal(rebound.status, 403);
    }
    const asFrontend = invocationsOf('orders', since).filter((r) => r.source === 'frontend');
    assert.equal(asFrontend.length, 0, 'orders was called as frontend by a process that is not frontend');
  });

  it('the AWS SDK keeps working against 127.0.0.1:<port> and localhost:<port>', async () => {
    for (const endpoint of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const client = new LambdaClient(clientConfig(endpoint));
      try {
        const { Functions = [] } = await client.send(new ListFunctionsCommand({}));
        assert.ok(
          Functions.some((f) => f.FunctionName === fn.get('frontend')),
          endpoint,
        );
        const r = await client.send(
          new InvokeCommand({
            FunctionName: fn.get('frontend'),
            Qualifier: LIVE_ALIAS,
            Payload: Buffer.from('{"action":"checkout"}'),
          }),
        );
        assert.equal(r.FunctionError, undefined, `${endpoint}: ${Buffer.from(r.Payload ?? []).toString()}`);
      } finally {
        client.destroy();
      }
    }
  });

  const cli = awsClis()[0];
  it('the aws CLI keeps working against 127.0.0.1:<port> and localhost:<port>', {
    skip: cli ? false : NO_AWS_CLI,
  }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'security-cli-'));
    try {
      for (const endpoint of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
        const out = await runAwsCli(cli!.path, ['lambda', 'list-functions'], { endpointUrl: endpoint, home });
        assert.equal(out.code, 0, `aws CLI against ${endpoint}: ${out.stderr}`);
        assert.ok(
          JSON.parse(out.stdout).Functions.some((f: { FunctionName: string }) => f.FunctionName === fn.get('frontend')),
        );
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
