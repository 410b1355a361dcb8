/** Loading the user's handler from MESH_HANDLER: CJS, ESM, nested paths, errors named like Lambda's. */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type AnyHandler, HandlerLoadError, loadHandler, resolveHandler } from '../../functions/mesh/handler-loader';

const ROOT = join(__dirname, '../fixtures/runtime');

describe('runtime handler loader', () => {
  test('CommonJS (.cjs) loads synchronously', async () => {
    const h = loadHandler('cjs-handler.handler', ROOT);
    assert.equal(typeof h, 'function');
    assert.deepEqual(await (h as AnyHandler)({ a: 1 }, { functionVersion: '3' }), {
      ok: true,
      event: { a: 1 },
      version: '3',
      format: 'cjs',
    });
  });

  test('a nested export (file.ns.export)', async () => {
    const h = loadHandler('cjs-handler.nested.handler', ROOT) as AnyHandler;
    assert.equal(await h({}, {}), 'nested');
  });

  test('ESM (.mjs) resolves to a promise of the handler', async () => {
    const p = loadHandler('esm-handler.handler', ROOT);
    assert.ok(p instanceof Promise);
    const h = await p;
    assert.deepEqual(await h({ b: 2 }, {}), { ok: true, event: { b: 2 }, format: 'esm' });
  });

  test("an ES module whose import fails: Lambda's ImportModuleError at the first invocation, no unhandled rejection at init", async () => {
    const unhandled: unknown[] = [];
    const spy = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', spy);
    try {
      // Lambda's runtime asks for the first event only after init: the import has failed by then.
      const p = loadHandler('esm-missing-import.handler', ROOT) as Promise<AnyHandler>;
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled, []);
      await assert.rejects(
        p,
        (e: unknown) =>
          e instanceof HandlerLoadError &&
          e.name === 'Runtime.ImportModuleError' &&
          /Cannot find package 'lambda-mesh-test-no-such-package'/.test(e.message),
      );
    } finally {
      process.off('unhandledRejection', spy);
    }
  });

  test('dir/file.export (.js, callback style)', async () => {
    const h = loadHandler('src/app.handler', ROOT) as AnyHandler;
    const r = await new Promise((res, rej) => h({ c: 3 }, {}, (e: unknown, v: unknown) => (e ? rej(e) : res(v))));
    assert.deepEqual(r, { nested: true, got: { c: 3 } });
  });

  test('missing module, missing export, malformed name: Lambda-style error names and a fix', () => {
    assert.throws(
      () => loadHandler('nope.handler', ROOT),
      (e: unknown) =>
        e instanceof HandlerLoadError && e.name === 'Runtime.ImportModuleError' && /MESH_HANDLER/.test(e.message),
    );
    assert.throws(
      () => loadHandler('cjs-handler.missing', ROOT),
      (e: unknown) => e instanceof HandlerLoadError && e.name === 'Runtime.HandlerNotFound',
    );
    assert.throws(
      () => resolveHandler('index', ROOT),
      (e: unknown) => e instanceof HandlerLoadError && e.name === 'Runtime.MalformedHandlerName',
    );
    assert.throws(() => resolveHandler(undefined, ROOT), /MESH_HANDLER is not set/);
  });
});
