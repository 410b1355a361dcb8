// Loaded into a CDK app's synthesis by the local mesh (`node --require`), in watch mode and for its own
// synths. NodejsFunction bundles each function with `npx --no-install esbuild <args>`: npx starts a
// Node process per function, which on a busy machine costs a second or more each, while esbuild itself
// takes milliseconds. This runs the esbuild binary that npx would have found, with the same arguments
// in the same directory, so the bundle is the same and nothing else changes. Plain CommonJS: it runs
// before any TypeScript loader.
'use strict';
const childProcess = require('node:child_process');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** node_modules/.bin/esbuild from `dir` upwards, as npx looks it up. */
function localEsbuild(dir) {
  for (let d = dir; ; d = dirname(d)) {
    const bin = join(d, 'node_modules', '.bin', 'esbuild');
    if (existsSync(bin)) return bin;
    if (dirname(d) === d) return undefined;
  }
}

const spawnSync = childProcess.spawnSync;
childProcess.spawnSync = function spawnEsbuildDirectly(command, args, options) {
  if (command === 'npx' && Array.isArray(args) && args[0] === '--no-install' && args[1] === 'esbuild') {
    const bin = localEsbuild((options && options.cwd) || process.cwd());
    if (bin) return spawnSync.call(this, bin, args.slice(2), options);
  }
  return spawnSync.apply(this, arguments);
};
