/** Breaker passes: a report counts only on the state its call was let through in. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../functions/mesh/resilience/circuit-breaker';

const T = 1_700_000_000_000;

function halfOpenWithStraggler() {
  const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
  const straggler = b.admit(T)!;
  b.failure(T, b.admit(T));
  const probe = b.admit(T + 1000)!;
  return { b, straggler, probe };
}

describe('CircuitBreaker passes', () => {
  it('admit: a pass while it may pass, none while open', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
    assert.ok(b.admit(T));
    b.failure(T);
    assert.equal(b.admit(T + 1), undefined);
    assert.ok(b.admit(T + 1000), 'the probe');
    assert.equal(b.admit(T + 1001), undefined, 'one probe at a time');
  });

  it('a straggler success or failure leaves the half-open breaker to its probe', () => {
    const { b, straggler, probe } = halfOpenWithStraggler();
    assert.equal(b.success(T + 1001, straggler), 'half-open');
    assert.equal(b.failure(T + 1002, straggler), 'half-open');
    assert.equal(b.canPass(T + 1003), false, 'the probe is still out');
    assert.equal(b.success(T + 1004, probe), 'closed');
  });

  it("a straggler's release does not free the probe's slot; the probe's own does", () => {
    const { b, straggler, probe } = halfOpenWithStraggler();
    b.release(T + 1001, straggler);
    assert.equal(b.canPass(T + 1002), false);
    b.release(T + 1003, probe);
    assert.equal(b.canPass(T + 1004), true);
  });

  it('reports without a pass count on the current state, as before', () => {
    const { b } = halfOpenWithStraggler();
    assert.equal(b.success(T + 1001), 'closed');
  });

  it('a straggler failure from before a recovery does not count on the closed breaker', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
    const old = b.admit(T)!;
    b.failure(T);
    b.success(T + 1000, b.admit(T + 1000));
    assert.equal(b.failure(T + 1001, old), 'closed');
    assert.equal(b.failure(T + 1002, b.admit(T + 1002)), 'open');
  });
});
