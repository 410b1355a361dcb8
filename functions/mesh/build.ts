/**
 * Builds the mesh layer asset (its layout: docs/wire-contract.md, "The layer"):
 *   <outDir>/nodejs/node_modules/lambda-mesh/index.js    the runtime's entry (exports, wrapper handler, init path)
 *   <outDir>/nodejs/node_modules/lambda-mesh/runtime-entry.js  the rest, required by index.js on first use
 *   <outDir>/nodejs/node_modules/lambda-mesh/errors.js   the error classes (re-exported from index.js)
 *   <outDir>/nodejs/node_modules/lambda-mesh/wrapper.js  `module.exports = require('./index.js')`
 *   <outDir>/nodejs/node_modules/lambda-mesh/runtime.js  the same: what `import 'lambda-mesh/runtime'` finds
 *   <outDir>/nodejs/node_modules/lambda-mesh/package.json
 * @aws-sdk/* stays external: the Lambda Node.js runtime provides it (and the local mesh puts the
 * repo's node_modules on NODE_PATH). Run: `npx tsx functions/mesh/build.ts [outDir]`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LAYER } from '../../shared/names';

export const DEFAULT_LAYER_DIR = resolve(__dirname, 'dist', 'layer');

/** How the mesh's Lambda code is bundled: minified CommonJS for Node 20+, the AWS SDK left to the runtime. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@aws-sdk/*'],
  logLevel: 'error',
  legalComments: 'none',
} as const;

export interface BuildLayerResult {
  /** The layer asset directory (the one to zip / hand to `Code.fromAsset`). */
  readonly outDir: string;
  /** Path of the bundled runtime. */
  readonly bundle: string;
  /** Bytes of the bundle before compression. */
  readonly bytes: number;
}

/** Bundles functions/mesh/index.ts into the layer layout under `outDir` (replaced). Synchronous: CDK synth calls it. */
export function buildLayer(outDir: string = DEFAULT_LAYER_DIR): BuildLayerResult {
  // Lazy: esbuild is a build-time dependency, never part of the runtime.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const root = resolve(outDir);
  const pkgDir = join(root, LAYER.packageDir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(pkgDir, { recursive: true });
  const bundle = join(pkgDir, 'index.js');
  const common = { ...BUNDLE_OPTIONS, metafile: true } as const;
  // Two files, one package: index.js holds only the init path and requires ./runtime-entry.js on
  // first use. V8 compiles every byte of a bundle at load (esbuild's lazy module wrappers are
  // parenthesized functions, which V8 compiles eagerly), so the init path must be a small file.
  const entry = esbuild.buildSync({
    ...common,
    entryPoints: [resolve(__dirname, 'index.ts')],
    outfile: bundle,
    external: [...common.external, './runtime-entry'],
  });
  // The error classes live in index.js only (errors.js re-exports them), so `instanceof` holds.
  const rest = esbuild.buildSync({
    ...common,
    entryPoints: [resolve(__dirname, 'runtime-entry.ts')],
    outfile: join(pkgDir, 'runtime-entry.js'),
    external: [...common.external, './errors'],
  });
  writeFileSync(join(pkgDir, 'errors.js'), "module.exports = require('./index.js');\n");
  const result = { metafile: { outputs: { ...entry.metafile!.outputs, ...rest.metafile!.outputs } } };
  writeFileSync(join(pkgDir, 'wrapper.js'), "module.exports = require('./index.js');\n");
  // Handlers import `lambda-mesh/runtime`; their bundles leave it out, and in Lambda it resolves here.
  writeFileSync(join(pkgDir, 'runtime.js'), "module.exports = require('./index.js');\n");
  writeFileSync(
    join(pkgDir, 'package.json'),
    `${JSON.stringify({ name: LAYER.moduleName, version: '0.1.0', main: 'index.js', private: true }, null, 2)}\n`,
  );
  const bytes = Object.values(result.metafile!.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outDir: root, bundle, bytes };
}

if (require.main === module) {
  const r = buildLayer(process.argv[2] ?? DEFAULT_LAYER_DIR);
  console.log(`lambda-mesh layer: ${r.bundle} (${r.bytes} bytes)`);
}
