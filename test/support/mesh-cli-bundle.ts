/**
 * The CLI's TypeScript sources compiled once into one CommonJS file, for the tests that start `mesh`
 * many times. In this repository `cli/bin/mesh.js` compiles the sources on the fly with tsx: every
 * process then loads tsx, looks up its transform cache for each of the ~130 source files, and routes
 * every require of the AWS SDK through tsx's resolver, about 0.3 s of CPU time of a call's 0.7 s.
 * With `node --require <bundle> cli/bin/mesh.js`, the bin runs unchanged and finds the CLI already
 * loaded (mesh-cli-preload.ts). The packages (AWS SDK, zod) stay outside the bundle: the CLI loads the
 * same ones from node_modules as it does for a user.
 *
 * The bundle is named after a fingerprint of every file the CLI can import (the folders below, the
 * tsconfig, esbuild's version and this file's own options) and of the checkout's path, so a changed
 * source makes a new one and a bundle is never stale. It is built aside and renamed into
 * node_modules/.cache: test files that build the same sources at once lose the race harmlessly.
 * `__dirname` keeps the folder of the source file it is written in, so the CLI finds the files it reads
 * beside its sources (the local mesh's worker bootstrap, the dashboard page) where it does when run by tsx.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type * as esbuild from 'esbuild';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(__dirname, 'mesh-cli-preload.ts');
/** Every folder the CLI can import from: it deploys nothing, so never infra/ (test/unit/layering.test.ts). */
const SOURCE_DIRS = ['cli', 'shared', 'local', 'functions'];
const CACHE = join(ROOT, 'node_modules', '.cache', 'lambda-mesh-cli');
const BUNDLE = 'mesh-cli.js';

let bundle: Promise<string> | undefined;

/** The path of the bundle for the sources as they are now, built on first need. */
export function meshCliBundle(): Promise<string> {
  bundle ??= cachedBundle();
  return bundle;
}

async function cachedBundle(): Promise<string> {
  const build = require('esbuild') as typeof esbuild;
  const dir = join(CACHE, sourcesFingerprint(build.version));
  if (!existsSync(join(dir, BUNDLE))) await buildInto(build, dir);
  return join(dir, BUNDLE);
}

function sourcesFingerprint(esbuildVersion: string): string {
  // The checkout's own path too: the bundle holds its sources' absolute paths (sourceDirname, and the
  // preload's keys), so a checkout that shares node_modules/.cache with another (a git worktree whose
  // node_modules is a copy) must not run the other's bundle, which would leave its own CLI to tsx.
  const hash = createHash('sha256').update(esbuildVersion).update(`\0${ROOT}\0`);
  for (const file of [__filename, ENTRY, join(ROOT, 'tsconfig.json')]) addFile(hash, file);
  for (const dir of SOURCE_DIRS) addTree(hash, join(ROOT, dir));
  return hash.digest('hex').slice(0, 32);
}

function addTree(hash: Hash, dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) addTree(hash, path);
    else if (entry.isFile()) addFile(hash, path);
  }
}

function addFile(hash: Hash, file: string): void {
  hash.update(`\0${relative(ROOT, file)}\0`).update(readFileSync(file));
}

async function buildInto(build: typeof esbuild, dir: string): Promise<void> {
  // Async: esbuild runs plugins in its build service only.
  const result = await build.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    plugins: [sourceDirname],
    metafile: true,
    write: false,
    outfile: join(dir, BUNDLE),
    logLevel: 'silent',
  });
  const outside = Object.keys(result.metafile.inputs).filter(
    (f) => f !== relative(ROOT, ENTRY) && !SOURCE_DIRS.some((d) => f.startsWith(`${d}/`)),
  );
  if (outside.length > 0) {
    throw new Error(
      `the CLI imports ${outside.join(', ')}, outside ${SOURCE_DIRS.join(', ')}: add its folder to SOURCE_DIRS in ${__filename}`,
    );
  }
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(join(CACHE, 'staging-'));
  writeFileSync(join(staging, BUNDLE), result.outputFiles[0]!.contents);
  try {
    renameSync(staging, dir);
  } catch (err) {
    // Another test file renamed its build of the same sources first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, BUNDLE))) throw err;
  }
}

/** `__dirname` and `__filename` in a source file say where that file is, not where the bundle is. */
const sourceDirname: esbuild.Plugin = {
  name: 'source-dirname',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8')
        .replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path)))
        .replace(/\b__filename\b/g, JSON.stringify(args.path)),
      loader: args.path.endsWith('ts') ? 'ts' : 'js',
    }));
  },
};
