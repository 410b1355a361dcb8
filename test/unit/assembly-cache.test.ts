/**
 * The tests' assembly cache (test/support/assembly-cache.ts): test files that need the same assembly at
 * once synthesize it once, and a lock left by a killed run does not hold the next one back.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir';

const CACHE_MODULE = join(__dirname, '..', 'support', 'assembly-cache.ts');

/** A process that asks the cache for `name` with a synth that takes `synthMs` and logs each run. */
function script(name: string, log: string, synthMs: number): string {
  return `
    const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs');
    const { cached } = require(${JSON.stringify(CACHE_MODULE)});
    const dir = cached(${JSON.stringify(name)}, 'h', 1, (out) => {
      appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${synthMs});
      mkdirSync(out, { recursive: true });
      writeFileSync(out + '/manifest.json', '{}');
    });
    process.stdout.write(dir);
  `;
}

function runAsync(tmp: string, code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', code], {
      env: { ...process.env, TMPDIR: tmp },
      // A process that waits for a lock nobody releases fails the test instead of holding it.
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (c) => resolve({ code: c, stdout, stderr }));
  });
}

describe('assembly cache', () => {
  it('synthesizes an assembly once when three processes need it at the same time', async () => {
    const tmp = tempDir('assembly-cache-');
    const log = join(tmp, 'synths.log');
    const runs = await Promise.all([1, 2, 3].map(() => runAsync(tmp, script('app', log, 1500))));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const dirs = new Set(runs.map((r) => r.stdout));
    assert.deepEqual([...dirs], [join(tmp, 'lambda-mesh-assemblies', 'app-h-r1')]);
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 1, 'one synth');
    assert.equal(existsSync(join(tmp, 'lambda-mesh-assemblies', 'app-h-r1.lock')), false, 'the lock is released');
  });

  it('takes over a lock whose process is gone', async () => {
    const tmp = tempDir('assembly-cache-');
    const log = join(tmp, 'synths.log');
    // The id of a process that has exited: what a killed run leaves in its lock.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    mkdirSync(join(tmp, 'lambda-mesh-assemblies'), { recursive: true });
    writeFileSync(join(tmp, 'lambda-mesh-assemblies', 'app-h-r1.lock'), gone);
    const r = await runAsync(tmp, script('app', log, 0));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, join(tmp, 'lambda-mesh-assemblies', 'app-h-r1'));
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 1);
  });
});
