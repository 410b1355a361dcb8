// Loaded into a CDK app's synthesis by the local mesh (`node --require`). Plain CommonJS: it runs before
// any TypeScript loader.
//
// 1. NodejsFunction bundles each function with `npx --no-install esbuild <args>`: npx starts a Node
//    process per function, which on a busy machine costs a second or more each, while esbuild itself
//    takes milliseconds. This runs the esbuild binary that npx would have found, with the same
//    arguments in the same directory, so the bundle is the same and nothing else changes.
// 2. With MESH_SYNTH_RECORD=<dir> it also writes down, for watch mode, what it takes to redo one
//    bundle alone: each esbuild run's arguments, its output's sha256 and (through esbuild's metafile,
//    which leaves the bundle as it is) the files it read; and at exit the app's own source files. An
//    edit of a function's code that no app file reads can then be rebundled without synthesizing.
'use strict';
const childProcess = require('node:child_process');
const { createHash } = require('node:crypto');
const { appendFileSync, existsSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** node_modules/.bin/esbuild from `dir` upwards, as npx looks it up. */
function localEsbuild(dir) {
  for (let d = dir; ; d = dirname(d)) {
    const bin = join(d, 'node_modules', '.bin', 'esbuild');
    if (existsSync(bin)) return bin;
    if (dirname(d) === d) return undefined;
  }
}

const record = process.env.MESH_SYNTH_RECORD;
let runs = 0;
const spawnSync = childProcess.spawnSync;

childProcess.spawnSync = function spawnEsbuildDirectly(...params) {
  const [command, args, options] = params;
  if (command !== 'npx' || !Array.isArray(args) || args[0] !== '--no-install' || args[1] !== 'esbuild') {
    return spawnSync.apply(this, params);
  }
  const cwd = options?.cwd || process.cwd();
  const bin = localEsbuild(cwd);
  if (!bin) return spawnSync.apply(this, params);
  const esbuildArgs = args.slice(2);
  if (!record) return spawnSync.call(this, bin, esbuildArgs, options);
  const metafile = join(record, `bundle-${++runs}.meta.json`);
  const result = spawnSync.call(this, bin, [...esbuildArgs, `--metafile=${metafile}`], options);
  const outArg = esbuildArgs.find((a) => a.startsWith('--outfile='));
  const outfile = outArg?.slice('--outfile='.length).replace(/^"|"$/g, '');
  if (result.status === 0 && outfile && existsSync(outfile)) {
    const sha256 = createHash('sha256').update(readFileSync(outfile)).digest('hex');
    appendFileSync(
      join(record, 'bundles.jsonl'),
      `${JSON.stringify({ cwd, bin, args: esbuildArgs, outfile, metafile, sha256 })}\n`,
    );
  }
  return result;
};

if (record) {
  process.once('exit', () => {
    const appFiles = Object.keys(require.cache).filter((f) => !f.includes(`${join('node_modules', '')}`));
    writeFileSync(join(record, 'app-files.json'), JSON.stringify(appFiles));
  });
}
