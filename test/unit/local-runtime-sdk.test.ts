/**
 * The folder that stands in for the runtime's node_modules: the `@aws-sdk/*` packages of an app's
 * node_modules and what they depend on, and none of the app's other packages.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeModulesChain, runtimeSdkDir } from '../../local/runtime/runtime-sdk';

describe('local runtime: the AWS SDK a worker finds', () => {
  let dir = '';
  let modules = '';

  /** A package `name` under `at` (a node_modules folder) with its dependencies. */
  function pkg(at: string, name: string, deps: Record<string, string> = {}, optional: Record<string, string> = {}) {
    mkdirSync(join(at, name), { recursive: true });
    const json = { name, version: '1.0.0', dependencies: deps, optionalDependencies: optional };
    writeFileSync(join(at, name, 'package.json'), JSON.stringify(json));
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runtime-sdk-'));
    modules = join(dir, 'app', 'node_modules');
    pkg(modules, '@aws-sdk/client-fake', { '@smithy/core': '1', tslib: '2', nested: '1' }, { 'not-installed': '1' });
    pkg(modules, '@aws-sdk/core', { '@smithy/core': '1' });
    pkg(modules, '@smithy/core', { strnum: '1' });
    pkg(modules, 'strnum');
    pkg(modules, 'tslib');
    // A copy private to the package that needs it; what it needs is hoisted.
    pkg(join(modules, '@aws-sdk/client-fake/node_modules'), 'nested', { 'hoisted-for-nested': '1' });
    pkg(modules, 'hoisted-for-nested');
    // The app's own packages, beside the SDK.
    pkg(modules, 'zod');
    pkg(modules, 'lambda-mesh', { zod: '4' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Every package name in a node_modules folder, scoped ones as `@scope/name`. */
  function names(folder: string): string[] {
    return readdirSync(folder)
      .flatMap((n) => (n.startsWith('@') ? readdirSync(join(folder, n)).map((m) => `${n}/${m}`) : [n]))
      .sort();
  }

  it("links the @aws-sdk packages and their dependencies' closure, nothing else of the app", () => {
    const sdk = runtimeSdkDir([modules], join(dir, 'work'));
    assert.deepEqual(names(sdk), [
      '@aws-sdk/client-fake',
      '@aws-sdk/core',
      '@smithy/core',
      'hoisted-for-nested',
      'strnum',
      'tslib',
    ]);
    assert.equal(realpathSync(join(sdk, '@smithy/core')), realpathSync(join(modules, '@smithy/core')));
  });

  it('is made once per folder: a second call finds it', () => {
    const first = runtimeSdkDir([modules], join(dir, 'work2'));
    rmSync(join(first, 'tslib'));
    assert.equal(runtimeSdkDir([modules], join(dir, 'work2')), first);
    assert.equal(existsSync(join(first, 'tslib')), false);
  });

  it('is an empty folder where no SDK is installed', () => {
    const empty = join(dir, 'empty', 'node_modules');
    mkdirSync(empty, { recursive: true });
    assert.deepEqual(readdirSync(runtimeSdkDir([empty], join(dir, 'work3'))), []);
  });

  it("finds under pnpm's layout every client the package depends on, not only the one a require resolves to", () => {
    // GIVEN an app installed by pnpm: each package in its own store folder, beside links to its
    // dependencies; the app's node_modules links its own dependencies alone
    const app = join(dir, 'pnpm-app');
    const store = join(app, 'node_modules', '.pnpm');
    const inStore = (name: string, deps: Record<string, string> = {}) => {
      const at = join(store, `${name.replace('/', '+')}@1.0.0`, 'node_modules');
      pkg(at, name, deps);
      for (const dep of Object.keys(deps))
        link(join(store, `${dep.replace('/', '+')}@1.0.0`, 'node_modules', dep), join(at, dep));
      return join(at, name);
    };
    const link = (target: string, path: string) => {
      mkdirSync(dirname(path), { recursive: true });
      symlinkSync(target, path, 'dir');
    };
    inStore('@smithy/core');
    inStore('@aws-sdk/client-lambda', { '@smithy/core': '1' });
    inStore('@aws-sdk/client-secrets-manager', { '@smithy/core': '1' });
    inStore('zod');
    const mesh = inStore('lambda-mesh', {
      '@aws-sdk/client-lambda': '1',
      '@aws-sdk/client-secrets-manager': '1',
      zod: '4',
    });
    link(mesh, join(app, 'node_modules', 'lambda-mesh'));
    inStore('@aws-sdk/client-s3', { '@smithy/core': '1' });
    link(
      join(store, '@aws-sdk+client-s3@1.0.0', 'node_modules', '@aws-sdk/client-s3'),
      join(app, 'node_modules', '@aws-sdk/client-s3'),
    );
    // WHEN the runtime's folder is made from the folders Node searches from the package's code
    const code = join(realpathSync(mesh), 'dist', 'local', 'runtime');
    mkdirSync(code, { recursive: true });
    const sdk = runtimeSdkDir(nodeModulesChain(code), join(dir, 'work4'));
    // THEN it holds the package's clients (the issuer's Secrets Manager too), the app's own, and their
    // dependencies, and nothing else of either
    assert.deepEqual(names(sdk), [
      '@aws-sdk/client-lambda',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@smithy/core',
    ]);
  });

  it('searches the node_modules folders as Node does from a folder, nearest first, none inside another node_modules', () => {
    assert.deepEqual(nodeModulesChain('/app/node_modules/.pnpm/x@1/node_modules/x/dist'), [
      '/app/node_modules/.pnpm/x@1/node_modules/x/dist/node_modules',
      '/app/node_modules/.pnpm/x@1/node_modules/x/node_modules',
      '/app/node_modules/.pnpm/x@1/node_modules',
      '/app/node_modules/.pnpm/node_modules',
      '/app/node_modules',
      '/node_modules',
    ]);
    assert.deepEqual(
      nodeModulesChain('/app/node_modules/.pnpm/x@1/node_modules/x/dist'),
      require('node:module')._nodeModulePaths('/app/node_modules/.pnpm/x@1/node_modules/x/dist'),
    );
  });
});
