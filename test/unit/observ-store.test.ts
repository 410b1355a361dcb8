import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { emfLine, newSegmentId, newTraceId } from '../support/observ-fixtures';

const ctx = { functionName: 'demo-orders', version: '1' };

function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TelemetryStore metrics', () => {
  it('gives golden metrics per edge and per destination version, and per service with the canary split', () => {
    // Prepare
    const c = clock();
    const store = new TelemetryStore({ now: c.now });
    for (let i = 1; i <= 8; i++)
      store.recordEmf(emfLine({ version: '1', durations: [i * 10], timestamp: c.now() }), ctx);
    store.recordEmf(emfLine({ version: '2', code: '500', durations: [5], timestamp: c.now() }), ctx);
    store.recordEmf(emfLine({ version: '2', code: '200', durations: [7], timestamp: c.now() }), ctx);
    c.advance(10_000);
    // Act
    const s = store.stats({ windowMs: 60_000 });
    // Assess
    const v1 = s.edges.find((e) => e.version === '1')!;
    assert.equal(v1.requests, 8);
    assert.equal(v1.successRate, 1);
    assert.equal(v1.p50, 40);
    assert.equal(v1.p99, 80);
    assert.equal(v1.rps, 0.8, '8 requests over the 10 s the store has been listening');
    const v2 = s.edges.find((e) => e.version === '2')!;
    assert.equal(v2.successRate, 0.5);
    assert.deepEqual(v2.codes, { '200': 1, '500': 1 });
    const payments = s.services.find((x) => x.service === 'payments')!;
    assert.equal(payments.requests, 10);
    assert.equal(payments.successRate, 0.9);
    assert.deepEqual(
      payments.versions.map((v) => [v.version, v.share]),
      [
        ['1', 0.8],
        ['2', 0.2],
      ],
    );
    assert.deepEqual(
      s.services.map((x) => x.service),
      ['payments'],
      'a function that only calls (orders here) is no service with 0 requests',
    );
  });

  it("does not double-count a call both sides report (the callee's count wins), and keeps denials and breaker opens either side saw", () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ reporter: 'source', durations: [20] }), ctx);
    store.recordEmf(emfLine({ reporter: 'destination', durations: [15] }), ctx);
    store.recordEmf(
      emfLine({ source: 'frontend', destination: 'admin', code: '403', reporter: 'destination', denied: 1 }),
      ctx,
    );
    store.recordEmf(emfLine({ reporter: 'source', requests: 0, durations: [], breakerOpens: 1 }), ctx);
    const s = store.stats();
    const e = s.edges.find((x) => x.destination === 'payments')!;
    assert.equal(e.requests, 1);
    assert.equal(e.reporter, 'destination');
    assert.equal(e.p50, 15, 'latency as the callee measured it');
    assert.equal(e.breakerOpens, 1);
    const denied = s.edges.find((x) => x.destination === 'admin')!;
    assert.equal(denied.denied, 1);
    assert.equal(denied.successRate, 0);
  });

  it("counts one mesh's calls apart from another's with the same services, when asked for one mesh", () => {
    // GIVEN two meshes (two stages of one app) whose payments each served calls, beta's all failing
    const store = new TelemetryStore();
    for (let i = 0; i < 3; i++) store.recordEmf(emfLine({ mesh: 'beta', reporter: 'destination', code: '500' }), ctx);
    store.recordEmf(emfLine({ mesh: 'gamma', reporter: 'destination', code: '200' }), ctx);
    const payments = (mesh?: string) => store.stats({ mesh }).edges.find((e) => e.destination === 'payments');
    // THEN each mesh's stats hold its own calls only; without a mesh, every mesh's
    assert.deepEqual([payments('beta')?.requests, payments('beta')?.successRate], [3, 0]);
    assert.deepEqual([payments('gamma')?.requests, payments('gamma')?.successRate], [1, 1]);
    assert.equal(payments()?.requests, 4);
    assert.equal(payments('delta'), undefined);
  });

  it("keeps a canary's failed attempts that the caller retried onto the stable version", () => {
    const store = new TelemetryStore();
    // One call: attempt 1 on v2 fails, attempt 2 on v1 succeeds. The caller reports one success on v1.
    store.recordEmf(emfLine({ reporter: 'destination', version: '2', code: '500' }), ctx);
    store.recordEmf(emfLine({ reporter: 'destination', version: '1', code: '200' }), ctx);
    store.recordEmf(emfLine({ reporter: 'source', version: '1', code: '200', retries: 1 }), ctx);
    const s = store.stats();
    assert.equal(s.edges.find((e) => e.version === '2')!.successRate, 0);
    assert.equal(s.edges.find((e) => e.version === '1')!.retries, 1);
  });

  it("files a caller-only record (no version answered) on its edge, not in the service's version split", () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ reporter: 'destination', version: '1' }), ctx);
    store.recordEmf(emfLine({ reporter: 'source', version: '1' }), ctx);
    store.recordEmf(emfLine({ reporter: 'source', version: 'live', code: '504' }), ctx);
    const s = store.stats();
    assert.equal(s.edges.find((e) => e.version === 'live')!.successRate, 0, 'the edge table shows it');
    const payments = s.services.find((x) => x.service === 'payments')!;
    assert.deepEqual(
      payments.versions.map((v) => v.version),
      ['1'],
    );
    assert.equal(payments.requests, 1);
  });

  it('ignores other namespaces, counts malformed lines, and fills a missing version from the worker', () => {
    const store = new TelemetryStore();
    const own = emfLine();
    (own._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace = 'MyApp';
    assert.equal(store.recordEmf(own, ctx), true);
    assert.equal(store.recordEmf('{"_aws": nope', ctx), false);
    const noVersion = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: 'LambdaMesh/demo',
            Dimensions: [['destination_workload', 'reporter']],
            Metrics: [{ Name: 'requests_total' }],
          },
        ],
      },
      destination_workload: 'orders',
      reporter: 'destination',
      requests_total: 1,
    };
    store.recordEmf(noVersion, { functionName: 'demo-orders', version: '3' });
    const s = store.stats();
    assert.equal(s.edges.length, 1);
    assert.equal(s.edges[0]!.version, '3');
    assert.equal(s.edges[0]!.source, 'unknown');
    assert.equal(s.collector.emfRejected, 1);
  });

  it('counts only samples inside the window, and forgets them after the retention time', () => {
    const c = clock();
    const store = new TelemetryStore({ now: c.now, retentionMs: 120_000 });
    store.recordEmf(emfLine({ timestamp: c.now() }), ctx);
    c.advance(90_000);
    store.recordEmf(emfLine({ timestamp: c.now(), code: '503' }), ctx);
    assert.equal(store.stats({ windowMs: 60_000 }).edges[0]!.requests, 1);
    assert.equal(store.stats({ windowMs: 60_000 }).edges[0]!.successRate, 0);
    assert.equal(store.stats({ windowMs: 100_000 }).edges[0]!.requests, 2);
    c.advance(60_000);
    assert.equal(
      store.stats({ windowMs: 3_600_000 }).edges[0]!.requests,
      1,
      'the first line is past the 120 s retention',
    );
    assert.equal(store.size().samples, 2, 'one line = a requests_total and a request_duration_ms sample');
  });

  it('keeps an edge that went idle (seen within the retention, not in the window) with zero requests', () => {
    const c = clock();
    const store = new TelemetryStore({ now: c.now });
    store.recordEmf(emfLine({ version: '2', timestamp: c.now() }), ctx);
    c.advance(120_000);
    store.recordEmf(emfLine({ version: '1', timestamp: c.now() }), ctx);
    const s = store.stats({ windowMs: 60_000 });
    const idle = s.edges.find((e) => e.version === '2')!;
    assert.deepEqual([idle.requests, idle.successRate, idle.p99, idle.reporter], [0, null, null, 'none']);
    assert.deepEqual(
      s.services.find((x) => x.service === 'payments')!.versions.map((v) => [v.version, v.share]),
      [
        ['1', 1],
        ['2', 0],
      ],
    );
  });

  it('keeps at most maxValues metric values however much traffic arrives', () => {
    const store = new TelemetryStore({ maxValues: 500 });
    for (let i = 0; i < 5_000; i++) store.recordEmf(emfLine({ durations: [i % 50] }), ctx);
    const size = store.size();
    assert.ok(size.values <= 500, `values ${size.values}`);
    const s = store.stats();
    assert.ok(s.collector.samplesDropped >= 9_500);
    assert.ok(s.edges[0]!.requests <= 250);
  });
});

