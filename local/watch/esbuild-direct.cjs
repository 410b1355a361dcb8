// Loaded into a CDK app's synthesis by the local mesh (`node --require`). Plain CommonJS: it runs before
// any TypeScript loader.
//
// 1. NodejsFunction bundles each function through the app's package manager, the one its lock file
//    names: `npx --no-install esbuild <args>`, `pnpm exec -- esbuild <args>`, `yarn run esbuild <args>`
//    or `bun run esbuild <args>`. Each starts a Node process per function, which on a busy machine
//    costs a second or more each, while esbuild itself takes milliseconds. This runs the esbuild binary
//    the package manager would have found (the nearest node_modules/.bin), with the same arguments in
//    the same directory, so the bundle is the same and nothing else changes; and watch mode, which
//    records these runs, can rebundle one function alone whatever the package manager.
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

/** The runners NodejsFunction puts before esbuild's arguments (aws-lambda-nodejs PackageManager). */
const RUNNERS = {
  npx: ['--no-install', 'esbuild'],
  pnpm: ['exec', '--', 'esbuild'],
  yarn: ['run', 'esbuild'],
  bun: ['run', 'esbuild'],
};

/** esbuild's own arguments, when `command args` is a package manager running esbuild; else undefined. */
function esbuildArgsOf(command, args) {
  const prefix = Object.hasOwn(RUNNERS, command) ? RUNNERS[command] : undefined;
  if (!prefix || !Array.isArray(args) || !prefix.every((a, i) => args[i] === a)) return undefined;
  return args.slice(prefix.length);
}

childProcess.spawnSync = function spawnEsbuildDirectly(...params) {
  const [command, args, options] = params;
  const esbuildArgs = esbuildArgsOf(command, args);
  if (!esbuildArgs) return spawnSync.apply(this, params);
  const cwd = options?.cwd || process.cwd();
  const bin = localEsbuild(cwd);
  if (!bin) return spawnSync.apply(this, params);
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
