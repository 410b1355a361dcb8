import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LAYER } from '../../shared/names';
import type { PolicySnapshot } from '../../shared/policy';

/**
 * The snapshot layer's code: a directory holding `mesh/policy.json` (LAYER.snapshotPath without /opt).
 * Content-addressed, so the same policy yields the same asset hash and publishes no new versions.
 */
export function snapshotLayerCode(snapshot: PolicySnapshot): lambda.Code {
  const json = `${JSON.stringify(snapshot, null, 1)}\n`;
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'lambda-mesh-snapshot', digest);
  const rel = posix.relative('/opt', LAYER.snapshotPath); // mesh/policy.json
  const file = join(dir, ...rel.split('/'));
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, json);
  return lambda.Code.fromAsset(dir);
}
