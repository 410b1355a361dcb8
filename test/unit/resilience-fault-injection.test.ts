import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFault, INJECTED_FAULT_ERROR_TYPE } from '../../functions/mesh/resilience/fault-injection';
import type { FaultItem } from '../../shared/policy';
import { seeded } from '../support/seeded-random';

const fault = (f: Partial<FaultItem>) => ({ pk: 'payments', sk: 'fault', ...f }) as FaultItem;

/** A random source that returns the given values in turn. */
const seq =
  (...values: number[]) =>
  () =>
    values.shift() ?? 0.999;

describe('decideFault', () => {
  it('injects nothing without a fault item', () => {
    assert.deepEqual(decideFault(undefined), { delayMs: 0 });
    assert.deepEqual(decideFault(fault({})), { delayMs: 0 });
  });

  it('delays the configured percent of calls', () => {
    const f = fault({ delay: { percent: 10, ms: 200 } });
    assert.deepEqual(decideFault(f, seq(0.099)), { delayMs: 200 });
    assert.deepEqual(decideFault(f, seq(0.1)), { delayMs: 0 });
  });

  it('aborts the configured percent of calls with the named or default error type', () => {
    assert.deepEqual(decideFault(fault({ abort: { percent: 50 } }), seq(0.2)), {
      delayMs: 0,
      abort: { errorType: INJECTED_FAULT_ERROR_TYPE },
    });
    assert.deepEqual(decideFault(fault({ abort: { percent: 50, errorType: 'Boom' } }), seq(0.2)).abort, {
      errorType: 'Boom',
    });
    assert.equal(decideFault(fault({ abort: { percent: 50 } }), seq(0.5)).abort, undefined);
  });

  it('draws delay and abort independently', () => {
    const f = fault({ delay: { percent: 100, ms: 5 }, abort: { percent: 100 } });
    assert.deepEqual(decideFault(f, seq(0, 0)), { delayMs: 5, abort: { errorType: INJECTED_FAULT_ERROR_TYPE } });
    const counts = { delay: 0, abort: 0, both: 0 };
    const random = seeded(7);
    const half = fault({ delay: { percent: 50, ms: 5 }, abort: { percent: 50 } });
    for (let i = 0; i < 4_000; i++) {
      const d = decideFault(half, random);
      if (d.delayMs) counts.delay++;
      if (d.abort) counts.abort++;
      if (d.delayMs && d.abort) counts.both++;
    }
    assert.ok(Math.abs(counts.both / 4_000 - 0.25) < 0.03, `both in ${counts.both} of 4000`);
  });
});

describe('decideFault without a delay or an abort', () => {
  it('injects nothing and draws no random number', () => {
    assert.deepEqual(
      decideFault(fault({}), () => assert.fail('nothing to draw for')),
      { delayMs: 0 },
    );
  });

  it("names an abort 'Mesh.FaultInjected' when the item names no error type (what callers see on the wire)", () => {
    assert.deepEqual(decideFault(fault({ abort: { percent: 100 } }), () => 0).abort, {
      errorType: 'Mesh.FaultInjected',
    });
  });
});
