import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
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
  const dir = join(tmpdir(), 'lambda-mesh-snapshot', digest.slice(0, 16));
  const rel = posix.relative('/opt', LAYER.snapshotPath); // mesh/policy.json
  const file = join(dir, ...rel.split('/'));
  mkdirSync(join(file, '..'), { recursive: true });
  const pending = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.json`;
  writeFileSync(pending, json);
  renameSync(pending, file);
  return lambda.Code.fromAsset(dir, { assetHash: digest, assetHashType: AssetHashType.CUSTOM });
}
