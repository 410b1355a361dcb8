#!/usr/bin/env node
// `npm run build`, and `npm pack` / `npm publish` through `prepack`: what the package ships, in dist/.
//   dist/infra, shared, cli, local, functions  JavaScript and declarations (tsc -p tsconfig.build.json)
//   dist/assets                                the prebuilt Lambda assets: the mesh layer and the control
//                                              functions (functions/build.ts), so an app's synth builds none
//   dist/runtime.js                            `lambda-mesh/runtime` outside Lambda: the layer's own bundle
// plus the plain files the compiled code reads beside itself. Needs the dev dependencies (tsc, tsx, esbuild).

const { spawnSync } = require('node:child_process');
const { copyFileSync, mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
const started = Date.now();

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  console.error('build: tsc -p tsconfig.build.json failed');
  process.exit(tsc.status ?? 1);
}
for (const file of [
  'local/runtime/worker-bootstrap.js',
  'local/runtime/runtime-errors.js',
  'local/runtime/esm-layer-resolve.mjs',
  'local/dashboard/dashboard.html',
  'local/watch/esbuild-direct.cjs',
]) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  copyFileSync(join(root, file), join(dist, file));
}
require('tsx/cjs/api').register();
const { buildAssets } = require('../functions/build.ts');
const sizes = buildAssets(join(dist, 'assets'));
// One copy of the runtime: outside Lambda `lambda-mesh/runtime` loads the layer's bundle. Through a
// file, because Node refuses an `exports` target with a node_modules segment (the layer's layout).
writeFileSync(
  join(dist, 'runtime.js'),
  "module.exports = require('./assets/mesh-layer/nodejs/node_modules/lambda-mesh/wrapper.js');\n",
);
const summary = Object.entries(sizes)
  .map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KB`)
  .join(', ');
process.stderr.write(`build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (assets: ${summary})\n`);
