import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BreakerStateChange, Breakers, CircuitBreaker } from '../../functions/mesh/resilience/circuit-breaker';

const T0 = 1_700_000_000_000;

function failTimes(b: CircuitBreaker, n: number, now = T0): void {
  for (let i = 0; i < n; i++) b.failure(now);
}

describe('CircuitBreaker', () => {
  it('opens after the 5th consecutive failure by default, not before', () => {
    const b = new CircuitBreaker();
    failTimes(b, 4);
    assert.equal(b.state, 'closed');
    assert.equal(b.canPass(T0), true);
    assert.equal(b.failure(T0), 'open');
    assert.equal(b.canPass(T0 + 1), false);
  });

  it('restarts the consecutive count on a success', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 3, failureRateThreshold: 1 });
    failTimes(b, 2);
    b.success(T0);
    failTimes(b, 2);
    assert.equal(b.state, 'closed');
    b.failure(T0);
    assert.equal(b.state, 'open');
  });

  it('opens when the failure rate over the window exceeds the threshold, once the window is full', () => {
    // Prepare: window 10, rate > 0.5, consecutive failures out of reach
    const b = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 10 });
    const changes: BreakerStateChange[] = [];
    b.onStateChange((c) => changes.push(c));
    // Act: alternate F S — 5 of 10 = 0.5, not above
    for (let i = 0; i < 5; i++) {
      b.failure(T0);
      b.success(T0);
    }
    assert.equal(b.state, 'closed', '0.5 is not above the threshold');
    b.failure(T0); // the oldest F slid out: still 5 of 10
    assert.equal(b.state, 'closed');
    b.failure(T0); // an S slid out: 6 of 10
    // Assess
    assert.equal(b.state, 'open');
    assert.deepEqual(changes, [{ from: 'closed', to: 'open', reason: 'failure-rate', at: T0 }]);
  });

  it('does not judge the rate before the window has its minimum of calls', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.1, windowSize: 10 });
    b.success(T0);
    failTimes(b, 8); // 8 of 9 failed, but only 9 calls known
    assert.equal(b.state, 'closed');
    b.failure(T0);
    assert.equal(b.state, 'open');
  });

  it('forgets failures that slid out of the window', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 4 });
    failTimes(b, 2);
    for (let i = 0; i < 4; i++) b.success(T0); // window now S S S S
    b.failure(T0);
    b.failure(T0); // S S F F = 0.5
    assert.equal(b.state, 'closed');
  });

  it('stays open for openMs, then lets exactly one probe through at a time', () => {
    // Prepare
    const b = new CircuitBreaker({ openMs: 30_000 });
    failTimes(b, 5);
    // Act / Assess
    assert.equal(b.canPass(T0 + 29_999), false);
    assert.equal(b.canPass(T0 + 30_000), true, 'the probe');
    assert.equal(b.state, 'half-open');
    assert.equal(b.canPass(T0 + 30_001), false, 'a second call while the probe is out');
    assert.equal(b.canPass(T0 + 30_500), false);
  });

  it('closes when the probe succeeds', () => {
    const b = new CircuitBreaker({ openMs: 1_000 });
    const changes: string[] = [];
    b.onStateChange((c) => changes.push(`${c.from}->${c.to}:${c.reason}`));
    failTimes(b, 5);
    assert.ok(b.canPass(T0 + 1_000));
    assert.equal(b.success(T0 + 1_100), 'closed');
    assert.equal(b.canPass(T0 + 1_101), true);
    assert.deepEqual(changes, [
      'closed->open:consecutive-failures',
      'open->half-open:open-elapsed',
      'half-open->closed:probe-succeeded',
    ]);
    // counts restarted: it takes 5 new failures to open again
    failTimes(b, 4, T0 + 2_000);
    assert.equal(b.state, 'closed');
  });

  it('re-opens for another openMs when the probe fails', () => {
    const b = new CircuitBreaker({ openMs: 1_000 });
    failTimes(b, 5);
    assert.ok(b.canPass(T0 + 1_000));
    assert.equal(b.failure(T0 + 1_200), 'open');
    assert.equal(b.openedAt, T0 + 1_200);
    assert.equal(b.canPass(T0 + 2_100), false);
    assert.equal(b.canPass(T0 + 2_200), true);
  });

  it('gives up on a probe that never reports after openMs and lets another through', () => {
    const b = new CircuitBreaker({ openMs: 1_000 });
    failTimes(b, 5);
    assert.ok(b.canPass(T0 + 1_000));
    assert.equal(b.canPass(T0 + 1_999), false);
    assert.equal(b.canPass(T0 + 2_000), true);
  });

  it('frees the probe slot on a neutral outcome (release) without closing or counting', () => {
    const b = new CircuitBreaker({ openMs: 1_000 });
    failTimes(b, 5);
    assert.ok(b.canPass(T0 + 1_000));
    assert.equal(b.release(T0 + 1_010), 'half-open');
    assert.equal(b.canPass(T0 + 1_020), true, 'the next call may probe');
    assert.equal(b.canPass(T0 + 1_030), false);
    const closed = new CircuitBreaker({ consecutiveFailures: 2 });
    closed.failure(T0);
    closed.release(T0);
    closed.failure(T0);
    assert.equal(closed.state, 'open', 'release does not restart the failure count');
  });

  it('ignores results of calls that were already in flight when it opened', () => {
    const b = new CircuitBreaker();
    failTimes(b, 5);
    assert.equal(b.success(T0 + 1), 'open');
    assert.equal(b.failure(T0 + 2), 'open');
    assert.equal(b.openedAt, T0);
  });

  it('stops notifying a listener after it unsubscribes', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1 });
    let n = 0;
    const off = b.onStateChange(() => n++);
    off();
    b.failure(T0);
    assert.equal(n, 0);
  });
});

