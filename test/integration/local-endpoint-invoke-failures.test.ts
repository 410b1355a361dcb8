/**
 * How a failing Node.js function answers Invoke, with real workers: the error document and the log
 * tail's failure line as Lambda's Node.js runtime writes them. No recording from AWS covers these
 * cases beyond a thrown Error (test_lambda_common: test_uncaught_exception_invoke, in
 * local-endpoint-invoke-answers.test.ts); they follow the runtime interface client of the nodejs20.x
 * and nodejs22.x runtimes (aws-lambda-nodejs-runtime-interface-client, Errors.js, CallbackContext.js,
 * Runtime.js, UserFunction.js) and, where it differs, the one of nodejs24.x.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { startWorkerEndpoint, type WorkerEndpoint } from '../support/worker-endpoint';

const HANDLERS: Record<string, string> = {
  'throws-custom': `class OutOfStock extends Error {
    constructor(message) { super(message); this.name = 'OutOfStock'; this.sku = 'a1'; }
  }
  exports.handler = async () => { throw new OutOfStock('none left'); };`,
  'throws-nothing': `exports.handler = async () => { throw undefined; };`,
  'fails-nothing': `exports.handler = (event, context) => { context.fail(); };`,
  'calls-back-error': `exports.handler = (event, context, callback) => callback(new TypeError('bad sku'));`,
  'throws-error-like': `exports.handler = async () => {
    throw { name: 'Oops', message: 'went wrong', stack: 'Oops: went wrong\\n    at somewhere' };
  };`,
  'rejects-unhandled-string': `exports.handler = async () => {
    Promise.reject('out of stock');
    await new Promise((r) => setTimeout(r, 2000));
    return 'finished';
  };`,
  'rejects-unhandled-error': `exports.handler = async () => {
    Promise.reject(new Error('boom'));
    await new Promise((r) => setTimeout(r, 2000));
    return 'finished';
  };`,
  'returns-plain': `exports.handler = (event) => ({ ok: true });`,
  'exports-a-number': `exports.handler = 42;`,
  'never-settles': `exports.handler = async () => new Promise(() => {});`,
  'plain-never-settles': `exports.handler = () => new Promise(() => {});`,
  'calls-back-then-logs': `exports.handler = (event, context, callback) => {
    setTimeout(() => console.log('after the callback'), 200);
    callback(null, 'answered');
  };`,
  'exhausts-heap': `const kept = [];
  exports.handler = async () => {
    for (;;) kept.push(new Array(100000).fill({ n: Math.random() }));
  };`,
  'calls-back-without-waiting': `exports.handler = (event, context, callback) => {
    context.callbackWaitsForEmptyEventLoop = false;
    setTimeout(() => console.log('after the callback'), 5000).unref();
    callback(null, 'answered');
  };`,
};

const text = (r: InvokeCommandOutput) => Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');
const tailOf = (r: InvokeCommandOutput) => Buffer.from(r.LogResult ?? '', 'base64').toString('utf8');

/** The JSON after a failure line's label in a text-format log tail (`<time>\t<id>\tERROR\t<label> \t{...}`). */
function failureLine(tail: string, label: string): Record<string, unknown> {
  const line = tail.split('\n').find((l) => l.includes(`\tERROR\t${label} \t`));
  assert.ok(line, `no '${label}' line in:\n${tail}`);
  return JSON.parse(line.slice(line.indexOf(`${label} \t`) + label.length + 2));
}

