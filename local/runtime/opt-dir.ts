/**
 * Lambda unpacks a function's layers into /opt, later layers overwriting earlier ones. Locally each
 * distinct layer list gets one merged directory (copied, not symlinked: Node resolves a module's
 * relative requires from its real path, and a layer's files must see each other as they do in /opt).
 */

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Prefix Lambda mounts layers under. */
export const OPT = '/opt';

export function mergedOptDir(layerDirs: readonly string[], root: string): string {
  return copiedDir('opt', 'Layer', layerDirs, root);
}

/**
 * Lambda unpacks a function's code into /var/task, with no node_modules or package.json above it.
 * Locally the code is copied out of cdk.out into a folder of its own for the same reason: inside an
 * app's folder, `require('lambda-mesh/runtime')` would find the app's installed package (Node looks in
 * the parents' node_modules before NODE_PATH) instead of the layer's copy, and run a second runtime.
 */
export function taskDir(codeDir: string, root: string): string {
  return copiedDir('task', 'Code', [codeDir], root);
}

/** `sources` copied in order into one folder under `root`, made once per list of sources. */
function copiedDir(prefix: string, kind: string, sources: readonly string[], root: string): string {
  const key = createHash('sha256').update(JSON.stringify(sources)).digest('hex').slice(0, 16);
  const dir = join(root, `${prefix}-${key}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  for (const source of sources) {
    if (!existsSync(source))
      throw new Error(`${kind} asset directory ${source} does not exist: synthesize the app again (npx cdk synth).`);
    cpSync(source, tmp, { recursive: true, force: true, dereference: true });
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // Another mesh built the same dir at the same moment; theirs is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Rewrites `/opt/...` (a handler or an env value) into the merged dir. */
export function rewriteOpt(value: string, optDir: string): string {
  return value === OPT || value.startsWith(`${OPT}/`) ? optDir + value.slice(OPT.length) : value;
}

/**
 * Pure: the folders of the merged layers on Lambda's NODE_PATH, in its order: `nodejs/node<N>/node_modules`
 * for the function's runtime (nodejs22.x: node22), then `nodejs/node_modules` (the runtime's bootstrap
 * sets them so; "Defined runtime environment variables", AWS Lambda Developer Guide, lists the versioned
 * folder first). A runtime name without a version takes this Node's.
 */
export function layerNodePath(optDir: string, runtime: string): string[] {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1] ?? process.versions.node.split('.')[0];
  return [join(optDir, `nodejs/node${major}/node_modules`), join(optDir, 'nodejs/node_modules')];
}
