import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileSystem } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ASSETS, type AssetName } from '../../shared/names';

/**
 * Where the code of the mesh's own Lambda assets (the mesh layer, the control functions) comes from:
 * - the installed package: dist/assets, beside this file's dist/infra, holds them prebuilt (`npm pack`
 *   built them), so an app's `cdk synth` compiles none of the mesh's sources and needs no dev tooling;
 * - this repository (no assets folder beside infra/): functions/build.ts builds them from source on
 *   first need, into a folder named after the sources' fingerprint, so an unchanged runtime is built
 *   once however many stacks and test processes synthesize.
 * Either way each asset's hash is the fingerprint of its built files: it changes only when its code does.
 */
const PACKAGED_ASSETS = join(__dirname, '..', '..', 'assets');
const REPO_ROOT = join(__dirname, '..', '..');
const BUILD_SCRIPT = join(REPO_ROOT, 'functions', 'build.ts');

/** The mesh layer's code (docs/wire-contract.md, "The layer"). */
export function meshLayerCode(): lambda.Code {
  return lambda.Code.fromAsset(join(assetsDir(), ASSETS.layer));
}

/** A control function's code: a directory with `index.js` exporting `handler`. */
export function controlFunctionCode(name: AssetName): lambda.Code {
  return lambda.Code.fromAsset(join(assetsDir(), name));
}

let built: string | undefined;

/** The folder holding every asset: the package's prebuilt one, or this repository's build of its sources. */
function assetsDir(): string {
  if (existsSync(PACKAGED_ASSETS)) return PACKAGED_ASSETS;
  built ??= buildFromSource();
  return built;
}

function buildFromSource(): string {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new Error(
      `lambda-mesh: neither prebuilt assets (${PACKAGED_ASSETS}) nor the build script (${BUILD_SCRIPT}) exist; reinstall the package`,
    );
  }
  const exclude = ['dist', 'node_modules', '*.test.ts'];
  const fingerprint = createHash('sha256');
  for (const dir of ['functions/mesh', 'functions/control', 'shared']) {
    fingerprint.update(FileSystem.fingerprint(join(REPO_ROOT, dir), { exclude }));
  }
  // The bundles inline their dependencies (zod, x509): a changed lock file rebuilds them.
  for (const file of ['functions/build.ts', 'package-lock.json'])
    fingerprint.update(readFileSync(join(REPO_ROOT, file)));
  const cache = join(REPO_ROOT, 'node_modules', '.cache', 'lambda-mesh-assets');
  const dir = join(cache, fingerprint.digest('hex').slice(0, 32));
  if (existsSync(dir)) return dir;

  // Built aside, then renamed: a test process that builds the same sources at once loses the race harmlessly.
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(cache, { recursive: true });
  // `node --import tsx` rather than `npx tsx`: no npx lookup on every synth.
  const res = spawnSync(process.execPath, ['--import', 'tsx', BUILD_SCRIPT, tmp], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (res.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `lambda-mesh: building the assets with ${BUILD_SCRIPT} failed (exit ${res.status}): ${res.stderr || res.stdout || res.error}`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  return dir;
}
