/**
 * The runtime's entry (functions/mesh/index.ts, which the layer bundles) run from its TypeScript
 * source in fresh processes, as Lambda's runtime would run the layer: the wrapper boots at init with
 * MESH_ENDPOINT set before the user's module loads, `mesh.call` makes its runtime from the
 * environment, MESH_DISABLED passes events straight through, and a handler that cannot load fails the
 * init as Lambda reports it.
 */

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, runWrapper, writeHelloSnapshot } from '../support/wrapper-process';

const INDEX = join(__dirname, '../../functions/mesh/index.ts');

describe('runtime entry (functions/mesh/index.ts) from source', () => {
  let dir = '';
  let nodePath = '';
  let snapshot = '';
  let task = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-index-test-'));
    // The handlers run from a copy outside this repository, as from Lambda's /var/task: inside it, a
    // require of `lambda-mesh` may resolve to this package itself rather than to the layer's copy.
    task = join(dir, 'task');
    cpSync(FIXTURES, task, { recursive: true });
    // `require('lambda-mesh/runtime')` in the fixtures resolves to the same source module as the wrapper
    // (here through tsconfig's paths, as the layer's lambda-mesh/runtime.js does in Lambda).
    nodePath = join(dir, 'node_modules');
    mkdirSync(join(nodePath, 'lambda-mesh'), { recursive: true });
    writeFileSync(join(nodePath, 'lambda-mesh', 'runtime.js'), `module.exports = require(${JSON.stringify(INDEX)});\n`);
    snapshot = writeHelloSnapshot(join(dir, 'policy.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (handler: string, events: unknown[], env: Record<string, string> = {}, clientContext?: unknown) =>
    runWrapper({
      clientContext,
      wrapper: INDEX,
      handler,
      events,
      nodePath,
      taskRoot: task,
      typescript: true,
      env: { MESH_POLICY_SNAPSHOT: snapshot, ...env },
    });

  test('boots at init: MESH_ENDPOINT is set before the user module loads; call() and the endpoint refuse typed', () => {
    const { answers } = run('endpoint-at-init.handler', [{}, { via: 'call' }, { via: 'endpoint' }], {
      MESH_ENDPOINT_PORT: '0',
    });
    const [init, viaCall, viaEndpoint] = answers.map((a) => a.result);
    assert.match(init?.seenAtInit ?? '', /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}$/);
    assert.equal(init?.seenAtInit, init?.now);
    assert.deepEqual(viaCall, { denied: true, isMeshError: true, code: 'MeshDenied' });
    assert.equal(viaEndpoint?.status, 403);
    assert.equal(viaEndpoint?.body?.errorType, 'MeshDeniedError');
  });

  test('wraps the handler: its result comes back, and the invocation is measured (EMF on stdout)', () => {
    const { answers, stdout } = run('cjs-handler.handler', [{ a: 1 }]);
    assert.deepEqual(answers[0]?.result, { ok: true, event: { a: 1 }, version: '1', format: 'cjs' });
    assert.match(stdout, /"_aws":\{"Timestamp":\d+,"CloudWatchMetrics"/);
  });

  test('MESH_DISABLED=true passes events through, callback-style handlers too, with no telemetry', () => {
    const { answers, stdout } = run('src/app.handler', [{ c: 3 }], { MESH_DISABLED: 'true' });
    assert.deepEqual(answers[0]?.result, { nested: true, got: { c: 3 } });
    assert.doesNotMatch(stdout, /"_aws"/);
    const promise = run('cjs-handler.handler', [{ d: 4 }], { MESH_DISABLED: 'true' });
    assert.equal(promise.answers[0]?.result?.format, 'cjs');
  });

  test('mesh.context() tells the handler its caller, key, attempt and deadline, and whether it serves a mirror copy', () => {
    const callers = writeHelloSnapshot(join(dir, 'callers.json'), { callers: ['orders'] });
    // A deadline far ahead: the child process may take seconds to start on a busy machine, and a call past
    // its deadline is refused before the handler runs.
    const meta = { v: 1, src: 'orders', idk: 'order-7', att: 2, dl: Date.now() + 600_000 };
    const answer = (m: object) =>
      run('context.handler', [{}], { MESH_POLICY_SNAPSHOT: callers }, { custom: { mesh: m } }).answers[0]?.result?.got;
    const real = answer(meta);
    assert.deepEqual(
      real,
      { source: 'orders', idempotencyKey: 'order-7', attempt: 2, deadline: meta.dl, requestId: 'r1' },
      'a real call is no mirror copy',
    );
    assert.deepEqual(answer({ ...meta, mir: 1 }), { ...real, mirror: true });
  });

  test("a handler that cannot load fails the init, with Lambda's Runtime.ImportModuleError", () => {
    assert.throws(
      () => run('missing-module.handler', [{}]),
      (err: Error & { stderr?: string }) => {
        assert.match(err.stderr ?? '', /Runtime\.ImportModuleError: Cannot find module 'missing-module'/);
        assert.match(err.stderr ?? '', /check MESH_HANDLER "missing-module\.handler"/);
        return true;
      },
    );
  });
});
