import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import type { TraceSpan } from '../../shared/telemetry/trace-assembler';
import { newSegmentId, newTraceId } from '../support/observ-fixtures';

const t0 = 1_800_000_000;

/** frontend -> orders -> payments, as the Lambda service and the runtime would send it. */
function threeHops(traceId: string) {
  const [fe, feCall, or, orCall, pay] = Array.from({ length: 5 }, newSegmentId) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const docs = [
    {
      trace_id: traceId,
      id: fe,
      name: 'demo-frontend',
      origin: 'AWS::Lambda::Function',
      start_time: t0,
      end_time: t0 + 0.1,
    },
    {
      type: 'subsegment',
      trace_id: traceId,
      parent_id: fe,
      id: feCall,
      name: 'orders',
      namespace: 'remote',
      start_time: t0 + 0.01,
      end_time: t0 + 0.09,
      annotations: { source: 'frontend', target: 'orders', version: '1', attempt: 1, outcome: 'ok' },
    },
    { trace_id: traceId, parent_id: feCall, id: or, name: 'demo-orders', start_time: t0 + 0.02, end_time: t0 + 0.08 },
    {
      type: 'subsegment',
      trace_id: traceId,
      parent_id: or,
      id: orCall,
      name: 'payments',
      namespace: 'remote',
      start_time: t0 + 0.03,
      end_time: t0 + 0.07,
      annotations: { source: 'orders', target: 'payments', version: '2', attempt: 2, outcome: 'error' },
      error: true,
    },
    {
      trace_id: traceId,
      parent_id: orCall,
      id: pay,
      name: 'demo-payments',
      start_time: t0 + 0.04,
      end_time: t0 + 0.06,
      fault: true,
    },
  ];
  return { docs, ids: { fe, feCall, or, orCall, pay } };
}

function flatten(spans: TraceSpan[]): TraceSpan[] {
  return spans.flatMap((s) => [s, ...flatten(s.children)]);
}

describe('trace assembly', () => {
  it('links segments and subsegments by parent id into one tree, with durations and annotations', () => {
    const id = newTraceId();
    const { docs, ids } = threeHops(id);
    const store = new TelemetryStore();
    for (const d of docs) assert.ok(store.recordSegment(d));
    const t = store.trace(id)!;
    assert.equal(t.roots.length, 1);
    assert.equal(t.roots[0]!.id, ids.fe);
    assert.deepEqual(t.services, ['demo-frontend', 'demo-orders', 'demo-payments']);
    assert.equal(t.durationMs, 100);
    const all = flatten(t.roots);
    assert.deepEqual(
      all.map((s) => [s.name, s.depth]),
      [
        ['demo-frontend', 0],
        ['orders', 1],
        ['demo-orders', 2],
        ['payments', 3],
        ['demo-payments', 4],
      ],
    );
    const call = all.find((s) => s.id === ids.orCall)!;
    assert.deepEqual(call.annotations, {
      source: 'orders',
      target: 'payments',
      version: '2',
      attempt: 2,
      outcome: 'error',
    });
    assert.equal(call.durationMs, 40);
    assert.equal(call.error, true);
    assert.equal(t.fault, true);
    assert.deepEqual(store.traces(1)[0], {
      id,
      start: t0 * 1000,
      durationMs: 100,
      root: 'demo-frontend',
      services: t.services,
      spanCount: 5,
      // As X-Ray's summary: the entry answered well (no HasFault, no HasError); the fault began at payments.
      error: false,
      fault: false,
      throttle: false,
      outcome: 'handled',
      rootCauses: ['demo-payments'],
      // Every hop is there, but it arrived a moment ago: not counted complete until it settles.
      complete: false,
    });
  });

  it('builds the same tree whatever order the documents arrive in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }), (order) => {
        const id = newTraceId();
        const { docs, ids } = threeHops(id);
        const store = new TelemetryStore();
        for (const i of order) store.recordSegment(docs[i]);
        const t = store.trace(id)!;
        assert.equal(t.roots.length, 1);
        assert.deepEqual(
          flatten(t.roots).map((s) => s.id),
          [ids.fe, ids.feCall, ids.or, ids.orCall, ids.pay],
        );
      }),
      { numRuns: 60 },
    );
  });

  it('shows a child as a root until its parent arrives, then re-links it', () => {
    const id = newTraceId();
    const { docs } = threeHops(id);
    const store = new TelemetryStore();
    store.recordSegment(docs[4]);
    assert.equal(store.trace(id)!.roots[0]!.name, 'demo-payments');
    for (const d of docs.slice(0, 4)) store.recordSegment(d);
    assert.equal(store.trace(id)!.roots.length, 1);
    assert.equal(store.trace(id)!.roots[0]!.name, 'demo-frontend');
  });

  it('replaces an in-progress document by its finished copy, even if the finished one came first', () => {
    const id = newTraceId();
    const seg = newSegmentId();
    const store = new TelemetryStore();
    store.recordSegment({ trace_id: id, id: seg, name: 'orders', start_time: t0, end_time: t0 + 0.5 });
    store.recordSegment({ trace_id: id, id: seg, name: 'orders', start_time: t0, in_progress: true });
    assert.equal(store.trace(id)!.roots[0]!.durationMs, 500);
    const other = newTraceId();
    store.recordSegment({ trace_id: other, id: seg, name: 'orders', start_time: t0, in_progress: true });
    assert.equal(store.trace(other)!.roots[0]!.inProgress, true);
    store.recordSegment({ trace_id: other, id: seg, name: 'orders', start_time: t0, end_time: t0 + 0.25 });
    assert.equal(store.trace(other)!.roots[0]!.durationMs, 250);
  });

  it('flattens nested subsegments the SDK sends inside a segment', () => {
    const id = newTraceId();
    const [a, b, c] = [newSegmentId(), newSegmentId(), newSegmentId()];
    const store = new TelemetryStore();
    store.recordSegment({
      trace_id: id,
      id: a,
      name: 'orders',
      start_time: t0,
      end_time: t0 + 1,
      subsegments: [
        {
          id: b,
          name: 'DynamoDB',
          namespace: 'aws',
          start_time: t0,
          end_time: t0 + 0.1,
          subsegments: [{ id: c, name: 'Query', start_time: t0, end_time: t0 + 0.05 }],
        },
      ],
    });
    const t = store.trace(id)!;
    assert.deepEqual(
      flatten(t.roots).map((s) => [s.name, s.depth, s.parentId ?? null]),
      [
        ['orders', 0, null],
        ['DynamoDB', 1, a],
        ['Query', 2, b],
      ],
    );
  });

  it('survives parent links that form a cycle: every span shown once', () => {
    const id = newTraceId();
    const [a, b] = [newSegmentId(), newSegmentId()];
    const store = new TelemetryStore();
    store.recordSegment({
      type: 'subsegment',
      trace_id: id,
      id: a,
      parent_id: b,
      name: 'a',
      start_time: t0,
      end_time: t0 + 1,
    });
    store.recordSegment({
      type: 'subsegment',
      trace_id: id,
      id: b,
      parent_id: a,
      name: 'b',
      start_time: t0,
      end_time: t0 + 1,
    });
    const t = store.trace(id)!;
    assert.equal(t.spanCount, 2);
    assert.equal(flatten(t.roots).length, 2);
  });
});