describe('Breakers', () => {
  it('finds an existing breaker by (target, version) without creating one', () => {
    const reg = new Breakers();
    const b = reg.get('payments', '1');
    assert.equal(reg.peek('payments', '1'), b);
    assert.equal(reg.peek('payments', '2'), undefined);
    assert.equal(reg.peek('orders', '1'), undefined);
  });

  it('keeps the options of a breaker when asked for it without options', () => {
    const reg = new Breakers();
    reg.get('payments', '1', { openMs: 5_000, failureRateThreshold: 0.9 });
    const b = reg.get('payments', '1');
    assert.equal(b.options.openMs, 5_000);
    assert.equal(b.options.failureRateThreshold, 0.9);
  });

  it('applies each changed option on its own: the failure rate, the window', () => {
    const reg = new Breakers();
    const b = reg.get('payments', '1', { failureRateThreshold: 0.5, windowSize: 10 });
    reg.get('payments', '1', { failureRateThreshold: 0.9, windowSize: 10 });
    assert.equal(b.options.failureRateThreshold, 0.9);
    reg.get('payments', '1', { failureRateThreshold: 0.9, windowSize: 4 });
    assert.equal(b.options.windowSize, 4);
  });

  it('does not eject a half-open breaker, even when a longer open time is applied while it probes', () => {
    // Prepare: open at T0 for 100 ms; at T0 + 100 it turns half-open.
    const reg = new Breakers();
    const b = reg.get('payments', '1', { consecutiveFailures: 1, openMs: 100 });
    b.failure(T0);
    assert.equal(b.canPass(T0 + 100), true);
    assert.equal(b.state, 'half-open');
    // Act: the policy now says 1 s.
    reg.get('payments', '1', { consecutiveFailures: 1, openMs: 1_000 });
    // Assess: it still needs its probe's answer, not an ejection.
    assert.deepEqual([...reg.ejected('payments', T0 + 150)], []);
  });

  it('judges the rate over exactly the last windowSize calls, sliding one call at a time', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 100, failureRateThreshold: 0.5, windowSize: 2 });
    for (const failed of [true, false, false, true]) {
      if (failed) b.failure(T0);
      else b.success(T0);
    }
    assert.equal(b.state, 'closed', 'the last two: success, failure = 0.5');
    b.failure(T0);
    assert.equal(b.state, 'open', 'the last two: failure, failure = 1');
  });

  it('keeps one breaker per (target, version) and reports changes with both', () => {
    // Prepare
    const reg = new Breakers({ consecutiveFailures: 2 });
    const seen: string[] = [];
    reg.onStateChange((c) => seen.push(`${c.target}:${c.version}:${c.to}`));
    // Act
    const a = reg.get('payments', '1');
    assert.equal(reg.get('payments', '1'), a);
    a.failure(T0);
    a.failure(T0);
    reg.get('payments', '2').failure(T0);
    // Assess
    assert.deepEqual(seen, ['payments:1:open']);
    assert.deepEqual([...reg.ejected('payments', T0 + 1)], ['1']);
    assert.deepEqual([...reg.ejected('orders', T0 + 1)], []);
    assert.equal(reg.peek('orders', '1'), undefined);
  });

  it('stops ejecting a version once its open time is up, so it gets its probe', () => {
    const reg = new Breakers({ consecutiveFailures: 1, openMs: 1_000 });
    reg.get('payments', '2').failure(T0);
    assert.deepEqual([...reg.ejected('payments', T0 + 999)], ['2']);
    assert.deepEqual([...reg.ejected('payments', T0 + 1_000)], []);
  });

  it('applies a changed policy to an existing breaker and keeps its state', () => {
    const reg = new Breakers();
    const b = reg.get('payments', '1', { consecutiveFailures: 5 });
    failTimes(b, 2);
    reg.get('payments', '1', { consecutiveFailures: 3 });
    b.failure(T0);
    assert.equal(b.state, 'open');
  });
});
