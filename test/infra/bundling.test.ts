/**
 * NodejsFunction's bundling props on a MeshFunction, as platform teams set them (`minify`, `sourceMap`,
 * their own `externalModules`, `depsLockFilePath`): they reach esbuild, and a list of externals of the
 * app's own still leaves `lambda-mesh` (and `@aws-sdk/*`) out of the bundle. A copy of the runtime in
 * the bundle would be a second module beside the layer's, one that knows nothing of the invocation the
 * wrapper serves.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { OrdersStack } from '../support/conventional-entry/orders-stack';
import { tempDir } from '../support/temp-dir';
import { DEMO, ENV, newApp, ROOT } from './infra-fixture';

describe('bundling props on a MeshFunction', () => {
  it('passes minify, sourceMap and depsLockFilePath to esbuild and keeps lambda-mesh external beside the app’s externals', () => {
    const app = newApp({ bundle: true });
    const stack = new Stack(app, 'Test', { env: ENV });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    new MeshFunction(stack, 'Orders', {
      mesh,
      service: 'orders',
      entry: join(DEMO, 'orders.ts'),
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      bundling: { minify: true, sourceMap: true, externalModules: ['left-out'] },
    });
    const assembly = app.synth();
    const template = Template.fromJSON(assembly.getStackByName('Test').template);
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.Environment?.Variables?.MESH_SERVICE === 'orders',
    );
    const dir = join(assembly.directory, fn?.Metadata['aws:asset:path']);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    assert.ok(existsSync(join(dir, 'index.js.map')), 'sourceMap: the map ships beside the bundle');
    assert.match(code, /require\("lambda-mesh\/runtime"\)/, 'the runtime is left to the layer');
    assert.doesNotMatch(code, /MeshDeniedError|AsyncLocalStorage/, 'no copy of the runtime in the bundle');
    assert.ok(code.trim().split('\n').length <= 3, 'minify: the bundle is a line or two');
  });

  it('finds the handler without entry as NodejsFunction does, <defining file>.<id>.ts, and names the file it looked for', () => {
    // GIVEN a stack that declares a MeshFunction without entry, its handler beside it as <file>.Orders.ts
    const app = newApp({ bundle: true });
    // WHEN it synthesizes
    const stack = new OrdersStack(app, 'Conventional', 'Orders');
    // THEN the bundle is that handler's
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { FunctionName: 'shop-orders' },
    });
    const dir = join(app.synth().directory, Object.values(fn)[0]?.Metadata['aws:asset:path']);
    assert.match(readFileSync(join(dir, 'index.js'), 'utf8'), /found by convention/);
    // AND with no such file, the refusal names the file it looked for
    assert.throws(
      () => new OrdersStack(newApp(), 'Unconventional', 'Missing'),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError);
        assert.equal(err.code, MeshErrorCode.MISSING_PROP);
        const beside = join(ROOT, 'test', 'support', 'conventional-entry', 'orders-stack.Missing.ts');
        assert.equal(
          err.message,
          `MeshFunction Unconventional/Missing: entry is required, and there is no ${beside} (nor .js, .mjs, .mts, .cts, .cjs) to take by NodejsFunction's convention; pass the path of the handler file, e.g. entry: join(__dirname, '..', 'lambda', 'orders.ts')`,
        );
        return true;
      },
    );
  });

  it('refuses lambda-mesh in nodeModules, as an app that lists all its dependencies there would put it', () => {
    // GIVEN a team whose functions install every dependency of the app beside the bundle
    const stack = new Stack(newApp(), 'Test', { env: ENV });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    // WHEN a MeshFunction takes that list, lambda-mesh in it
    const declare = () =>
      new MeshFunction(stack, 'Orders', {
        mesh,
        service: 'orders',
        entry: join(DEMO, 'orders.ts'),
        bundling: { nodeModules: ['zod', 'lambda-mesh'] },
      });
    // THEN synth refuses, naming the prop, the package and the fix
    assert.throws(declare, (err: unknown) => {
      assert.ok(err instanceof MeshValidationError);
      assert.equal(err.code, MeshErrorCode.INVALID_BUNDLING);
      assert.match(err.message, /^MeshFunction Test\/Orders: bundling\.nodeModules names lambda-mesh: /);
      assert.match(err.message, /leave it out of nodeModules$/);
      return true;
    });
  });

  it('refuses to bundle in a pnpm app whose own dependencies lack esbuild, naming the lock file and the command that adds it', () => {
    // GIVEN an app installed by pnpm, esbuild among lambda-mesh's dependencies only (aws-cdk-lib requires
    // it through pnpm's hidden hoisting, `pnpm exec` does not find it), and none on PATH
    const app = tempDir('pnpm-app-');
    const lockFile = join(app, 'pnpm-lock.yaml');
    writeFileSync(lockFile, "lockfileVersion: '9.0'\n");
    const stack = new Stack(newApp({ bundle: true }), 'Test', { env: ENV });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    const declare = () =>
      new MeshFunction(stack, 'Orders', {
        mesh,
        service: 'orders',
        entry: join(DEMO, 'orders.ts'),
        depsLockFilePath: lockFile,
      });
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      // WHEN a MeshFunction bundles there
      // THEN synth refuses before any bundling, naming the lock file, where esbuild would run and the fix
      const esbuild = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
      assert.throws(declare, (err: unknown) => {
        assert.ok(err instanceof MeshValidationError);
        assert.equal(err.code, MeshErrorCode.INVALID_BUNDLING);
        assert.equal(
          err.message,
          `MeshFunction Test/Orders: the app installs with pnpm (${lockFile}), so NodejsFunction bundles with \`pnpm exec -- esbuild\` in ${app}, which runs the app's own dependencies only, and esbuild is a dependency of lambda-mesh, not of the app; add it to the app: \`pnpm add -D esbuild@${esbuild}\``,
        );
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });
});
