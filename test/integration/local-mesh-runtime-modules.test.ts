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
  'versioned.js': [
    'const found = (name) => { try { return require(name); } catch { return null; } };',
    "exports.handler = async () => [found('only-node22'), found('only-node20'), require('both')];",
  ].join('\n'),
  'syntax.js': 'exports.handler = async () => { return 1 +; };\n',
  'throws.js': "throw new Error('no configuration');\n",
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
    // The folders Lambda puts on NODE_PATH for a nodejs22.x function, and one it does not.
    for (const [folder, name, text] of [
      ['nodejs/node22/node_modules', 'only-node22', "'node22'"],
      ['nodejs/node20/node_modules', 'only-node20', "'node20'"],
      ['nodejs/node22/node_modules', 'both', "'node22'"],
      ['nodejs/node_modules', 'both', "'nodejs'"],
    ])
      write(`layer/${folder}/${name}/index.js`, `module.exports = ${text};\n`);
    const registry = new FunctionRegistry();
    // `missing` names a file the code does not have.
    for (const file of [...Object.keys(CODE), 'missing.js']) {
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
    return { ...result, body, log: result.logTail ?? '' };
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

  it("finds a layer's packages in the folders of the function's runtime, the version's folder first", async () => {
    const out = await invoke('versioned');
    assert.equal(out.functionError, undefined, JSON.stringify(out.body));
    assert.deepEqual(out.body, ['node22', null, 'node22']);
  });

  it("fails the init of a CommonJS handler that requires a package Lambda would not have, in Lambda's words", async () => {
    const out = await invoke('external');
    assert.equal(out.functionError, 'Unhandled');
    const body = out.body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, 'Runtime.ImportModuleError', JSON.stringify(body));
    // As Lambda answers: the require's error as a string, its require stack down to the runtime's file.
    const [message, stack, requirer, runtime] = body.errorMessage.split('\n');
    assert.equal(message, "Error: Cannot find module 'zod'");
    assert.equal(stack, 'Require stack:');
    assert.match(requirer, /^- \/.+\/external\.js$/);
    assert.match(runtime, /^- \/.+\/worker-bootstrap\.js$/);
    assert.deepEqual(body.trace.slice(0, 4), [`Runtime.ImportModuleError: ${message}`, stack, requirer, runtime]);
    assert.match(body.trace[4], /^ {4}at /);
    // The log says it as Lambda's does, outside any request.
    const logged = out.log.split('\n').find((l) => l.includes('Uncaught Exception'));
    assert.ok(logged, out.log);
    const [, requestId, level, text, json] = logged.split('\t');
    assert.deepEqual([requestId, level, text], ['undefined', 'ERROR', 'Uncaught Exception ']);
    assert.deepEqual(JSON.parse(json), {
      errorType: body.errorType,
      errorMessage: body.errorMessage,
      stack: body.trace,
    });
  });

  it('names a handler file that is not there, a syntax error and any other throw at init as Lambda does', async () => {
    const missing = (await invoke('missing')).body as { errorType: string; errorMessage: string };
    assert.equal(missing.errorType, 'Runtime.ImportModuleError');
    assert.match(
      missing.errorMessage,
      /^Error: Cannot find module 'missing'\nRequire stack:\n- \/.+\/worker-bootstrap\.js$/,
    );
    const syntax = (await invoke('syntax')).body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(syntax.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(syntax.errorMessage, /^SyntaxError: Unexpected token/);
    assert.match(syntax.trace[0], /^Runtime\.UserCodeSyntaxError: SyntaxError: /);
    const thrown = (await invoke('throws')).body as { errorType: string; errorMessage: string };
    assert.deepEqual([thrown.errorType, thrown.errorMessage], ['Error', 'no configuration']);
  });

  it('an ES module handler finds the SDK and its layers', async () => {
    const out = await invoke('esm-sdk');
    assert.equal(out.functionError, undefined, JSON.stringify(out.body));
    assert.deepEqual(out.body, ['function', '007']);
  });

  it('an ES module handler does not fall through to the packages beside the SDK', async () => {
    const out = await invoke('esm-external');
    assert.equal(out.functionError, 'Unhandled', JSON.stringify(out.body));
    // An ES module's missing package is not one the runtime renames: Node's error as it is.
    const body = out.body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, 'Error');
    assert.match(body.errorMessage, /^Cannot find package 'zod' imported from \/.+\/esm-external\.mjs$/);
    assert.match(body.trace[0], /^Error \[ERR_MODULE_NOT_FOUND\]: Cannot find package 'zod'/);
  });
});
