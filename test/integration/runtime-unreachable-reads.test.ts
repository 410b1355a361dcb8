/**
 * A function whose policy table or identity secret is out of reach (a function in a VPC with no route
 * to DynamoDB or Secrets Manager): the AWS endpoint here accepts connections and never answers, as a
 * blackholed route does. Each read would wait out 3 attempts of 3 s; the wrapper refuses the request
 * before the function's timeout instead, with the reason in its access log, where Lambda would
 * otherwise end it as `Task timed out` with nothing to say why.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MeshTimeoutError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { runWrapper, writeHelloSnapshot } from '../support/wrapper-process';

const INDEX = join(__dirname, '../../functions/mesh/index.ts');

/** The access log line of the (one) invocation. */
function accessLog(stdout: string): { outcome?: string; reason?: string } {
  const line = stdout.split('\n').find((l) => l.includes('"type":"mesh-access"'));
  assert.ok(line, `an access log line in:\n${stdout}`);
  return JSON.parse(line);
}

describe('reads that outlast the invocation', () => {
  let dir = '';
  let silent: Server;
  const held: Socket[] = [];
  let endpoint = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-unreachable-'));
    silent = createServer((socket) => held.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  after(() => {
    for (const socket of held) socket.destroy();
    silent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>, clientContext?: unknown) =>
    runWrapper({
      wrapper: INDEX,
      handler: 'cjs-handler.handler',
      events: [{ n: 1 }],
      nodePath: join(dir, 'node_modules'),
      typescript: true,
      clientContext,
      // Far less than the reads' 9 s, and far more than a process needs to start on a busy machine.
      remainingMs: 2_500,
      timeoutMs: 8_000,
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        // The deploy-time snapshot is older than the cache's bound: the first request reads the table.
        MESH_POLICY_SNAPSHOT: writeHelloSnapshot(join(dir, 'policy.json'), { callers: ['orders'] }),
        MESH_POLICY_TABLE: 'shop-policy',
        ...env,
      },
    });

  test('a policy table that never answers: the caller is refused before the timeout, the log says why', () => {
    const { answers, stdout } = run({});
    assert.equal(answers[0]?.error?.name, 'MeshDeniedError');
    assert.doesNotMatch(
      answers[0]?.error?.message ?? '',
      /table|timeout/,
      'the caller learns only that it was refused',
    );
    const log = accessLog(stdout);
    assert.equal(log.outcome, 'denied');
    assert.match(
      log.reason ?? '',
      /^stale-policy: the policy table did not answer before the function's timeout \(\d+ ms left\)$/,
    );
  });

  test('an identity secret that never answers: a mesh caller is refused as unauthenticated, the log says why', () => {
    const meta = { v: 1, src: 'orders', tok: 'a.b.c.d', idk: 'k1', dl: Date.now() + 600_000 };
    const { answers, stdout } = run({ MESH_IDENTITY_SECRET: 'shop/identity/hello' }, { custom: { mesh: meta } });
    assert.equal(answers[0]?.error?.name, 'MeshUnauthenticatedError');
    const log = accessLog(stdout);
    assert.equal(log.outcome, 'unauthenticated');
    assert.match(
      log.reason ?? '',
      /^identity-unavailable: Secrets Manager did not answer before the function's timeout/,
    );
  });

  test("an outbound call waiting for its target's policy: ended at the call's own deadline, not after the read's 9 s", async () => {
    const lines: string[] = [];
    const rt = new MeshRuntime({
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
      config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
      // No snapshot: the first call to payments reads the table, which never answers.
      policy: { tableName: 'shop-policy', snapshotPath: null },
      transport: { invoke: () => assert.fail('a refused call sends nothing') },
      sink: (l) => lines.push(...l.split('\n')),
      identity: async () => undefined,
    });
    const started = Date.now();
    await assert.rejects(
      rt.client.call('payments', {}, { timeoutMs: 300, idempotencyKey: 'k-1' }),
      (err: Error) =>
        err instanceof MeshTimeoutError &&
        err.message ===
          "mesh: call to payments has no time left: the policy table did not answer before the call's deadline (300 ms)",
    );
    const waited = Date.now() - started;
    assert.ok(waited < 4_000, `ended after ${waited} ms, well before the read's 3 attempts of 3 s`);
    const log = accessLog(lines.join('\n'));
    assert.equal(log.outcome, 'timeout');
    assert.equal(log.reason, "stale-policy: the policy table did not answer before the call's deadline (300 ms)");
  });
});