describe('local endpoint: a failing Node.js function answers as its runtime does', () => {
  let dir: string;
  let workers: WorkerEndpoint;
  let lambda: LambdaClient;
  const invoke = (FunctionName: string) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from('{}'), LogType: 'Tail' }));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-invoke-failures-'));
    const code = join(dir, 'code');
    mkdirSync(code);
    const registry = new FunctionRegistry();
    const put = (name: string, handler: string, runtime: string) =>
      registry.putFunction({
        name,
        codeDir: code,
        handler,
        runtime,
        timeout: 20,
        memorySize: name === 'exhausts-heap' ? 128 : 256,
        environment: {},
        layerDirs: [],
        codeSha256: name,
      });
    for (const [name, source] of Object.entries(HANDLERS)) {
      writeFileSync(join(code, `${name}.js`), source);
      put(name, `${name}.handler`, 'nodejs20.x');
    }
    put('returns-plain-24', 'returns-plain.handler', 'nodejs24.x');
    put('throws-nothing-24', 'throws-nothing.handler', 'nodejs24.x');
    workers = await startWorkerEndpoint(registry, dir);
    lambda = workers.lambda;
  });
  after(() => workers?.stop());

  it("answers an Error subclass by its name and logs 'Invoke Error' with its fields and its stack", async () => {
    // Act
    const r = await invoke('throws-custom');

    // Assess
    assert.equal(r.FunctionError, 'Unhandled');
    const body = JSON.parse(text(r));
    assert.deepEqual(Object.keys(body), ['errorType', 'errorMessage', 'trace']);
    assert.equal(body.errorType, 'OutOfStock');
    assert.equal(body.errorMessage, 'none left');
    assert.equal(body.trace[0], 'OutOfStock: none left');
    const logged = failureLine(tailOf(r), 'Invoke Error');
    assert.deepEqual(Object.keys(logged), ['errorType', 'errorMessage', 'name', 'sku', 'stack']);
    assert.equal(logged.sku, 'a1');
    assert.deepEqual(logged.stack, body.trace);
  });

  it("answers a rejection or context.fail() with nothing as the string 'handled'", async () => {
    for (const name of ['throws-nothing', 'fails-nothing']) {
      const r = await invoke(name);
      assert.equal(r.FunctionError, 'Unhandled', name);
      assert.deepEqual(JSON.parse(text(r)), { errorType: 'string', errorMessage: 'handled', trace: [] }, name);
      // The runtime logs a value that is not an Error as an Error made of its string.
      const logged = failureLine(tailOf(r), 'Invoke Error');
      assert.equal(logged.errorType, 'Error', name);
      assert.equal(logged.errorMessage, 'handled', name);
    }
  });

  it("answers nodejs24.x's rejection with nothing by the value's type", async () => {
    const r = await invoke('throws-nothing-24');
    assert.deepEqual(JSON.parse(text(r)), { errorType: 'undefined', errorMessage: 'undefined', trace: [] });
  });

  it("answers a callback's Error, and an object shaped as an Error, as an Error", async () => {
    const cb = JSON.parse(text(await invoke('calls-back-error')));
    assert.equal(cb.errorType, 'TypeError');
    assert.equal(cb.errorMessage, 'bad sku');
    assert.deepEqual(JSON.parse(text(await invoke('throws-error-like'))), {
      errorType: 'Oops',
      errorMessage: 'went wrong',
      trace: ['Oops: went wrong', '    at somewhere'],
    });
  });

  it('answers an unhandled rejection with its reason as the message, and logs the reason and the promise', async () => {
    // Act
    const byString = await invoke('rejects-unhandled-string');
    const byError = await invoke('rejects-unhandled-error');

    // Assess
    const body = JSON.parse(text(byString));
    assert.equal(byString.FunctionError, 'Unhandled');
    assert.equal(body.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(body.errorMessage, 'out of stock');
    assert.equal(body.trace[0], 'Runtime.UnhandledPromiseRejection: out of stock');
    const logged = failureLine(tailOf(byString), 'Unhandled Promise Rejection');
    assert.deepEqual(Object.keys(logged), ['errorType', 'errorMessage', 'reason', 'promise', 'stack']);
    assert.equal(logged.reason, 'out of stock');
    assert.deepEqual(logged.promise, {});
    const error = JSON.parse(text(byError));
    assert.equal(error.errorMessage, 'Error: boom');
    assert.equal(error.trace[0], 'Runtime.UnhandledPromiseRejection: Error: boom');
    const reason = failureLine(tailOf(byError), 'Unhandled Promise Rejection').reason as Record<string, unknown>;
    assert.equal(reason.errorType, 'Error');
    assert.equal(reason.errorMessage, 'boom');
  });

  it("answers null for a plain handler's return value on nodejs20.x, and the value on nodejs24.x", async () => {
    const legacy = await invoke('returns-plain');
    assert.equal(legacy.FunctionError, undefined);
    assert.equal(text(legacy), 'null');
    assert.deepEqual(JSON.parse(text(await invoke('returns-plain-24'))), { ok: true });
  });

  // Runtime.js's default exit listener: nothing left to run, and the handler has not answered.
  it('answers an async handler whose promise never settles with Runtime.NodeJsExit once nothing is left to run', async () => {
    const r = await invoke('never-settles');
    assert.equal(r.FunctionError, 'Unhandled');
    const body = JSON.parse(text(r));
    assert.equal(body.errorType, 'Runtime.NodeJsExit');
    assert.match(body.errorMessage, /^The Lambda runtime client detected an unexpected Node\.js exit code\./);
    assert.equal(failureLine(tailOf(r), 'Invoke Error').errorType, 'Runtime.NodeJsExit');
    const plain = await invoke('plain-never-settles');
    assert.equal(plain.FunctionError, undefined);
    assert.equal(text(plain), 'null');
  });

  // CallbackContext.js: the callback's result waits for the event loop unless callbackWaitsForEmptyEventLoop is false.
  it("answers a callback's result once the event loop is empty, or at once when told not to wait", async () => {
    const waited = await invoke('calls-back-then-logs');
    assert.equal(text(waited), '"answered"');
    assert.match(tailOf(waited), /\tINFO\tafter the callback\n/);
    const atOnce = await invoke('calls-back-without-waiting');
    assert.equal(text(atOnce), '"answered"');
    assert.doesNotMatch(tailOf(atOnce), /after the callback/);
  });

  it('answers an export that is not a function with Runtime.HandlerNotFound saying so', async () => {
    const r = await invoke('exports-a-number');
    const body = JSON.parse(text(r));
    assert.equal(body.errorType, 'Runtime.HandlerNotFound');
    assert.equal(body.errorMessage, 'exports-a-number.handler is not a function');
  });

  // Lambda's answer to a function that used up its memory, as AWS answers are quoted (no recording):
  // status 200, Unhandled, Runtime.OutOfMemory, the runtime SIGKILLed, all the memory used.
  it('answers a handler that exhausts its memory with Runtime.OutOfMemory, and reports all of it used', async () => {
    // Act
    const r = await invoke('exhausts-heap');

    // Assess
    const id = r.$metadata.requestId;
    const message = `RequestId: ${id} Error: Runtime exited with error: signal: killed`;
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(r)), { errorType: 'Runtime.OutOfMemory', errorMessage: message });
    const lines = tailOf(r).trimEnd().split('\n');
    assert.deepEqual(lines.slice(-4, -1), [message, 'Runtime.OutOfMemory', `END RequestId: ${id}`]);
    assert.match(lines.at(-1) ?? '', /\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t/);
  });
});
