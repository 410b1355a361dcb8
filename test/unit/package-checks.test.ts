/**
 * The package checks test/package runs on the real tarball, each with a compliant and a non-compliant
 * case: a tarball with tests in it, an entry that loads the SDK, a README showing a member the types
 * lack, and the lock file an offline install of the package is made from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consumerLock, type Lock } from '../support/consumer-lock';
import {
  forbiddenTarballPaths,
  missingTarballPaths,
  REQUIRED_TARBALL_PATHS,
  readmeFiles,
  readmeMemberUses,
  runtimeModules,
  sdkModules,
  undeclaredUses,
} from '../support/package-checks';

describe('package checks', () => {
  it('refuses a tarball holding tests, benchmarks or the example, and one missing an entry', () => {
    const good = [...REQUIRED_TARBALL_PATHS, 'dist/infra/mesh.js'];
    assert.deepEqual(forbiddenTarballPaths(good), []);
    assert.deepEqual(missingTarballPaths(good), []);
    const bad = [
      'test/infra/mesh.test.ts',
      'bench/runtime.bench.ts',
      'functions/demo/orders.ts',
      'dist/infra/shop-stack.js',
      'dist/infra/app.js',
      'dist/local/x.test.js',
    ];
    assert.deepEqual(forbiddenTarballPaths([...good, ...bad]), bad);
    assert.deepEqual(missingTarballPaths(good.filter((p) => p !== 'LICENSE')), ['LICENSE']);
  });

  it('finds the AWS SDK and the runtime among loaded modules', () => {
    const clean = ['/app/node_modules/lambda-mesh/dist/infra/index.js', '/app/node_modules/aws-cdk-lib/index.js'];
    assert.deepEqual(sdkModules(clean), []);
    assert.deepEqual(runtimeModules(clean), []);
    const sdk = '/app/node_modules/@aws-sdk/client-lambda/dist-cjs/index.js';
    const smithy = '/app/node_modules/@smithy/core/dist-cjs/index.js';
    const layer = '/app/node_modules/lambda-mesh/dist/assets/mesh-layer/nodejs/node_modules/lambda-mesh/index.js';
    assert.deepEqual(sdkModules([...clean, sdk, smithy]), [sdk, smithy]);
    assert.deepEqual(runtimeModules([...clean, layer]), [layer]);
  });

  it("reads the README's walkthrough files and the members it uses, on Mesh, on the runtime and in prose", () => {
    const readme = [
      '```ts\n// lib/shop-stack.ts\nconst mesh = new Mesh(this, "Mesh", {});\nmesh.alarmsFor("x");\n```',
      "```ts\n// lambda/orders.ts\nimport { mesh } from 'lambda-mesh/runtime';\nawait mesh.call('payments');\n```",
      '```ts\norders.allowCallsTo(payments);\n```',
      'Use `mesh.dashboard` and `mesh.functions`.',
    ].join('\n\n');
    assert.deepEqual(
      readmeFiles(readme).map((f) => f.path),
      ['lib/shop-stack.ts', 'lambda/orders.ts'],
    );
    const uses = readmeMemberUses(readme);
    assert.deepEqual(uses, [
      { on: 'Mesh', member: 'alarmsFor' },
      { on: 'runtime', member: 'call' },
      { on: 'either', member: 'dashboard' },
      { on: 'either', member: 'functions' },
    ]);
    const declared = {
      Mesh: new Set(['alarmsFor', 'dashboard', 'functions']),
      runtime: new Set(['call', 'endpoint']),
    };
    assert.deepEqual(undeclaredUses(uses, declared), []);
    // The types before Mesh declared its dashboard: attached at run time, absent from the .d.ts.
    const before = { ...declared, Mesh: new Set(['functions']) };
    assert.deepEqual(undeclaredUses(uses, before), [
      { on: 'Mesh', member: 'alarmsFor' },
      { on: 'either', member: 'dashboard' },
    ]);
  });

  it("builds the app's lock from the repository's, placing each package where Node finds it", () => {
    // GIVEN a repository lock with a hoisted dependency, a nested one of another version and a dev tool
    const repo: Lock = {
      packages: {
        '': { name: 'lambda-mesh' },
        'node_modules/zod': { version: '4.0.0', integrity: 'z4' },
        'node_modules/a': { version: '1.0.0', dependencies: { zod: '^3' }, dev: true },
        'node_modules/a/node_modules/zod': { version: '3.0.0', integrity: 'z3', dev: true },
        'node_modules/esbuild': { version: '0.1.0', optionalDependencies: { '@esbuild/x': '0.1.0', gone: '1' } },
        'node_modules/@esbuild/x': { version: '0.1.0', devOptional: true },
        'node_modules/unused': { version: '9.9.9' },
      },
    };
    const mesh = { version: '0.1.0', resolved: 'file:../m.tgz', dependencies: { zod: '4.0.0', esbuild: '0.1.0' } };
    // WHEN
    const lock = consumerLock(
      repo,
      { name: 'shop', version: '0.1.0', dependencies: { 'lambda-mesh': 'file:../m.tgz' }, devDependencies: { a: '1' } },
      { 'node_modules/lambda-mesh': mesh },
    ) as Lock;
    // THEN the app gets what it reaches, nested as before, with no dev flags, and nothing else
    assert.deepEqual(Object.keys(lock.packages).sort(), [
      '',
      'node_modules/@esbuild/x',
      'node_modules/a',
      'node_modules/a/node_modules/zod',
      'node_modules/esbuild',
      'node_modules/lambda-mesh',
      'node_modules/zod',
    ]);
    assert.equal(lock.packages['node_modules/a'].dev, undefined);
    assert.equal(lock.packages['node_modules/@esbuild/x'].optional, true);
    // AND a dependency the repository never installed is named, with the fix
    assert.throws(
      () =>
        consumerLock(repo, { name: 'shop', version: '0.1.0', dependencies: { jest: '30' }, devDependencies: {} }, {}),
      /jest \(needed by shop\) is not in this repository's package-lock.json/,
    );
  });
});
