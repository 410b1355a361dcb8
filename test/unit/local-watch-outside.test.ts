/**
 * Watch mode in a monorepo: the CDK app in one package (packages/infra), its handlers in others
 * (packages/services/*). The files the last synthesis found the bundles and the app reading outside the
 * app's folder are watched too, so an edit of a handler there is deployed like one inside it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { outsideFiles, watchSources } from '../../local/watch/source-watcher';

describe('watch mode: files outside the app folder', () => {
  const repo = mkdtempSync(join(tmpdir(), 'watch-monorepo-'));
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('follows the files outside the app and outside node_modules, each once', () => {
    const root = '/repo/packages/infra';
    assert.deepEqual(
      outsideFiles(root, [
        '/repo/packages/infra/lib/shop-stack.ts',
        '/repo/packages/services/orders/src/index.ts',
        '/repo/packages/services/orders/src/index.ts',
        '/repo/node_modules/zod/index.js',
        '/repo/packages/infra-shared/x.ts',
        '/repo/packages/services/payments/src/index.ts',
      ]),
      [
        '/repo/packages/infra-shared/x.ts',
        '/repo/packages/services/orders/src/index.ts',
        '/repo/packages/services/payments/src/index.ts',
      ],
    );
  });

  it('reports an edit of a followed handler in another package, relative to the app, and nothing of its neighbours', async () => {
    // GIVEN the app's folder and a handler in another package, followed
    const root = join(repo, 'packages', 'infra');
    const src = join(repo, 'packages', 'services', 'payments', 'src');
    mkdirSync(root, { recursive: true });
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'index.ts'), 'export const handler = async () => 1;\n');
    writeFileSync(join(src, 'notes.md'), '');
    const batches: string[][] = [];
    let edited: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => {
      edited = resolve;
    });
    const watcher = watchSources(
      root,
      { include: ['**'], exclude: ['**/*.js'] },
      (files) => {
        batches.push(files);
        edited();
      },
      50,
    );
    try {
      watcher.follow([join(src, 'index.ts'), join(root, 'lib', 'shop-stack.ts')]);
      // WHEN a file beside it changes, then the handler
      writeFileSync(join(src, 'notes.md'), 'nothing a bundle reads\n');
      writeFileSync(join(src, 'index.ts'), 'export const handler = async () => 2;\n');
      await seen;
      // THEN the batch names the handler alone, as a path from the app's folder
      assert.deepEqual(batches, [['../services/payments/src/index.ts']]);
    } finally {
      watcher.close();
    }
  });
});
