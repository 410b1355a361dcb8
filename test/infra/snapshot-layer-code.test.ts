import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { snapshotLayerCode } from '../../infra/private/snapshot-layer-code';
import type { PolicySnapshot } from '../../shared/policy';

const ROOT = join(__dirname, '..', '..');

/** A snapshot whose items are the same in every process: the layer directory is shared. */
const SNAPSHOT_SCRIPT = `
const { snapshotLayerCode } = require('./infra/private/snapshot-layer-code');
const items = Array.from({ length: 400 }, (_, i) => ({ pk: 'svc' + i, sk: 'service', functionName: 'shop-svc' + i, alias: 'live' }));
const stop = Date.now() + 1500;
while (Date.now() < stop) snapshotLayerCode({ mesh: 'race', generatedAt: new Date().toISOString(), items });
`;

function writer(): ChildProcess {
  return spawn(process.execPath, ['--require', 'tsx/cjs', '-e', SNAPSHOT_SCRIPT], { cwd: ROOT, stdio: 'inherit' });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('snapshot layer code', () => {
  it('never shows a half-written snapshot to a synth reading it while others write it', async () => {
    const items = Array.from({ length: 400 }, (_, i) => ({
      pk: `svc${i}`,
      sk: 'service',
      functionName: `shop-svc${i}`,
      alias: 'live',
    }));
    const code = snapshotLayerCode({ mesh: 'race', generatedAt: new Date().toISOString(), items } as PolicySnapshot);
    const dir = (code as unknown as { path: string }).path;
    const file = join(dir, 'mesh', 'policy.json');

    const writers = [writer(), writer()];
    const done = Promise.all(writers.map(exited));
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    let reads = 0;
    while (!finished) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotThrow(() => JSON.parse(text), `read ${reads + 1} saw ${text.length} bytes`);
      assert.deepEqual(readdirSync(dir), ['mesh'], 'the layer directory holds only the snapshot');
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await done, [0, 0]);
    assert.ok(reads > 50, `read the snapshot ${reads} times while it was rewritten`);
    assert.equal(existsSync(file), true);
  });
});
