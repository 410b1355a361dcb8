/**
 * The circuit breaker at its edges (resilience/circuit-breaker.ts), with the clock as a number: the
 * open time ends exactly at openMs, the rate must exceed its threshold (not equal it), a full window
 * is needed, what a closed breaker reports, a policy change of window size, listeners that throw,
 * and the words of `describeOpen`.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Breakers, CircuitBreaker, describeOpen, isEjected } from '../../functions/mesh/resilience/circuit-breaker';

const T = 1_000_000;

describe('circuit breaker edges', () => {
  it('stays open until exactly openMs has passed, and is ejected until then', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
    b.failure(T);
    assert.equal(b.state, 'open');
    assert.equal(isEjected(b, T + 999), true);
    assert.equal(b.canPass(T + 999), false);
    assert.equal(isEjected(b, T + 1000), false, 'its time is up: it must get its probe');
    assert.equal(b.canPass(T + 1000), true);
    assert.equal(b.state, 'half-open');
    assert.equal(isEjected(b, T + 1000), false, 'half-open is not ejected');
  });

  it('holds further calls while the probe is out, for openMs, then lets a new probe go', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
    b.failure(T);
    assert.equal(b.canPass(T + 1000), true);
    assert.equal(b.canPass(T + 1999), false);
    assert.equal(b.canPass(T + 2000), true, 'the lost probe is given up after openMs');
  });

  it('opens on a failure rate above the threshold, not at it, and only with a full window', () => {
    const atThreshold = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    for (const failed of [true, false, true, false]) failed ? atThreshold.failure(T) : atThreshold.success(T);
    assert.equal(atThreshold.state, 'closed', '2 of 4 is the threshold, not above it');
    const above = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    for (const failed of [true, false, true, true]) failed ? above.failure(T) : above.success(T);
    assert.equal(above.state, 'open');
    assert.equal(above.openReason, 'failure-rate');
    const short = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    for (const failed of [false, true, true]) failed ? short.failure(T) : short.success(T);
    assert.equal(short.state, 'closed', '3 calls are not a window of 4');
  });

  it('opens at exactly consecutiveFailures', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 3 });
    b.failure(T);
    b.failure(T);
    assert.equal(b.state, 'closed');
    b.failure(T);
    assert.deepEqual([b.state, b.openReason, b.openedAt], ['open', 'consecutive-failures', T]);
  });

  it('a closed breaker has no open time and no reason; a success or failure while open changes nothing', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
    assert.deepEqual([b.openedAt, b.openReason], [undefined, undefined]);
    b.failure(T);
    assert.equal(b.success(T + 1), 'open');
    assert.equal(b.failure(T + 2), 'open');
    assert.equal(b.openedAt, T, 'a straggler does not restart the open time');
    b.canPass(T + 1000);
    b.success(T + 1001);
    assert.deepEqual([b.state, b.openedAt, b.openReason], ['closed', undefined, undefined]);
  });

  it('a closed breaker forgets its window when it closes: old failures do not count again', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 2, failureRateThreshold: 0.5, windowSize: 2, openMs: 10 });
    b.failure(T);
    b.failure(T);
    assert.equal(b.state, 'open');
    b.canPass(T + 10);
    b.success(T + 10);
    b.failure(T + 11);
    assert.equal(b.state, 'closed', 'one failure after closing is one, not three');
  });

  it('a new window size starts a new window; the same size keeps the counts', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    b.failure(T);
    b.failure(T);
    b.failure(T);
    b.configure({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    b.failure(T);
    assert.equal(b.state, 'open', 'same size: the three earlier failures still count');
    const c = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    c.failure(T);
    c.failure(T);
    c.failure(T);
    c.configure({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 2 });
    c.success(T);
    c.failure(T);
    assert.equal(c.state, 'closed', 'new size: 1 of 2 is not above 50%');
  });

  it('a listener that throws neither stops the change nor the other listeners', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1 });
    const seen: string[] = [];
    b.onStateChange(() => {
      throw new Error('telemetry down');
    });
    b.onStateChange((c) => seen.push(`${c.from}->${c.to}:${c.reason}@${c.at}`));
    assert.equal(b.failure(T), 'open');
    assert.deepEqual(seen, [`closed->open:consecutive-failures@${T}`]);
  });

  it('describes why it is open and when the probe goes', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 2, openMs: 1000 });
    b.failure(T);
    b.failure(T);
    assert.equal(describeOpen(b, T + 400), '2 failures in a row; a probe goes through in 600 ms');
    assert.equal(describeOpen(b, T + 5000), '2 failures in a row; a probe goes through in 0 ms');
    b.canPass(T + 1000);
    assert.equal(describeOpen(b, T + 1000), '2 failures in a row; a probe is in flight');
    b.failure(T + 1001);
    assert.equal(describeOpen(b, T + 1001), 'its half-open probe failed; a probe goes through in 1000 ms');
    const rate = new CircuitBreaker({
      consecutiveFailures: 100,
      failureRateThreshold: 0.25,
      windowSize: 4,
      openMs: 500,
    });
    for (let i = 0; i < 4; i++) rate.failure(T);
    assert.equal(describeOpen(rate, T), 'failure rate above 25% of the last 4 calls; a probe goes through in 500 ms');
    assert.equal(
      describeOpen(new CircuitBreaker({ openMs: 700 }), T),
      '5 failures in a row; a probe goes through in 700 ms',
    );
  });

  it('the registry keeps one breaker per (target, version), applies new options and tells its listeners', () => {
    const r = new Breakers({ consecutiveFailures: 1 });
    const changes: string[] = [];
    const off = r.onStateChange((c) => changes.push(`${c.target}/${c.version}:${c.to}`));
    const a = r.get('payments', '1');
    assert.equal(r.get('payments', '1'), a);
    assert.equal(r.peek('payments', '2'), undefined);
    a.failure(T);
    assert.deepEqual([...r.ejected('payments', T)], ['1']);
    assert.deepEqual([...r.ejected('orders', T)], []);
    r.get('payments', '1', { openMs: 5 });
    assert.equal(a.options.openMs, 5, 'the edge policy reaches the existing breaker');
    assert.equal(a.options.consecutiveFailures, 1, 'on top of the registry defaults');
    assert.deepEqual(changes, ['payments/1:open']);
    off();
    r.get('payments', '2').failure(T);
    assert.deepEqual(changes, ['payments/1:open']);
  });
});
