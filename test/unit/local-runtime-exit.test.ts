/**
 * How the local invoker words a runtime that ended mid-invocation, as Lambda does: the
 * `Runtime.ExitError` document (test_lambda: test_lambda_runtime_exit, test_lambda_runtime_wrapper_not_found
 * record `Runtime exited without providing a reason` and `exit status 127`), a signal by the name Lambda's
 * service gives it, and the two lines Lambda adds to the log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeOutcome } from '../../local/runtime/invoker';
import { platformLines } from '../../local/runtime/platform-log';
import { heapExhausted } from '../../local/runtime/worker';

const ID = '0f6c3c52-8c4b-4a53-9a6e-0d3e2a8f1b27';
const exit = (code: number | null, signal: NodeJS.Signals | null) =>
  describeOutcome({ kind: 'exit', code, signal }, { timeout: 3 }, ID, 0);

describe('a runtime that exits mid-invocation', () => {
  it('answers Runtime.ExitError with its exit status, and logs the message then the error type', () => {
    const out = exit(1, null);
    assert.deepEqual(JSON.parse(out.payload), {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${ID} Error: Runtime exited with error: exit status 1`,
    });
    assert.equal(out.functionError, 'Unhandled');
    assert.deepEqual(out.lines, [
      `RequestId: ${ID} Error: Runtime exited with error: exit status 1`,
      'Runtime.ExitError',
    ]);
  });

  it('names a signal as Lambda does, with (core dumped) after one that dumps core', () => {
    const message = (signal: NodeJS.Signals) => JSON.parse(exit(null, signal).payload).errorMessage;
    assert.equal(message('SIGKILL'), `RequestId: ${ID} Error: Runtime exited with error: signal: killed`);
    assert.equal(
      message('SIGABRT'),
      `RequestId: ${ID} Error: Runtime exited with error: signal: aborted (core dumped)`,
    );
    assert.equal(
      message('SIGSEGV'),
      `RequestId: ${ID} Error: Runtime exited with error: signal: segmentation fault (core dumped)`,
    );
    assert.equal(message('SIGTERM'), `RequestId: ${ID} Error: Runtime exited with error: signal: terminated`);
  });

  it('answers a runtime that ran out of memory as Lambda does: Runtime.OutOfMemory, the runtime killed', () => {
    const out = describeOutcome(
      { kind: 'exit', code: null, signal: 'SIGABRT', outOfMemory: true },
      { timeout: 3 },
      ID,
      0,
    );
    const message = `RequestId: ${ID} Error: Runtime exited with error: signal: killed`;
    assert.deepEqual(JSON.parse(out.payload), { errorType: 'Runtime.OutOfMemory', errorMessage: message });
    assert.equal(out.functionError, 'Unhandled');
    assert.deepEqual(out.lines, [message, 'Runtime.OutOfMemory']);
    const report = platformLines(
      {
        requestId: ID,
        version: '$LATEST',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
        durationMs: 5,
        memorySizeMb: 128,
        maxMemoryMb: 128,
        outcome: out.kind,
        errorType: out.errorType,
      },
      true,
      { start: 0, end: 5 },
    ).end[0];
    assert.deepEqual(
      { status: JSON.parse(report).record.status, errorType: JSON.parse(report).record.errorType },
      { status: 'failure', errorType: 'Runtime.OutOfMemory' },
    );
  });

  it("takes V8's heap line for running out of memory only when the process then aborted", () => {
    assert.equal(heapExhausted(true, 'SIGABRT'), true);
    assert.equal(heapExhausted(true, null), false, 'a function that printed the line and exited');
    assert.equal(heapExhausted(false, 'SIGABRT'), false, 'another abort');
  });
});
