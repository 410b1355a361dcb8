/**
 * `run` (test/support/mesh-cli.ts), which every test that starts `mesh` or the `aws` CLI goes through:
 * a command that never exits fails once its bound passes, naming itself, instead of holding its test
 * file until the runner's own bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../support/mesh-cli';

describe('run: a command held to its time bound', () => {
  it('ends a command that never exits and fails it, saying so', { timeout: 20_000 }, async () => {
    const started = Date.now();
    const r = await run(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { PATH: process.env.PATH }, 1_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /setInterval\(\(\) => \{\}, 1000\): ended after 1 s without exiting$/);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  it('passes a command that exits within its bound as it exited', async () => {
    const r = await run(process.execPath, ['-e', 'process.stdout.write("out"); process.exit(3)'], {
      PATH: process.env.PATH,
    });
    assert.deepEqual(r, { code: 3, stdout: 'out', stderr: '' });
  });
});
