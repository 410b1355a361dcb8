/**
 * The built layer (docs/wire-contract.md, "The layer") as Lambda loads it: a fresh node process whose handler is the
 * layer's wrapper.handler, MESH_HANDLER naming the user's module, `lambda-mesh` resolved through NODE_PATH.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildLayer } from '../../functions/mesh/build';
import { LAYER } from '../../shared/names';

const FIXTURES = join(__dirname, '../fixtures/runtime');

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
    snapshot = join(dir, 'policy.json');
    writeFileSync(
      snapshot,
      JSON.stringify({
        mesh: 'shop',
        generatedAt: '',
        items: [
          { pk: 'hello', sk: 'service', functionName: 'shop-hello' },
          { pk: 'hello', sk: 'allow#external', source: 'external' },
        ],
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What the fixture handlers (test/fixtures/runtime) answer. */
  interface FixtureResult {
    format?: string;
    event?: unknown;
    seenAtInit?: string;
    now?: string;
    status?: number;
    body?: { errorType?: string };
  }

  /** Runs one invocation in a fresh process, as Lambda's runtime would. */
  function run(
    handler: string,
    event: unknown,
    extraEnv: Record<string, string> = {},
  ): { result?: FixtureResult; error?: { name: string; message: string }; stdout: string } {
    const script = `
      const m = require(${JSON.stringify(join(pkg, 'wrapper.js'))});
      const ctx = { awsRequestId: 'r1', functionVersion: '1', getRemainingTimeInMillis: () => 3000 };
      m.handler(${JSON.stringify(event)}, ctx).then(
        (r) => { process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'); process.exit(0); },
        (e) => { process.stdout.write('ERROR ' + JSON.stringify({ name: e.name, message: e.message }) + '\\n'); process.exit(0); });`;
    const stdout = execFileSync(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: `${join(pkg, '..')}:${join(__dirname, '../../node_modules')}`,
        _HANDLER: join(pkg, 'wrapper.handler'),
        LAMBDA_TASK_ROOT: task,
        MESH_HANDLER: handler,
        MESH_NAME: 'shop',
        MESH_SERVICE: 'hello',
        MESH_POLICY_SNAPSHOT: snapshot,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
        ...extraEnv,
      },
      encoding: 'utf8',
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '))!;
    return line.startsWith('RESULT ')
      ? { result: JSON.parse(line.slice(7)), stdout }
      : { error: JSON.parse(line.slice(6)), stdout };
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
    writeFileSync(
      join(dir, 'closed.json'),
      JSON.stringify({
        mesh: 'shop',
        generatedAt: '',
        items: [{ pk: 'hello', sk: 'service', functionName: 'shop-hello' }],
      }),
    );
    const r = run('cjs-handler.handler', {}, { MESH_POLICY_SNAPSHOT: join(dir, 'closed.json') });
    assert.equal(r.error?.name, 'MeshDeniedError');
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
