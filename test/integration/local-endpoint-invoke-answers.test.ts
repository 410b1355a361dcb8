/**
 * Invoke's answers with real workers, against responses recorded from AWS (LocalStack's parity tests,
 * tests/aws/services/lambda_/test_lambda.snapshot.json and test_lambda_common.snapshot.json,
 * "recorded-content"): what a function error, an exit, an oversized response and a handler that returns
 * nothing look like on the wire. A thrown value that is not an Error follows Lambda's Node.js runtime
 * interface client (formatError: its type, its string, no trace), which no recording covers.
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
  'throws-error': `exports.handler = async () => { throw new Error('Error: some_error_msg'); };`,
  'throws-string': `exports.handler = async () => { throw 'out of stock'; };`,
  'throws-object': `exports.handler = async () => { throw { code: 42 }; };`,
  'returns-nothing': `exports.handler = async () => {};`,
  'exits-in-handler': `exports.handler = async () => { process.exit(0); };`,
  'exits-at-init': `process.exit(0);\nexports.handler = async () => ({});`,
  // A response of `n` bytes once serialized: a JSON string of n - 2 characters.
  'sized-response': `exports.handler = async (event) => 'a'.repeat(event.bytes - 2);`,
  'logs-a-line': `exports.handler = async (event) => { console.log('Lambda log message'); return event; };`,
  'logs-levels': `exports.handler = async () => {
    console.info('%s=%d', 'stock', 3);
    console.warn('low');
    console.error({ sku: 'a' });
    console.debug('detail');
    process.stdout.write('raw\\n');
    return {};
  };`,
};

const text = (r: InvokeCommandOutput) => Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');

describe('local endpoint: Invoke answers as recorded from AWS', () => {
  let dir: string;
  let workers: WorkerEndpoint;
  let lambda: LambdaClient;
  const invoke = (FunctionName: string, payload: unknown = {}) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)) }));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-invoke-answers-'));
    const code = join(dir, 'code');
    mkdirSync(code);
    const registry = new FunctionRegistry();
    for (const [name, source] of Object.entries(HANDLERS)) {
      writeFileSync(join(code, `${name}.js`), source);
      registry.putFunction({
        name,
        codeDir: code,
        handler: `${name}.handler`,
        runtime: 'nodejs20.x',
        timeout: 20,
        memorySize: 256,
        environment: {},
        layerDirs: [],
        codeSha256: name,
      });
    }
    workers = await startWorkerEndpoint(registry, dir);
    lambda = workers.lambda;
  });
  after(() => workers?.stop());

  // test_lambda_common: test_uncaught_exception_invoke[nodejs20.x]
  it("answers a thrown Error with Unhandled and the Node runtime's errorType, errorMessage and trace", async () => {
    const r = await invoke('throws-error');
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(r.ExecutedVersion, '$LATEST');
    const body = JSON.parse(text(r));
    assert.deepEqual(Object.keys(body), ['errorType', 'errorMessage', 'trace']);
    assert.equal(body.errorType, 'Error');
    assert.equal(body.errorMessage, 'Error: some_error_msg');
    assert.match(body.trace[0], /^Error: Error: some_error_msg$/);
  });

  it('answers a thrown string or object with its type and its string, and no trace', async () => {
    assert.deepEqual(JSON.parse(text(await invoke('throws-string'))), {
      errorType: 'string',
      errorMessage: 'out of stock',
      trace: [],
    });
    const r = await invoke('throws-object');
    assert.equal(r.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(r)), { errorType: 'object', errorMessage: '[object Object]', trace: [] });
  });

  // test_lambda: test_invocation_type_no_return_payload[nodejs-RequestResponse]
  it('answers a handler that returns nothing with the payload null', async () => {
    const r = await invoke('returns-nothing');
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, undefined);
    assert.equal(text(r), 'null');
  });

  // test_lambda: test_lambda_handler_exit and test_lambda_runtime_exit (an exit with status 0)
  it('answers an exit with status 0, in the handler or at init, as a runtime that exited without a reason', async () => {
    for (const name of ['exits-in-handler', 'exits-at-init']) {
      const r = await invoke(name);
      assert.equal(r.FunctionError, 'Unhandled', name);
      assert.equal(r.ExecutedVersion, '$LATEST', name);
      const body = JSON.parse(text(r));
      assert.equal(body.errorType, 'Runtime.ExitError', name);
      assert.match(
        body.errorMessage,
        /^RequestId: [0-9a-f-]{36} Error: Runtime exited without providing a reason$/,
        name,
      );
    }
  });

  // test_lambda: test_lambda_too_large_response (a 7 MB response); the limit is 6,291,556 bytes
  it('answers a response over 6,291,556 bytes with Function.ResponseSizeTooLarge, and passes one at the limit', async () => {
    const over = await invoke('sized-response', { bytes: 7 * 1024 * 1024 });
    assert.equal(over.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(over)), {
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
    const atLimit = await invoke('sized-response', { bytes: 6_291_556 });
    assert.equal(atLimit.FunctionError, undefined);
    assert.equal(atLimit.Payload?.length, 6_291_556);
  });

  // test_lambda: test_invocation_with_qualifier's log_result, test_invocation_with_logs[nodejs16.x]'s logs
  it("tails the log with START, the function's lines, END and REPORT", async () => {
    const tail = () =>
      lambda.send(new InvokeCommand({ FunctionName: 'logs-a-line', Payload: Buffer.from('{}'), LogType: 'Tail' }));
    const r = await tail();
    const text = Buffer.from(r.LogResult ?? '', 'base64').toString('utf8');
    assert.ok(text.endsWith('\t\n'), 'the REPORT line ends with a tab, as recorded');
    const lines = text.trimEnd().split('\n');
    const id = /^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$/.exec(lines[0])?.[1];
    assert.ok(id, lines[0]);
    // Lambda's Node runtime prefixes a console line with its time, request id and level ("Log and
    // monitor Node.js Lambda functions", AWS Lambda Developer Guide).
    assert.match(
      lines[1]!,
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${id}\\tINFO\\tLambda log message$`),
    );
    assert.equal(lines[2], `END RequestId: ${id}`);
    // A cold start's REPORT: Max Memory Used before Init Duration; a warm one's without Init Duration.
    const report = (rid: string, init: string) =>
      new RegExp(
        `^REPORT RequestId: ${rid}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB${init}$`,
      );
    assert.match(lines[3]!, report(id, '\\tInit Duration: [\\d.]+ ms'));
    const warm = Buffer.from((await tail()).LogResult ?? '', 'base64')
      .toString('utf8')
      .trimEnd()
      .split('\n');
    const warmId = /^START RequestId: (\S+)/.exec(warm[0]!)?.[1];
    assert.match(warm[3]!, report(warmId!, ''));
    assert.equal(lines.length, 4);
  });

  // Lambda's Node.js runtime interface client patches console: each method its level, util.format's text.
  it('prefixes each console method with its level, formats its arguments, and leaves stdout writes as they are', async () => {
    // Act
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'logs-levels', Payload: Buffer.from('{}'), LogType: 'Tail' }),
    );

    // Assess
    const lines = Buffer.from(r.LogResult ?? '', 'base64')
      .toString('utf8')
      .trimEnd()
      .split('\n');
    const id = /^START RequestId: ([0-9a-f-]{36})/.exec(lines[0]!)?.[1];
    // Every level goes to the one log, so the events keep the order the handler wrote them in.
    const logged = lines.slice(1, -2).map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\t/, '<time>\t'));
    assert.deepEqual(logged, [
      `<time>\t${id}\tINFO\tstock=3`,
      `<time>\t${id}\tWARN\tlow`,
      `<time>\t${id}\tERROR\t{ sku: 'a' }`,
      `<time>\t${id}\tDEBUG\tdetail`,
      'raw',
    ]);
  });
});
