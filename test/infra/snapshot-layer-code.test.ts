import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { snapshotLayerCode } from '../../infra/private/snapshot-layer-code';
import type { PolicySnapshot } from '../../shared/policy';
import { tempDir } from '../support/temp-dir';
import { meshStack, snapshotLayerPath } from './infra-fixture';

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

/**
 * The environment of a process run as another OS user: no coverage directory of this run's (that
 * user cannot write it), its temporary folder and home `tmp`.
 */
function otherUserEnv(tmp: string): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _coverage, ...env } = process.env;
  return { ...env, TMPDIR: tmp, HOME: tmp };
}

/** Writes one snapshot as another OS user (`uid`), in the temporary folder `tmp`; its exit status and errors. */
function writeAs(uid: number, tmp: string) {
  const script = `require('./infra/private/snapshot-layer-code').snapshotLayerCode({ mesh: 'users', generatedAt: '2026-01-01T00:00:00.000Z', items: [{ pk: 'orders', sk: 'service' }] })`;
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    uid,
    gid: uid,
    env: otherUserEnv(tmp),
    encoding: 'utf8',
  });
}

/**
 * Why users 65533 and 65534 cannot take part here, or undefined when they can: this process is not
 * root, or they cannot read this checkout or write in `tmp` (a checkout or TMPDIR under a folder
 * only its owner may enter).
 */
function otherUsersCannot(tmp: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to run synths as two other users';
  const probe = `const fs = require('fs'); fs.accessSync(${JSON.stringify(join(ROOT, 'node_modules', 'tsx', 'package.json'))}, fs.constants.R_OK); fs.accessSync(${JSON.stringify(tmp)}, fs.constants.W_OK);`;
  for (const uid of [65533, 65534]) {
    const res = spawnSync(process.execPath, ['-e', probe], { uid, gid: uid, env: otherUserEnv(tmp), encoding: 'utf8' });
    if (res.status !== 0) return `user ${uid} cannot read this checkout or write in ${tmp}`;
  }
  return undefined;
}

/** A temporary folder every user may write in, as /tmp is. */
function sharedTemp(): string {
  const tmp = tempDir('snapshot-users-');
  chmodSync(tmp, 0o1777);
  return tmp;
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

  it('ships the snapshot readable by every user, whatever the umask of the synth (Lambda reads it as another user)', () => {
    // GIVEN a synth under a private umask, as some laptops and CI runners have
    const saved = process.umask(0o077);
    try {
      const { app, fn } = meshStack('umask');
      fn('Orders', 'orders');
      // WHEN
      const assembly = app.synth();
      // THEN the staged file, which `cdk deploy` zips with its mode, is world-readable
      const staged = join(
        assembly.directory,
        snapshotLayerPath(Template.fromJSON(assembly.getStackByName('Test').template)),
      );
      const mode = statSync(join(staged, 'mesh', 'policy.json')).mode & 0o777;
      assert.equal(mode & 0o444, 0o444, `the staged policy.json has mode ${mode.toString(8)}`);
    } finally {
      process.umask(saved);
    }
  });

  it('lets two OS users synthesize on one machine, where they share the temporary folder', (t) => {
    // GIVEN one temporary folder for everyone, as /tmp is
    const tmp = sharedTemp();
    const cannot = otherUsersCannot(tmp);
    if (cannot) return t.skip(cannot);
    // WHEN two users write the same snapshot, one after the other
    const first = writeAs(65534, tmp);
    const second = writeAs(65533, tmp);
    // THEN both have it
    assert.equal(first.status, 0, first.stderr);
    assert.equal(second.status, 0, second.stderr);
  });

  it('refuses a snapshot folder another user made for this one, naming it and the fix', (t) => {
    // GIVEN user 65534 made the folder user 65533's synth would use
    const tmp = sharedTemp();
    const cannot = otherUsersCannot(tmp);
    if (cannot) return t.skip(cannot);
    const folder = join(tmp, 'lambda-mesh-snapshot-65533');
    const made = spawnSync(
      process.execPath,
      ['-e', `require('fs').mkdirSync(${JSON.stringify(folder)}, { mode: 0o777 })`],
      { uid: 65534, gid: 65534 },
    );
    assert.equal(made.status, 0, String(made.stderr));
    // WHEN user 65533 synthesizes
    const res = writeAs(65533, tmp);
    // THEN it is refused, with the folder and what to do
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, new RegExp(`${folder} belongs to user 65534, not to this user \\(65533\\); remove it`));
  });
});
