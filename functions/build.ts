/**
 * Builds every Lambda asset the constructs ship (shared/names.ts ASSETS), one directory each:
 *   <outDir>/mesh-layer/      the mesh layer, by functions/mesh/build.ts (docs/wire-contract.md)
 *   <outDir>/policy-seeder/   index.js: functions/control/policy-seeder.ts bundled (Custom::MeshPolicy)
 *   <outDir>/issuer/          index.js: functions/control/issuer.ts bundled (identity issuer)
 *   <outDir>/deploy-hook/     index.js: functions/control/deploy-hook.ts bundled (gated deployments' pre-traffic hook)
 *   <outDir>/policy-stream/   index.js: functions/control/policy-stream.ts bundled (the policy table's stream)
 * `npm pack` runs it into dist/assets (scripts/build.js), so an app's `cdk synth` compiles none of
 * the mesh's sources; in this repository `Mesh` runs it on first need (infra/private/asset-code.ts).
 * Run: `npx tsx functions/build.ts <outDir>`.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASSETS, type AssetName } from '../shared/names';
import { BUNDLE_OPTIONS, buildLayer } from './mesh/build';

/** The control-plane functions: asset name -> entry, relative to functions/. */
const CONTROL_FUNCTIONS = {
  [ASSETS.policySeeder]: 'control/policy-seeder.ts',
  [ASSETS.issuer]: 'control/issuer.ts',
  [ASSETS.deployHook]: 'control/deploy-hook.ts',
  [ASSETS.policyStream]: 'control/policy-stream.ts',
} as const;

/** Bytes of each asset's code before compression. */
export type AssetSizes = Record<AssetName, number>;

/** Builds every asset under `outDir` (replaced). Synchronous: CDK synth may call it. */
export function buildAssets(outDir: string): AssetSizes {
  // Lazy: esbuild is a build-time dependency, never part of what the package loads.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const root = resolve(outDir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const sizes = { [ASSETS.layer]: buildLayer(join(root, ASSETS.layer)).bytes } as AssetSizes;
  for (const [name, entry] of Object.entries(CONTROL_FUNCTIONS) as [AssetName, string][]) {
    const outfile = join(root, name, 'index.js');
    esbuild.buildSync({
      ...BUNDLE_OPTIONS,
      external: [...BUNDLE_OPTIONS.external],
      entryPoints: [resolve(__dirname, entry)],
      outfile,
    });
    sizes[name] = statSync(outfile).size;
  }
  return sizes;
}

if (require.main === module) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: tsx functions/build.ts <outDir>');
    process.exit(2);
  }
  const sizes = buildAssets(outDir);
  for (const [name, bytes] of Object.entries(sizes)) console.log(`${name}: ${bytes} bytes`);
}
