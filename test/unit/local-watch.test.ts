/**
 * Watch mode's pure decisions: which edited files are watched (cdk.json's `watch` globs), how the app is
 * run, and whether an edit can be rebundled alone or needs the app synthesized again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStartArgs } from '../../local/start-command';
import { appCommand } from '../../local/watch/app-synth';
import { type BundleIndex, type BundleRecord, bundlesFor } from '../../local/watch/bundle-index';
import { isWatched } from '../../local/watch/source-watcher';

describe('watch mode decisions', () => {
  it('watches what cdk.json includes, never output, dependencies or what it excludes', () => {
    const patterns = {
      include: ['infra/**', 'functions/**', 'shared/**'],
      exclude: ['**/*.test.ts', 'node_modules', 'cdk.out*', '**/*.d.ts'],
    };
    assert.equal(isWatched('functions/demo/inventory.ts', patterns), true);
    assert.equal(isWatched('infra/private/identity.ts', patterns), true);
    assert.equal(isWatched('functions/mesh/x.test.ts', patterns), false);
    assert.equal(isWatched('shared/names.d.ts', patterns), false);
    assert.equal(isWatched('test/unit/a.ts', patterns), false);
    assert.equal(isWatched('cdk.out/asset.1/index.js', patterns), false);
    const everything = { include: ['**'], exclude: ['node_modules'] };
    assert.equal(isWatched('app.ts', everything), true);
    assert.equal(isWatched('node_modules/x/index.js', everything), false);
  });

  it('runs `npx tsx <file>` and `node <file>` in Node directly, anything else through the shell', () => {
    const tsx = appCommand('npx tsx infra/app.ts');
    assert.equal(tsx.shell, false);
    assert.deepEqual(tsx.args.slice(-3), ['--import', 'tsx', 'infra/app.ts']);
    assert.equal(appCommand('node bin/app.js').args.at(-1), 'bin/app.js');
    assert.deepEqual(appCommand('npx ts-node --prefer-ts-exts bin/app.ts'), {
      command: 'npx ts-node --prefer-ts-exts bin/app.ts',
      args: [],
      shell: true,
    });
  });

  it('rebundles an edit only bundles read; synthesizes one the app reads, or one nothing reads', () => {
    const bundle = (inputs: string[]): BundleRecord => ({
      cwd: '/app',
      bin: 'esbuild',
      args: [],
      outfile: '/out/index.js',
      sha256: '',
      inputs: new Set(inputs),
    });
    const orders = bundle(['/app/functions/orders.ts', '/app/functions/lib/money.ts']);
    const payments = bundle(['/app/functions/payments.ts', '/app/functions/lib/money.ts']);
    const index: BundleIndex = {
      bundles: [orders, payments],
      appFiles: new Set(['/app/infra/stack.ts', '/app/shared/names.ts']),
    };
    assert.deepEqual(bundlesFor(index, ['/app/functions/orders.ts']), { bundles: [orders] });
    assert.deepEqual(bundlesFor(index, ['/app/functions/lib/money.ts']), { bundles: [orders, payments] });
    assert.deepEqual(bundlesFor(index, ['/app/functions/orders.ts', '/app/infra/stack.ts']), {
      synthesize: 'the app itself reads /app/infra/stack.ts',
    });
    assert.deepEqual(bundlesFor(index, ['/app/functions/new.ts']), {
      synthesize: 'no function bundle reads /app/functions/new.ts',
    });
  });

  it('takes --watch on npm start, and refuses it with --assembly', () => {
    assert.equal(parseStartArgs(['--watch', '--no-traffic']).watch, true);
    assert.equal(parseStartArgs([]).watch, false);
    assert.throws(() => parseStartArgs(['--watch', '--assembly', 'cdk.out']), /--watch synthesizes the example app/);
  });
});
