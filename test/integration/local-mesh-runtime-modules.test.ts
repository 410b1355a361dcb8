/**
 * What a function's code can load in a local worker, against what Lambda's Node.js runtime lets it load:
 * its own code, its layers' node_modules, and the AWS SDK the runtime carries (with the SDK's own
 * dependencies), nothing else. `zod` stands for a package the bundle left out: it sits in the folder the
 * SDK is taken from (this repository's node_modules here, an app's when the mesh is installed there, as
 * a dependency of lambda-mesh), and Lambda has no copy of it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';

const CODE: Record<string, string> = {
  'external.js': "const z = require('zod');\nexports.handler = async () => typeof z.object;\n",
  'sdk.js': [
    "const { LambdaClient } = require('@aws-sdk/client-lambda');",
    "const tslib = require('tslib');",
    "const smithy = require('@smithy/core');",
    'exports.handler = async () => [typeof LambdaClient, typeof tslib.__awaiter, typeof smithy];',
  ].join('\n'),
  'layered.js': "exports.handler = async () => require('left-pad')('7', 3);\n",
  'esm-external.mjs': "import { z } from 'zod';\nexport const handler = async () => typeof z.object;\n",
  'esm-sdk.mjs': [
    "import { LambdaClient } from '@aws-sdk/client-lambda';",
    "import leftPad from 'left-pad';",
    "export const handler = async () => [typeof LambdaClient, leftPad('7', 3)];",
  ].join('\n'),
};

describe('local mesh: a worker finds the modules Lambda would find', () => {
  let dir = '';
  let invoker: LocalInvoker;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runtime-modules-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    for (const [file, text] of Object.entries(CODE)) write(join('code', file), text);
    write('layer/nodejs/node_modules/left-pad/package.json', '{ "name": "left-pad", "main": "index.js" }\n');
    write('layer/nodejs/node_modules/left-pad/index.js', "module.exports = (s, n) => String(s).padStart(n, '0');\n");
    const registry = new FunctionRegistry();
    for (const file of Object.keys(CODE)) {
      const name = file.slice(0, file.indexOf('.'));
      registry.putFunction({
        name,
        codeDir: join(dir, 'code'),
        handler: `${name}.handler`,
        runtime: 'nodejs22.x',
        timeout: 20,
        memorySize: 128,
        environment: {},
        layerDirs: [join(dir, 'layer')],
        codeSha256: name,
      });
    }
    invoker = new LocalInvoker({ registry, workDir: join(dir, 'work') });
  });
  after(async () => {
    await invoker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function invoke(functionName: string) {
    const result = await invoker.invoke({
      functionName,
      version: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      payload: Buffer.from('{}'),
      invocationType: 'RequestResponse',
      logTail: true,
      requestId: `r-${functionName}`,
    });
    const body = JSON.parse(Buffer.from(result.payload).toString('utf8')) as unknown;
    return { ...result, body, log: Buffer.from(result.logTail ?? '', 'base64').toString('utf8') };
  }

  it('loads the AWS SDK and its dependencies, as the runtime carries them', async () => {
    const out = await invoke('sdk');
    assert.equal(out.functionError, undefined, JSON.stringify(out.body));
    assert.deepEqual(out.body, ['function', 'function', 'object']);
  });

  it("loads a layer's package", async () => {
    const out = await invoke('layered');
    assert.equal(out.functionError, undefined, JSON.stringify(out.body));
    assert.equal(out.body, '007');
  });

  it('fails the init of a CommonJS handler that requires a package Lambda would not have', async () => {
    const out = await invoke('external');
    assert.equal(out.functionError, 'Unhandled');
    const body = out.body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, 'Runtime.ImportModuleError', JSON.stringify(body));
  });

  it('an ES module handler finds the SDK and its layers', async () => {
    const out = await invoke('esm-sdk');
    assert.equal(out.functionError, undefined, JSON.stringify(out.body));
    assert.deepEqual(out.body, ['function', '007']);
  });

  it('an ES module handler does not fall through to the packages beside the SDK', async () => {
    const out = await invoke('esm-external');
    assert.equal(out.functionError, 'Unhandled', JSON.stringify(out.body));
    const body = out.body as { errorType: string; errorMessage: string };
    assert.match(body.errorMessage, /^Cannot find package 'zod' imported from .*esm-external\.mjs/);
  });
});
