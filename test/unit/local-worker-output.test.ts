/**
 * How a line of a worker's output is read into log events (local/runtime/worker.ts `readOutputLine`):
 * raw output one event per line, a console event framed after the mark, and the end of an invocation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peakRssKbOf, readOutputLine } from '../../local/runtime/worker';

const MARK = 'local-mesh-output-end-test';

describe('a worker output line as log events', () => {
  it('takes a line without the mark as one raw event', () => {
    assert.deepEqual(readOutputLine('{"_aws":{}}', MARK), { events: ['{"_aws":{}}'] });
  });

  it('takes a framed console event with its newlines, after raw text written without one', () => {
    const line = `partial${MARK}\t${JSON.stringify('a\nb')}`;
    assert.deepEqual(readOutputLine(line, MARK), { events: ['partial', 'a\nb'] });
  });

  it("reads an invocation's end mark, and keeps a frame that is not a JSON string as written", () => {
    assert.deepEqual(readOutputLine(`${MARK} req-1`, MARK), { events: [], end: 'req-1' });
    assert.deepEqual(readOutputLine(`${MARK}\t{"a":1}`, MARK), { events: [`${MARK}\t{"a":1}`] });
    assert.deepEqual(readOutputLine(`${MARK}\tnot json`, MARK), { events: [`${MARK}\tnot json`] });
  });

  it("reads a process's peak memory from /proc/<pid>/status, and nothing from a text without it", () => {
    assert.equal(peakRssKbOf('Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t   51234 kB\nVmRSS:\t 50000 kB\n'), 51_234);
    assert.equal(peakRssKbOf('Name:\tnode\n'), undefined);
  });
});
