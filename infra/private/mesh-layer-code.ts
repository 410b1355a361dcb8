import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerImage, FileSystem } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The repository root: infra/private/.. /.. */
export const REPO_ROOT = join(__dirname, '..', '..');

const RUNTIME_DIR = join(REPO_ROOT, 'functions', 'mesh');
const SHARED_DIR = join(REPO_ROOT, 'shared');
const BUILD_SCRIPT = join(RUNTIME_DIR, 'build.ts');

/**
 * The mesh layer's code: functions/mesh bundled by its own build script (contract 2 layout) with
 * local bundling at synth. No Docker: `tryBundle` always succeeds or throws with the build's output.
 *
 * The asset hash is the fingerprint of the runtime's and shared/'s sources and the lock file, so an unchanged runtime
 * is not rebuilt (CDK reuses `asset.<hash>` in cdk.out) and an unchanged layer publishes no new
 * layer version.
 */
export function meshLayerCode(): lambda.Code {
  const exclude = ['dist', 'node_modules', '*.test.ts'];
  const hash = createHash('sha256')
    .update(FileSystem.fingerprint(RUNTIME_DIR, { exclude }))
    .update(FileSystem.fingerprint(SHARED_DIR, { exclude }))
    // The bundle inlines dependencies (zod, Powertools): a changed lock file rebuilds the layer.
    .update(readFileSync(join(REPO_ROOT, 'package-lock.json')))
    .digest('hex');
  return lambda.Code.fromAsset(RUNTIME_DIR, {
    assetHash: hash,
    exclude,
    bundling: {
      // Never pulled: local bundling below always succeeds (or throws), so Docker is not needed.
      image: DockerImage.fromRegistry('lambda-mesh/no-docker'),
      local: {
        tryBundle(outputDir: string): boolean {
          if (!existsSync(BUILD_SCRIPT)) {
            throw new Error(`mesh layer: ${BUILD_SCRIPT} is missing; the runtime's build script builds the layer`);
          }
          // `node --import tsx` rather than `npx tsx`: no npx lookup on every synth.
          const res = spawnSync(process.execPath, ['--import', 'tsx', BUILD_SCRIPT, outputDir], {
            cwd: REPO_ROOT,
            encoding: 'utf8',
          });
          if (res.status !== 0) {
            throw new Error(
              `mesh layer: building with ${BUILD_SCRIPT} failed (exit ${res.status}): ${res.stderr || res.stdout || res.error}`,
            );
          }
          return true;
        },
      },
    },
  });
}
