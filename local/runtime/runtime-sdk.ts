/**
 * The node_modules Lambda's Node.js runtime carries, as a worker sees it. Lambda's runtime puts its own
 * node_modules on NODE_PATH, and that folder holds the AWS SDK for JavaScript v3 and nothing else: the
 * `@aws-sdk/*` packages and what they depend on (`@smithy/*`, `@aws-crypto/*`, `tslib`, ...). "Building
 * Lambda functions with Node.js" (AWS Lambda Developer Guide) names the SDK as what the runtime includes.
 *
 * Locally the SDK comes from the node_modules folders Node searches from this package: this repository's,
 * or, when the mesh is installed as a package, the app's, which holds every other package of the app too
 * (npm and yarn hoist the package's dependencies there; pnpm links them beside the package in its store,
 * `node_modules/.pnpm/lambda-mesh@<v>/node_modules`, and the app's own in its node_modules). On NODE_PATH as
 * it is, a package the function's bundle left out (an external module, a `nodeModules` entry never
 * installed) would load locally and fail only on Lambda, at init. So a worker's NODE_PATH gets a folder of
 * links to that closure alone, made once per mesh run.
 */

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** How the closure reads the packages: where a name resolves from a folder, and a package's dependencies. */
export interface PackageLookup {
  /** The folder of package `name` as Node finds it from `fromDir`, or undefined. */
  find(name: string, fromDir: string): string | undefined;
  /** The names a package at `dir` depends on. */
  dependencies(dir: string): readonly string[];
}

/**
 * Pure: the packages reachable from `roots` through their dependencies, each name with the folder Node
 * finds it in from the package that needs it. The first folder found for a name wins: the roots come
 * first, as npm hoists the SDK's own packages to the top of its folder. A copy nested under the package
 * that needs it is that package's own: it is followed for its dependencies, but the runtime's folder does
 * not show it at its top.
 */
export function dependencyClosure(roots: ReadonlyMap<string, string>, lookup: PackageLookup): Map<string, string> {
  const found = new Map(roots);
  const seen = new Set(roots.values());
  const queue = [...roots.values()];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    for (const name of lookup.dependencies(dir)) {
      const at = lookup.find(name, dir);
      // Not installed (an optional dependency for another platform): Lambda's runtime lacks it too.
      if (at === undefined || seen.has(at)) continue;
      seen.add(at);
      queue.push(at);
      if (!at.startsWith(join(dir, 'node_modules')) && !found.has(name)) found.set(name, at);
    }
  }
  return found;
}

/**
 * The lookup on disk: Node's walk up through the node_modules folders above a package's real path (a
 * package's folder is given by its real path too, so a linked layout such as pnpm's resolves as Node does).
 */
export const diskLookup: PackageLookup = {
  find(name, fromDir) {
    for (let dir = realpathSync(fromDir); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
      if (dirname(dir) === dir) return undefined;
    }
  },
  dependencies(dir) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const names = (field: string) => Object.keys((pkg[field] as Record<string, string> | undefined) ?? {});
    return [...names('dependencies'), ...names('optionalDependencies'), ...names('peerDependencies')];
  },
};

/**
 * Pure: the node_modules folders Node searches for a package required from `dir`, nearest first (as
 * `require.resolve.paths` gives them for a module in `dir`). `dir` is a real path: Node resolves from a
 * module's real path, which for a package pnpm installed is in its store.
 */
export function nodeModulesChain(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== 'node_modules') out.push(join(d, 'node_modules'));
    if (dirname(d) === d) return out;
  }
}

/** The `@aws-sdk/*` packages in the folders Node searches, the nearest copy of each name. */
export function sdkRootsIn(folders: readonly string[]): Map<string, string> {
  const roots = new Map<string, string>();
  for (const folder of folders) {
    for (const [name, dir] of sdkRoots(folder)) if (!roots.has(name)) roots.set(name, dir);
  }
  return roots;
}

/** The `@aws-sdk/*` packages installed in `nodeModules`: what the runtime's SDK stands in for. */
export function sdkRoots(nodeModules: string): Map<string, string> {
  const scope = join(nodeModules, '@aws-sdk');
  const roots = new Map<string, string>();
  if (!existsSync(scope)) return roots;
  for (const name of readdirSync(scope).sort()) {
    const dir = join(scope, name);
    if (existsSync(join(dir, 'package.json'))) roots.set(`@aws-sdk/${name}`, realpathSync(dir));
  }
  return roots;
}

/**
 * A folder `<root>/runtime-<key>/node_modules` of links to the closure of the SDK in `folders` (the
 * node_modules folders Node searches, nearest first), made once (staged and renamed, as two meshes may
 * make it at once). Links, not copies: Node follows a link to the package's real path, so the SDK's own
 * requires resolve where it is installed, and nothing is copied.
 */
export function runtimeSdkDir(folders: readonly string[], root: string, lookup: PackageLookup = diskLookup): string {
  const key = createHash('sha256').update(folders.join('\n')).digest('hex').slice(0, 16);
  const dir = join(root, `runtime-${key}`, 'node_modules');
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  for (const [name, target] of dependencyClosure(sdkRootsIn(folders), lookup)) {
    mkdirSync(dirname(join(tmp, name)), { recursive: true });
    symlinkSync(target, join(tmp, name), 'dir');
  }
  mkdirSync(tmp, { recursive: true }); // an empty closure is a folder still
  try {
    renameSync(tmp, dir);
  } catch {
    // Another mesh made the same folder at the same moment; theirs is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
