/**
 * How the local invoker words a runtime that ended mid-invocation, as Lambda does: the
 * `Runtime.ExitError` document (test_lambda: test_lambda_runtime_exit, test_lambda_runtime_wrapper_not_found
 * record `Runtime exited without providing a reason` and `exit status 127`), a signal by the name Lambda's
 * service gives it, and the two lines Lambda adds to the log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeOutcome } from '../../local/runtime/invoker';

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
});
