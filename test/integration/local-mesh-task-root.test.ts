/**
 * A function's code runs as from Lambda's /var/task: nothing of the folder `cdk.out` sits in is seen.
 * In an app that installed lambda-mesh, `require('lambda-mesh/runtime')` from `cdk.out/asset.x/` would
 * otherwise find the app's node_modules/lambda-mesh (Node looks there before NODE_PATH) and run a
 * second runtime beside the layer's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';

describe('local mesh: the function code is copied out of the app, as Lambda unpacks it into /var/task', () => {
  let dir = '';
  let invoker: LocalInvoker;

  before(() => {
    // GIVEN an app with lambda-mesh installed, a synthesized asset in its cdk.out, and a layer with the runtime
    dir = mkdtempSync(join(tmpdir(), 'task-root-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('app/node_modules/lambda-mesh/runtime.js', "exports.copy = 'the app';\n");
    write('layer/nodejs/node_modules/lambda-mesh/runtime.js', "exports.copy = 'the layer';\n");
    write(
      'app/cdk.out/asset.1/index.js',
      "exports.handler = async () => ({ copy: require('lambda-mesh/runtime').copy, root: process.env.LAMBDA_TASK_ROOT, util: require('lib/util').name });\n",
    );
    // A folder of the code required by a bare name: Lambda's NODE_PATH ends with /var/task.
    write('app/cdk.out/asset.1/lib/util.js', "exports.name = 'lib/util';\n");
    const registry = new FunctionRegistry();
    registry.putFunction({
      name: 'shop-orders',
      codeDir: join(dir, 'app', 'cdk.out', 'asset.1'),
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeout: 10,
      memorySize: 128,
      environment: {},
      layerDirs: [join(dir, 'layer')],
      codeSha256: 'asset-1',
    });
    invoker = new LocalInvoker({ registry, workDir: join(dir, 'work') });
  });
  after(async () => {
    await invoker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resolves lambda-mesh/runtime to the layer's copy, from a task root outside the app, the task root last on NODE_PATH", async () => {
    // WHEN
    const result = await invoker.invoke({
      functionName: 'shop-orders',
      version: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-orders',
      payload: Buffer.from('{}'),
      invocationType: 'RequestResponse',
      logTail: false,
      requestId: 'r-1',
    });
    // THEN
    assert.equal(result.functionError, undefined, String(result.payload));
    const body = JSON.parse(Buffer.from(result.payload).toString('utf8')) as {
      copy: string;
      root: string;
      util: string;
    };
    assert.equal(body.copy, 'the layer');
    assert.equal(body.util, 'lib/util', 'the task root is on NODE_PATH, last');
    assert.ok(!body.root.startsWith(join(dir, 'app')), `LAMBDA_TASK_ROOT ${body.root} is inside the app`);
  });
});
