/**
 * The entry of the tests' CLI bundle (mesh-cli-bundle.ts), preloaded into a `mesh` process with
 * `node --require <bundle> cli/bin/mesh.js <args>`: the bin runs unchanged, and its two requires find
 * their modules already loaded. `../main.ts` is the CLI's sources compiled into the bundle; `tsx/cjs`
 * is left empty, since nothing is left for it to compile (its require hook would only slow every
 * require of the AWS SDK that follows).
 */
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import * as cli from '../../cli/main';

const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'mesh.js');

/** Puts `exports` in the require cache under the file `request` names when the bin requires it. */
function preload(request: string, exports: unknown): void {
  const file = createRequire(BIN).resolve(request);
  const mod = new Module(file);
  mod.filename = file;
  mod.exports = exports;
  mod.loaded = true;
  require.cache[file] = mod;
}

preload(join(__dirname, '..', '..', 'cli', 'main.ts'), cli);
preload('tsx/cjs', {});
