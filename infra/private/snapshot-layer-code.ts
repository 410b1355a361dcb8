import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LAYER } from '../../shared/names';
import type { PolicySnapshot } from '../../shared/policy';

/**
 * The snapshot layer's code: a directory holding `mesh/policy.json` (LAYER.snapshotPath without /opt).
 * Addressed by the policy alone, not its `generatedAt`: the same items yield the same asset hash and
 * publish no new versions. The deployed file then carries the time of the first synth that made
 * those items, which only makes it count as older than it is.
 *
 * Two synths of the same items (parallel CI jobs, test files) share the directory. The file is
 * written beside it and renamed into place, so a synth copying the directory never reads it half
 * written, and the directory never holds anything but the snapshot.
 */
export function snapshotLayerCode(snapshot: PolicySnapshot): lambda.Code {
  const json = `${JSON.stringify(snapshot, null, 1)}\n`;
  const digest = createHash('sha256')
    .update(JSON.stringify({ mesh: snapshot.mesh, items: snapshot.items }))
    .digest('hex');
  const dir = join(ownFolder(), digest.slice(0, 16));
  const rel = posix.relative('/opt', LAYER.snapshotPath); // mesh/policy.json
  const file = join(dir, ...rel.split('/'));
  mkdirSync(join(file, '..'), { recursive: true });
  const pending = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.json`;
  writeFileSync(pending, json);
  // `cdk deploy` zips each file with its mode, and Lambda reads layers as another user: a private
  // umask (077) would ship a file the function cannot open ("Lambda deployment package errors").
  chmodSync(pending, 0o644);
  renameSync(pending, file);
  return lambda.Code.fromAsset(dir, { assetHash: digest, assetHashType: AssetHashType.CUSTOM });
}

/**
 * This OS user's folder for snapshots. One folder for all users failed every synth but the first
 * user's where users share the temporary folder (/tmp on Linux), and another user's folder could hold
 * a file they changed: the folder is this user's alone, and one another user made is refused.
 */
function ownFolder(): string {
  const uid = process.getuid?.();
  if (uid === undefined) return join(tmpdir(), 'lambda-mesh-snapshot'); // Windows: a temporary folder per user
  const folder = join(tmpdir(), `lambda-mesh-snapshot-${uid}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const owner = statSync(folder).uid;
  if (owner !== uid) {
    throw new Error(
      `lambda-mesh: the policy snapshot folder ${folder} belongs to user ${owner}, not to this user (${uid}); ` +
        'remove it, or set TMPDIR to a folder of your own',
    );
  }
  return folder;
}
