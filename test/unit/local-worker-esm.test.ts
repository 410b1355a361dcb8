/**
 * An execution environment of the local mesh finds a layer's packages from the function's code as
 * Lambda does: through NODE_PATH for CommonJS, and for an .mjs handler too (nodejs18.x and later
 * resolve ES module imports from layers). A bundle built with `format: OutputFormat.ESM` (index.mjs)
 * imports `lambda-mesh/runtime` this way.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from '../../local/runtime/worker';

let dir = '';
/** A layer's module folder, as /opt/nodejs/node_modules, holding one package. */
let layerModules = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-worker-esm-'));
  layerModules = join(dir, 'opt', 'nodejs', 'node_modules');
  const pkg = join(layerModules, 'layer-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'layer-pkg', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), "exports.greet = () => 'from the layer';\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one invocation of the handler `files` define, in a fresh environment with the layer on NODE_PATH. */
async function invokeOnce(name: string, files: Record<string, string>) {
  const task = join(dir, name);
  mkdirSync(task);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(task, file), text);
  const lines: string[] = [];
  const worker = new Worker({
    env: { PATH: process.env.PATH ?? '', NODE_PATH: layerModules, _HANDLER: 'index.handler', LAMBDA_TASK_ROOT: task },
    cwd: task,
    memorySize: 256,
    onLine: (line) => lines.push(line),
  });
  try {
    const ready = await worker.ready;
    assert.ok(!('error' in ready), `init failed: ${JSON.stringify(ready)}\n${lines.join('\n')}`);
    const out = await worker.invoke({
      id: '1',
      payload: '{}',
      deadlineMs: Date.now() + 30_000,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    });
    // What the handler answered; the memory the environment used is the REPORT line's business.
    return { kind: out.kind, payload: 'payload' in out ? out.payload : undefined };
  } finally {
    await worker.kill();
  }
}

const ESM_HANDLER = "import { greet } from 'layer-pkg';\nexport const handler = async () => greet();\n";

test('an .mjs handler imports a package of a layer', async () => {
  const out = await invokeOnce('mjs', { 'index.mjs': ESM_HANDLER });
  assert.deepEqual(out, { kind: 'result', payload: '"from the layer"' });
});

test('a CommonJS handler requires a package of a layer through NODE_PATH', async () => {
  const cjs = "const { greet } = require('layer-pkg');\nexports.handler = async () => greet();\n";
  const out = await invokeOnce('cjs', { 'index.js': cjs });
  assert.deepEqual(out, { kind: 'result', payload: '"from the layer"' });
});
