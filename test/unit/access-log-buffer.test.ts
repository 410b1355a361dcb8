/**
 * The local mesh's access log: the lines of a window, and the time up to which lines it dropped may be.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessLogBuffer } from '../../local/telemetry/access-log-buffer';

const line = (time: number, destination = 'payments') =>
  `{"type":"mesh-access","time":${time},"reporter":"source","source":"orders","destination":"${destination}","version":"1","code":200,"outcome":"success","durationMs":3}`;

describe('AccessLogBuffer', () => {
  it('gives the lines from the first at or after a time, in the order they came', () => {
    // Prepare: a late line from a slower function (time 15) after one of time 30.
    const log = new AccessLogBuffer();
    for (const t of [10, 20, 30, 15, 40]) log.record(line(t));
    // Act / Assess
    assert.deepEqual(
      log.since(20, 10).map((l) => l.entry.time),
      [20, 30, 15, 40],
    );
    assert.deepEqual(
      log.since(20, 2).map((l) => l.seq),
      [2, 3],
    );
    assert.deepEqual(log.since(41, 10), []);
  });

  it('says up to when it dropped lines once it is full, and nothing before', () => {
    const log = new AccessLogBuffer(2);
    log.record(line(10));
    log.record(line(20));
    assert.equal(log.droppedUntil, undefined);
    log.record(line(30));
    log.record(line(25));
    assert.equal(log.droppedUntil, 20);
    assert.deepEqual(
      log.since(0, 10).map((l) => l.entry.time),
      [30, 25],
    );
  });
});
