/**
 * Module resolve hooks for an execution environment's ES modules: a bare import (`lambda-mesh/runtime`)
 * that Node finds in no node_modules above the importing file is looked up in the layers' folders, as
 * Lambda's Node.js runtimes do from nodejs18.x on ("Lambda supports JavaScript ES module dependencies
 * for Node.js 18", AWS Knowledge Center: "How do I resolve 'Cannot find module' or 'Cannot find
 * package' errors when I run Lambda code in Node.js?"). CommonJS gets the same folders from NODE_PATH,
 * which ES modules ignore. The last of them holds the runtime's AWS SDK alone (runtime-sdk.ts), so an
 * import finds what it would find on Lambda and nothing of the app around the mesh.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** NODE_PATH's module folders, in its order: the layers', then the runtime's SDK. */
let folders = [];

export function initialize(data) {
  folders = data?.folders ?? [];
}

/** A package name, not a relative path, an absolute path or a URL (`node:fs`, `file:///...`). */
function isBare(specifier) {
  return !/^[./]/.test(specifier) && !/^[a-z][a-z0-9+.-]*:/i.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw err;
    for (const folder of folders) {
      // As if imported by a file in `folder`'s parent, whose node_modules is `folder`.
      const parentURL = pathToFileURL(join(folder, '..', 'layer-import.mjs')).href;
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // Not in this layer folder: try the next.
      }
    }
    throw err;
  }
}
