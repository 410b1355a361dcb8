import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { percentileOfSorted, percentiles } from '../../shared/telemetry/percentile';

describe('percentiles (nearest rank)', () => {
  it('matches hand-computed values on 1..100', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    assert.deepEqual(percentiles(samples), { p50: 50, p95: 95, p99: 99 });
  });

  it('handles small windows: one sample, two samples', () => {
    assert.deepEqual(percentiles([7]), { p50: 7, p95: 7, p99: 7 });
    assert.deepEqual(percentiles([10, 1]), { p50: 1, p95: 10, p99: 10 });
  });

  it('is undefined without samples and rejects percentiles out of range', () => {
    assert.deepEqual(percentiles([]), { p50: undefined, p95: undefined, p99: undefined });
    assert.throws(() => percentileOfSorted([1], 101), /between 0 and 100, got 101/);
  });

  it('sorts numerically, not as strings', () => {
    assert.equal(percentiles([9, 10, 100, 2]).p50, 9);
  });

  it('always returns a sample, ordered p50 <= p95 <= p99, and leaves the input alone', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
        const copy = [...xs];
        const p = percentiles(xs);
        assert.deepEqual(xs, copy);
        assert.ok(xs.includes(p.p50!) && xs.includes(p.p95!) && xs.includes(p.p99!));
        assert.ok(p.p50! <= p.p95! && p.p95! <= p.p99!);
        assert.equal(
          percentileOfSorted(
            [...xs].sort((a, b) => a - b),
            100,
          ),
          Math.max(...xs),
        );
      }),
    );
  });
});
