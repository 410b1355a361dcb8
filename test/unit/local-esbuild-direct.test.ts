/**
 * The preload that runs esbuild directly in the syntheses of the local mesh: NodejsFunction runs esbuild
 * through the package manager whose lock file it finds, and each of them is taken, not npx alone (under
 * pnpm or yarn every function's bundle started the package manager, and watch mode, which records these
 * runs, could rebundle none of them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');
const PRELOAD = join(ROOT, 'local', 'watch', 'esbuild-direct.cjs');
const ESBUILD = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;

/** What `command args` answers from a process with the preload, no package manager on PATH. */
function spawnWithPreload(command: string, args: string[]): { status: number | null; stdout: string; error?: string } {
  const script = `const r = require('node:child_process').spawnSync(${JSON.stringify(command)}, ${JSON.stringify(args)}, { cwd: ${JSON.stringify(ROOT)}, encoding: 'utf8' });
    process.stdout.write(JSON.stringify({ status: r.status, stdout: r.stdout, error: r.error && r.error.code }));`;
  const r = spawnSync(process.execPath, ['--require', PRELOAD, '-e', script], {
    encoding: 'utf8',
    env: { PATH: '/nonexistent', HOME: process.env.HOME },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('local mesh synthesis: esbuild run directly', () => {
  for (const [command, runner] of [
    ['npx', ['--no-install', 'esbuild']],
    ['pnpm', ['exec', '--', 'esbuild']],
    ['yarn', ['run', 'esbuild']],
    ['bun', ['run', 'esbuild']],
  ] as const) {
    it(`runs \`${command} ${runner.join(' ')}\` as the nearest node_modules/.bin/esbuild`, () => {
      const r = spawnWithPreload(command, [...runner, '--version']);
      assert.deepEqual({ status: r.status, stdout: r.stdout.trim() }, { status: 0, stdout: ESBUILD });
    });
  }

  it('leaves any other command to the shell it names', () => {
    assert.equal(spawnWithPreload('pnpm', ['exec', 'tsc', '--version']).error, 'ENOENT');
    assert.equal(spawnWithPreload('yarn', ['esbuild', '--version']).error, 'ENOENT');
  });
});
