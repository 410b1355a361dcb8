/**
 * The built layer (contract 2) as Lambda loads it: a fresh node process whose handler is the layer's
 * wrapper.handler, MESH_HANDLER naming the user's module, `lambda-mesh` resolved through NODE_PATH.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-layer-test-'));
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

  /** Runs one invocation in a fresh process, as Lambda's runtime would. */
  function run(
    handler: string,
    event: unknown,
    extraEnv: Record<string, string> = {},
  ): { result?: any; error?: any; stdout: string } {
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
        LAMBDA_TASK_ROOT: FIXTURES,
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

  test('contract 2 layout', () => {
    for (const f of ['index.js', 'wrapper.js', 'package.json']) assert.ok(existsSync(join(pkg, f)), f);
  });

  test('CJS and ESM user handlers run behind the wrapper, with EMF on stdout', () => {
    const cjs = run('cjs-handler.handler', { a: 1 });
    assert.equal(cjs.result.format, 'cjs');
    assert.deepEqual(cjs.result.event, { a: 1 });
    assert.match(cjs.stdout, /"_aws":\{"Timestamp":\d+,"CloudWatchMetrics"/);
    assert.match(cjs.stdout, /"type":"mesh-access"/);
    assert.equal(run('esm-handler.handler', { b: 2 }).result.format, 'esm');
  });

  test('MESH_ENDPOINT is set before the user module loads; the endpoint and call() answer typed refusals', () => {
    const r = run('endpoint-at-init.handler', {});
    assert.match(r.result.seenAtInit, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(r.result.seenAtInit, r.result.now);
    const viaEndpoint = run('endpoint-at-init.handler', { via: 'endpoint' });
    assert.equal(viaEndpoint.result.status, 403);
    assert.equal(viaEndpoint.result.body.errorType, 'MeshDeniedError');
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
    assert.equal(r.error.name, 'MeshDeniedError', r.error.message);
  });

  test('MESH_DISABLED=true passes through', () => {
    writeFileSync(join(dir, 'closed2.json'), JSON.stringify({ mesh: 'shop', generatedAt: '', items: [] }));
    const r = run(
      'cjs-handler.handler',
      { c: 3 },
      { MESH_DISABLED: 'true', MESH_POLICY_SNAPSHOT: join(dir, 'closed2.json') },
    );
    assert.equal(r.result.format, 'cjs');
    assert.doesNotMatch(r.stdout, /"_aws"/);
  });
});
