/**
 * The built layer (docs/wire-contract.md, "The layer") as Lambda loads it: a fresh node process whose handler is the
 * layer's wrapper.handler, MESH_HANDLER naming the user's module, `lambda-mesh` resolved through NODE_PATH.
 */

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildLayer } from '../../functions/mesh/build';
import { LAYER } from '../../shared/names';
import { FIXTURES, runWrapper, writeHelloSnapshot } from '../support/wrapper-process';

describe('runtime layer: the built bundle behind wrapper.handler', () => {
  let dir = '';
  let pkg = '';
  let snapshot = '';
  let task = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-layer-test-'));
    // The handlers run from a copy outside this repository, as from Lambda's /var/task: inside it,
    // `require('lambda-mesh')` would resolve to this package itself rather than to the layer.
    task = join(dir, 'task');
    cpSync(FIXTURES, task, { recursive: true });
    pkg = join(buildLayer(join(dir, 'layer')).outDir, LAYER.packageDir);
    snapshot = writeHelloSnapshot(join(dir, 'policy.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs one invocation of the built layer in a fresh process, as Lambda's runtime would. */
  function run(handler: string, event: unknown, extraEnv: Record<string, string> = {}) {
    const { answers, stdout } = runWrapper({
      wrapper: join(pkg, 'wrapper.js'),
      handler,
      events: [event],
      nodePath: join(pkg, '..'),
      taskRoot: task,
      env: { MESH_POLICY_SNAPSHOT: snapshot, ...extraEnv },
    });
    return { ...answers[0], stdout };
  }

  test('the documented layout', () => {
    for (const f of ['index.js', 'wrapper.js', 'package.json']) assert.ok(existsSync(join(pkg, f)), f);
  });

  test('CJS and ESM user handlers run behind the wrapper, with EMF on stdout', () => {
    const cjs = run('cjs-handler.handler', { a: 1 });
    assert.equal(cjs.result?.format, 'cjs');
    assert.deepEqual(cjs.result?.event, { a: 1 });
    assert.match(cjs.stdout, /"_aws":\{"Timestamp":\d+,"CloudWatchMetrics"/);
    assert.match(cjs.stdout, /"type":"mesh-access"/);
    assert.equal(run('esm-handler.handler', { b: 2 }).result?.format, 'esm');
  });

  test('MESH_ENDPOINT is set before the user module loads; the endpoint and call() answer typed refusals', () => {
    const r = run('endpoint-at-init.handler', {});
    // The base URL carries this sandbox's secret path: only its own processes know it.
    assert.match(r.result?.seenAtInit ?? '', /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}$/);
    assert.equal(r.result?.seenAtInit, r.result?.now);
    const viaEndpoint = run('endpoint-at-init.handler', { via: 'endpoint' });
    assert.equal(viaEndpoint.result?.status, 403);
    assert.equal(viaEndpoint.result?.body?.errorType, 'MeshDeniedError');
    // Error classes are the same objects across the layer's files: instanceof holds in the app.
    assert.deepEqual(run('endpoint-at-init.handler', { via: 'call' }).result, {
      denied: true,
      isMeshError: true,
      code: 'MeshDenied',
    });
  });

  test('deny by default: without allow#external the wrapper refuses a plain invoke', () => {
    writeHelloSnapshot(join(dir, 'closed.json'), { closed: true });
    const r = run('cjs-handler.handler', {}, { MESH_POLICY_SNAPSHOT: join(dir, 'closed.json') });
    assert.equal(r.error?.name, 'MeshDeniedError', r.error?.message);
  });

  test('MESH_DISABLED=true passes through', () => {
    writeFileSync(join(dir, 'closed2.json'), JSON.stringify({ mesh: 'shop', generatedAt: '', items: [] }));
    const r = run(
      'cjs-handler.handler',
      { c: 3 },
      { MESH_DISABLED: 'true', MESH_POLICY_SNAPSHOT: join(dir, 'closed2.json') },
    );
    assert.equal(r.result?.format, 'cjs');
    assert.doesNotMatch(r.stdout, /"_aws"/);
  });
});