describe('TelemetryStore traces', () => {
  const t0 = 1_800_000_000;
  function seg(
    traceId: string,
    id: string,
    name: string,
    start: number,
    end: number,
    extra: Record<string, unknown> = {},
  ) {
    return { trace_id: traceId, id, name, start_time: t0 + start, end_time: t0 + end, ...extra };
  }

  it('keeps at most maxTraces traces, newest kept', () => {
    const store = new TelemetryStore({ maxTraces: 3 });
    const ids = Array.from({ length: 5 }, newTraceId);
    for (const [i, id] of ids.entries()) store.recordSegment(seg(id, newSegmentId(), 'orders', i, i + 1));
    assert.equal(store.size().traces, 3);
    assert.equal(store.trace(ids[0]!), undefined);
    assert.deepEqual(
      store.traces(10).map((t) => t.id),
      [ids[4], ids[3], ids[2]],
    );
  });

  /**
   * A checkout whose call to payments failed on its first attempt (v2's function error, a fault) and
   * succeeded on the second: as the demo's canary shows it. The entry answered well.
   */
  function retriedCheckout(store: TelemetryStore, id: string, at = 0) {
    const [f, a1, p1, a2, p2] = Array.from({ length: 5 }, newSegmentId);
    const call = (sid: string, attempt: number, outcome: string, start: number) =>
      seg(id, sid, 'payments', at + start, at + start + 0.1, {
        type: 'subsegment',
        parent_id: f,
        annotations: { source: 'frontend', target: 'payments', version: String(attempt), attempt, outcome },
        ...(outcome === 'success' ? {} : { fault: true }),
      });
    store.recordSegment(seg(id, f, 'demo-frontend', at, at + 1));
    store.recordSegment(call(a1, 1, 'function-error', 0.1));
    store.recordSegment(seg(id, p1, 'demo-payments', at + 0.12, at + 0.18, { parent_id: a1, fault: true }));
    store.recordSegment(call(a2, 2, 'success', 0.3));
    store.recordSegment(seg(id, p2, 'demo-payments', at + 0.32, at + 0.38, { parent_id: a2 }));
  }

  it("marks a trace as X-Ray's summary does (the entry's answer), and as retried when a retry recovered a call", () => {
    const store = new TelemetryStore({ settleMs: 0 });
    const id = newTraceId();
    retriedCheckout(store, id);
    const [t] = store.traces(1);
    assert.deepEqual(
      { fault: t?.fault, error: t?.error, throttle: t?.throttle, outcome: t?.outcome, rootCauses: t?.rootCauses },
      { fault: false, error: false, throttle: false, outcome: 'retried', rootCauses: ['demo-payments'] },
    );
  });

  it('keeps traces that failed or needed a retry apart: a busy stretch of good ones does not push them out', () => {
    const store = new TelemetryStore({ maxTraces: 3, maxFailedTraces: 2 });
    const failed = [newTraceId(), newTraceId(), newTraceId()];
    retriedCheckout(store, failed[0]!, 0);
    for (let i = 0; i < 10; i++) store.recordSegment(seg(newTraceId(), newSegmentId(), 'demo-frontend', i, i + 1));
    retriedCheckout(store, failed[1]!, 20);
    retriedCheckout(store, failed[2]!, 30);
    // Bounded both ways: at most the newest 3 good ones and the newest 2 failed ones.
    assert.ok(store.size().traces <= 5, JSON.stringify(store.size()));
    assert.equal(store.trace(failed[0]!), undefined, 'the oldest failed trace went for a newer failed one');
    assert.ok(store.trace(failed[1]!) && store.trace(failed[2]!));
    const list = store.traces(10, { filter: { failed: true } });
    assert.deepEqual(
      list.map((t) => t.id),
      [failed[2], failed[1]],
    );
  });

  it('narrows the list to traces through a service (caller or callee), failed ones, or recent ones', () => {
    const c = clock(t0 * 1000 + 100_000);
    const store = new TelemetryStore({ now: c.now, settleMs: 0 });
    const [retried, plain, old] = [newTraceId(), newTraceId(), newTraceId()];
    retriedCheckout(store, retried, 60);
    store.recordSegment(seg(plain, newSegmentId(), 'demo-orders', 50, 51));
    store.recordSegment(seg(old, newSegmentId(), 'demo-orders', 0, 1));
    const ids = (filter: Parameters<TelemetryStore['traces']>[1]) => store.traces(10, filter).map((t) => t.id);
    assert.deepEqual(ids({ filter: { service: 'payments' } }), [retried], 'a callee, by its mesh name');
    assert.deepEqual(ids({ filter: { service: 'frontend' } }), [retried], 'a caller, by its mesh name');
    assert.deepEqual(ids({ filter: { service: 'demo-orders' } }), [plain, old], 'a function, by its name');
    assert.deepEqual(ids({ filter: { failed: true } }), [retried]);
    assert.deepEqual(ids({ filter: { service: 'demo-orders', sinceMs: 60_000 } }), [plain]);
  });

  it('keeps at most maxSpansPerTrace spans of one trace', () => {
    const store = new TelemetryStore({ maxSpansPerTrace: 10 });
    const id = newTraceId();
    const root = newSegmentId();
    store.recordSegment(seg(id, root, 'orders', 0, 1));
    for (let i = 0; i < 50; i++)
      store.recordSegment(seg(id, newSegmentId(), 'call', 0, 1, { type: 'subsegment', parent_id: root }));
    assert.equal(store.trace(id)!.spanCount, 10);
  });

  it('expires traces not updated within the retention time', () => {
    const c = clock();
    const store = new TelemetryStore({ now: c.now, retentionMs: 1_000 });
    const old = newTraceId();
    store.recordSegment(seg(old, newSegmentId(), 'orders', 0, 1));
    c.advance(2_000);
    store.recordSegment(seg(newTraceId(), newSegmentId(), 'orders', 0, 1));
    assert.equal(store.trace(old), undefined);
    assert.equal(store.traces().length, 1);
  });

  // A three-hop checkout whose segments are still arriving is not the last trace: the local invoker
  // writes each function's segment in progress when it starts, callees finish (and arrive) first.
  it('takes the newest complete trace as last: every hop arrived and the trace quiet for a moment', () => {
    const c = clock();
    const store = new TelemetryStore({ now: c.now, settleMs: 500 });
    let at = 0;
    const checkout = (id: string) => {
      const [f, fCall, o, oCall, p] = Array.from({ length: 5 }, newSegmentId);
      at += 100;
      return {
        frontendOpen: seg(id, f!, 'frontend', at, at, { end_time: undefined, in_progress: true }),
        frontendCall: seg(id, fCall!, 'orders', at + 1, at + 9, { type: 'subsegment', parent_id: f }),
        orders: seg(id, o!, 'orders', at + 2, at + 8, { parent_id: fCall }),
        ordersCall: seg(id, oCall!, 'payments', at + 3, at + 7, { type: 'subsegment', parent_id: o }),
        payments: seg(id, p!, 'payments', at + 4, at + 6, { parent_id: oCall }),
        frontend: seg(id, f!, 'frontend', at, at + 10),
      };
    };
    const first = newTraceId();
    const a = checkout(first);
    for (const d of [a.frontendOpen, a.payments, a.ordersCall, a.orders, a.frontendCall, a.frontend]) {
      store.recordSegment(d);
    }
    c.advance(600);
    assert.equal(store.lastComplete()?.id, first);

    // A second checkout under way: its inner hops have arrived, the entry is still in progress.
    const second = newTraceId();
    const b = checkout(second);
    for (const d of [b.frontendOpen, b.payments, b.ordersCall, b.orders]) store.recordSegment(d);
    c.advance(600);
    assert.equal(store.trace(second)?.complete, false);
    assert.equal(store.lastComplete()?.id, first, 'not the one still filling in');
    // Hops with no parent yet (the entry's segment not seen at all) are not complete either.
    const third = newTraceId();
    const t = checkout(third);
    store.recordSegment(t.payments);
    store.recordSegment(t.orders);
    c.advance(600);
    assert.equal(store.lastComplete()?.id, first);

    // The second checkout ends: complete once quiet, then it is the last.
    store.recordSegment(b.frontendCall);
    store.recordSegment(b.frontend);
    assert.equal(store.lastComplete()?.id, first, 'a late subsegment may still be on its way');
    c.advance(600);
    assert.equal(store.lastComplete()?.id, second);
    assert.deepEqual(
      store.traces(10, { complete: true }).map((x) => x.id),
      [second, first],
    );
  });

  it('rejects documents that are not segments and counts them', () => {
    const store = new TelemetryStore();
    assert.equal(store.recordSegment('{oops'), false);
    assert.equal(
      store.recordSegment({ trace_id: 'nope', id: newSegmentId(), name: 'x', start_time: 1, end_time: 2 }),
      false,
    );
    assert.equal(
      store.recordSegment({ trace_id: newTraceId(), id: 'short', name: 'x', start_time: 1, end_time: 2 }),
      false,
    );
    assert.equal(store.recordSegment({ trace_id: newTraceId(), id: newSegmentId(), name: 'x', start_time: 1 }), false);
    assert.equal(
      store.recordSegment({
        type: 'subsegment',
        trace_id: newTraceId(),
        id: newSegmentId(),
        name: 'x',
        start_time: 1,
        end_time: 2,
      }),
      false,
    );
    assert.equal(store.stats().collector.segmentsRejected, 5);
  });
});
