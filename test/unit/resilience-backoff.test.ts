import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay } from '../../functions/mesh/resilience/backoff';
import { seeded } from '../support/seeded-random';

describe('backoff', () => {
  it('doubles the ceiling per retry from the base, up to the cap', () => {
    const opts = { baseDelayMs: 25, maxDelayMs: 1_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, opts)),
      [25, 50, 100, 200, 400, 800, 1_000],
    );
    assert.equal(backoffCeiling(5_000, opts), 1_000, 'huge attempt numbers stay at the cap');
  });

  it('uses the shared defaults (25 ms base, 1 s cap)', () => {
    assert.equal(backoffCeiling(1), 25);
    assert.equal(backoffCeiling(100), 1_000);
  });

  it('never goes above the cap nor below 0, for any attempt and any random value (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 2_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constantFrom(NaN, -1, 1, 2)),
        (attempt, base, max, r) => {
          const d = backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: max }, () => r);
          return (
            Number.isInteger(d) &&
            d >= 0 &&
            d <= Math.max(0, max) &&
            d <= backoffCeiling(attempt, { baseDelayMs: base, maxDelayMs: max })
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('clamps a random value out of [0, 1): 1 or more gives the ceiling, NaN or negative gives 0', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };
    assert.deepEqual(
      [1, 2, Number.NaN, -1, 0.999_999].map((r) => backoffDelay(2, opts, () => r)),
      [200, 200, 0, 0, 200],
    );
  });

  it('spans the whole range from 0 to the ceiling (full jitter)', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };
    assert.equal(
      backoffDelay(3, opts, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, opts, () => 0.999_999_9),
      400,
    );
    // A seeded generator over many draws fills every tenth of the range.
    const random = seeded(42);
    const deciles = new Set<number>();
    for (let i = 0; i < 1_000; i++) deciles.add(Math.min(9, Math.floor(backoffDelay(3, opts, random) / 40)));
    assert.equal(deciles.size, 10);
  });
});
