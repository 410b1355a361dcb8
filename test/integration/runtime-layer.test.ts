/**
 * The built layer (docs/wire-contract.md, "The layer") as Lambda loads it: a fresh node process whose handler is the
 * layer's wrapper.handler, MESH_HANDLER naming the user's module, `lambda-mesh` resolved through NODE_PATH.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildLayer, LAYER_FILES } from '../../functions/mesh/build';
import { LAYER } from '../../shared/names';
import { sealSnapshot } from '../../shared/snapshot-seal';
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
    for (const f of ['wrapper.js', 'runtime', 'package.json', ...Object.keys(LAYER_FILES)]) {
      assert.ok(existsSync(join(pkg, f)), f);
    }
  });

  test('a file that provides modules to the later ones exports all they export', () => {
    for (const [file, sources] of Object.entries(LAYER_FILES)) {
      const built = require(join(pkg, file)) as Record<string, unknown>;
      for (const source of sources.slice(1)) {
        const names = Object.keys(require(join(__dirname, '../../functions/mesh', source)) as object);
        assert.deepEqual(
          names.filter((n) => !(n in built)),
          [],
          `${file} re-exports ${source}`,
        );
      }
    }
  });

  test("each file defines its exports on module.exports, without esbuild's copy helpers where nothing needs them", () => {
    for (const file of Object.keys(LAYER_FILES)) {
      const text = readFileSync(join(pkg, file), 'utf8');
      assert.equal((require(join(pkg, file)) as { __esModule?: boolean }).__esModule, true, file);
      // outbound.js keeps them: it requires a module it bundles lazily (the SDK's Invoke) and re-exports one.
      if (file !== 'outbound.js') assert.doesNotMatch(text, /Object\.getOwnPropertyNames/, file);
    }
  });

  test('CJS and ESM user handlers run behind the wrapper, with EMF on stdout', () => {
    const cjs = run('cjs-handler.handler', { a: 1 });
    assert.equal(cjs.result?.format, 'cjs');
    assert.deepEqual(cjs.result?.event, { a: 1 });
    assert.match(cjs.stdout, /"_aws":\{"Timestamp":\d+,"CloudWatchMetrics"/);
    assert.match(cjs.stdout, /"type":"mesh-access"/);
    assert.equal(run('esm-handler.handler', { b: 2 }).result?.format, 'esm');
  });

  test("a module that takes the runtime's exports apart as it loads finds every one; an ES module imports them by name", () => {
    // The user's module loads during the wrapper's own load (Lambda's init), and may require it back.
    const names = Object.keys(require(join(pkg, 'wrapper.js')) as object).filter((n) => n !== '__esModule');
    writeFileSync(
      join(task, 'exports-at-init.cjs'),
      `const runtime = require('lambda-mesh/runtime');\nconst seen = ${JSON.stringify(names)}.map((n) => [n, typeof runtime[n]]);\n` +
        'exports.handler = async () => seen;\n',
    );
    const seen = run('exports-at-init.handler', {}).result as unknown as [string, string][];
    assert.ok(names.includes('mesh') && names.includes('MeshDeniedError'), names.join());
    assert.deepEqual(
      seen.filter(([, type]) => type === 'undefined'),
      [],
    );
    writeFileSync(
      join(task, 'exports-named.mjs'),
      `import { mesh, MeshDeniedError } from ${JSON.stringify(join(pkg, 'runtime'))};\n` +
        'export const handler = async () => [typeof mesh.call, typeof MeshDeniedError];\n',
    );
    assert.deepEqual(run('exports-named.handler', {}).result, ['function', 'function']);
  });

  test("an ES module finds lambda-mesh/runtime by its name in the layer's folder, the wrapper's runtime", () => {
    // Lambda's runtimes from nodejs18.x on resolve an ES module's bare imports in the layers' node_modules;
    // ES resolution adds no extension, so the layer has `runtime` as a file of that very name. A file in
    // the layer's nodejs/ resolves as an import from /var/task does there.
    const importer = join(pkg, '..', '..', 'esm-import.mjs');
    writeFileSync(
      importer,
      "import { createRequire } from 'node:module';\n" +
        "import { mesh, MeshDeniedError } from 'lambda-mesh/runtime';\n" +
        "import * as main from 'lambda-mesh';\n" +
        "const wrapper = createRequire(import.meta.url)('./node_modules/lambda-mesh/wrapper.js');\n" +
        'console.log(JSON.stringify([mesh === wrapper.mesh, MeshDeniedError === wrapper.MeshDeniedError, main.mesh === wrapper.mesh]));\n',
    );
    const r = spawnSync(process.execPath, [importer], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [true, true, true]);
  });

  test('MESH_ENDPOINT is set before the user module loads; the endpoint and call() answer typed refusals', () => {
    const open = { MESH_ENDPOINT_PORT: '0' };
    const r = run('endpoint-at-init.handler', {}, open);
    // The base URL carries this sandbox's secret path: only its own processes know it.
    assert.match(r.result?.seenAtInit ?? '', /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}$/);
    assert.equal(r.result?.seenAtInit, r.result?.now);
    const viaEndpoint = run('endpoint-at-init.handler', { via: 'endpoint' }, open);
    assert.equal(viaEndpoint.result?.status, 403);
    assert.equal(viaEndpoint.result?.body?.errorType, 'MeshDeniedError');
    // Error classes are the same objects across the layer's files: instanceof holds in the app.
    assert.deepEqual(run('endpoint-at-init.handler', { via: 'call' }, open).result, {
      denied: true,
      isMeshError: true,
      code: 'MeshDenied',
    });
  });

  test('without MESH_ENDPOINT_PORT no endpoint opens, and its file is not loaded', () => {
    // Prepare: a handler that reports the environment and the layer files loaded, at init and after.
    const script = join(task, 'no-endpoint.cjs');
    writeFileSync(
      script,
      `const seenAtInit = process.env.MESH_ENDPOINT;
      exports.handler = async () => ({
        seenAtInit: seenAtInit ?? null,
        now: process.env.MESH_ENDPOINT ?? null,
        endpointLoaded: Object.keys(require.cache).some((f) => /[\\/]endpoint(-request)?\\.js$/.test(f)),
      });`,
    );
    // Act
    const r = run('no-endpoint.handler', {});
    // Assess
    assert.deepEqual(r.result, { seenAtInit: null, now: null, endpointLoaded: false });
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

  test('an invocation that makes no call loads no node:crypto, turns on no promise hooks and creates neither process.stdout nor the performance global', () => {
    // A script file, not `node -e` (which loads node:crypto itself); the same environment as Lambda's.
    const script = join(dir, 'inbound-builtins.js');
    writeFileSync(
      script,
      `const stdout = Object.getOwnPropertyDescriptor(process, 'stdout');
      let made = false;
      Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get() { made = true; return stdout.get.call(process); } });
      const m = require(${JSON.stringify(join(pkg, 'wrapper.js'))});
      m.handler({}, { awsRequestId: 'r1', functionVersion: '1', getRemainingTimeInMillis: () => 3000 }).then((r) => {
        require('node:fs').writeSync(2, JSON.stringify({
          ok: r.ok,
          crypto: process.moduleLoadList.includes('NativeModule crypto'),
          performance: process.moduleLoadList.includes('NativeModule perf_hooks') ||
            process.moduleLoadList.includes('NativeModule internal/perf/performance'),
          stdout: made,
          promiseHooks: process.moduleLoadList.includes('NativeModule internal/promise_hooks'),
        }));
      });`,
    );
    const r = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(pkg, '..'),
        _HANDLER: join(pkg, 'wrapper.handler'),
        LAMBDA_TASK_ROOT: task,
        MESH_HANDLER: 'cjs-handler.handler',
        MESH_NAME: 'shop',
        MESH_SERVICE: 'hello',
        MESH_POLICY_SNAPSHOT: snapshot,
        AWS_REGION: 'us-east-1',
      },
    });
    const seen = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    // Each costs a cold sandbox's first request 0.7 to 2.5 ms: none of them serves a request that makes no call.
    // Promise hooks (an AsyncLocalStorage scope) are for invocations that overlap, not for one alone.
    assert.deepEqual(
      seen,
      { ok: true, crypto: false, performance: false, stdout: false, promiseHooks: false },
      r.stderr,
    );
  });

  describe('each path loads only the layer files it runs, and no AWS SDK', () => {
    let closedUrl = '';
    let snap = '';
    let unsealed = '';
    before(async () => {
      // A port that refuses connections (bound, then closed): calls fail at connect, after loading what they need.
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
      closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
      await new Promise<void>((r) => closed.close(() => r()));
      snap = join(dir, 'calls.json');
      const calls = {
        mesh: 'shop',
        generatedAt: new Date().toISOString(),
        items: [
          { pk: 'hello', sk: 'allow#external', source: 'external' },
          { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
          { pk: 'payments', sk: 'allow#hello', source: 'hello', retries: { maxAttempts: 1 } },
          { pk: 'refunds', sk: 'allow#hello', source: 'hello', retries: { maxAttempts: 1 } },
        ],
      };
      // Sealed, as synth writes it; and the same items unsealed, as a snapshot made by hand.
      writeFileSync(snap, JSON.stringify(sealSnapshot(calls)));
      unsealed = join(dir, 'calls-unsealed.json');
      writeFileSync(unsealed, JSON.stringify(calls));
    });
    const aws = () => ({
      MESH_POLICY_SNAPSHOT: snap,
      AWS_ENDPOINT_URL: closedUrl,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    // A stand-in DynamoDB in its own process (the wrapper runs synchronously here): every Query finds
    // hello's allow#external item. It stops after two minutes if this process dies without killing it.
    let table: ChildProcess | undefined;
    let tableUrl = '';
    before(async () => {
      const item = { pk: { S: 'hello' }, sk: { S: 'allow#external' }, source: { S: 'external' } };
      table = spawn(
        process.execPath,
        [
          '-e',
          `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.end(${JSON.stringify(
            JSON.stringify({ Items: [item] }),
          )})); }); s.listen(0, '127.0.0.1', () => console.log(s.address().port)); setTimeout(() => process.exit(0), 120000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise<string>((r) => table!.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
      tableUrl = `http://127.0.0.1:${port}`;
    });
    after(() => table?.kill());
    const cases: [string, unknown, () => Record<string, string>, string[], string | undefined][] = [
      ['inbound only', {}, aws, ['runtime', 'wrapper.js'], undefined],
      [
        // Mesh metadata arrives, identity is off: nothing to verify, so identity's file stays unloaded.
        'inbound from a mesh caller, identity off',
        { headers: { 'x-mesh-source': 'orders' }, requestContext: {}, body: '{}' },
        aws,
        ['runtime', 'wrapper.js'],
        undefined,
      ],
      [
        // The refusal's wording is the only file a refused call loads besides the pipeline's.
        'a call the policy refuses here',
        { call: 'nowhere' },
        aws,
        ['outbound.js', 'policy-refusal.js', 'runtime', 'wrapper.js'],
        'MeshDeniedError',
      ],
      [
        'a Lambda Invoke',
        { call: 'payments' },
        aws,
        ['aws.js', 'outbound.js', 'runtime', 'wrapper.js'],
        'MeshRemoteError',
      ],
      [
        'a SigV4 HTTP target',
        { call: 'refunds' },
        () => ({ ...aws(), MESH_HTTP_TARGETS: JSON.stringify({ refunds: { url: closedUrl, auth: 'iam' } }) }),
        ['aws.js', 'http-target.js', 'outbound.js', 'runtime', 'sigv4-http.js', 'wrapper.js'],
        'MeshRemoteError',
      ],
      [
        'a policy table read',
        {},
        () => ({
          ...aws(),
          AWS_ENDPOINT_URL_DYNAMODB: tableUrl,
          MESH_POLICY_TABLE: 'shop-policy',
          MESH_POLICY_SNAPSHOT: '',
        }),
        ['aws.js', 'policy-table-query.js', 'runtime', 'wrapper.js'],
        undefined,
      ],
      [
        // Synth seals what it checked; items it did not seal are checked as table items are.
        "an unsealed snapshot: its items checked by the table reader's file",
        {},
        () => ({ ...aws(), MESH_POLICY_SNAPSHOT: unsealed }),
        ['aws.js', 'policy-table-query.js', 'runtime', 'wrapper.js'],
        undefined,
      ],
    ];
    for (const [name, event, env, files, called] of cases) {
      test(name, () => {
        const r = run('layer-files.handler', event, env());
        assert.ok(r.result, JSON.stringify(r.error));
        assert.deepEqual(r.result.files, files);
        assert.equal(r.result.sdk, false, 'no @aws-sdk module loaded');
        assert.equal(r.result.called, called);
      });
    }
  });
});
