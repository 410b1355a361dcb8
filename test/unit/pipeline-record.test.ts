/** Stage `record`: one access-log line and metrics per call, one X-Ray subsegment per attempt of a sampled trace. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshTimeoutError } from '../../functions/mesh/errors';
import type { AttemptOutcome } from '../../functions/mesh/pipeline/call-context';
import {
  ended,
  openSpan,
  recordAttempt,
  recordSuccess,
  STATUS,
  segmentMarks,
} from '../../functions/mesh/pipeline/record';
import { route } from '../../functions/mesh/pipeline/route';
import type { Outcome } from '../../functions/mesh/resilience/retry-decision';
import { monotonicMs } from '../../functions/mesh/telemetry/monotonic-ms';
import { fixture, planOf, readyCall, T0 } from '../support/pipeline-fixture';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const CALLER_PARENT = '53995c3f42cd8ad8';

async function traced(sampled: boolean) {
  const f = fixture({ scope: { trace: { root: ROOT, parent: CALLER_PARENT, sampled } } });
  const call = await readyCall(f.state);
  return { ...f, call, a: route(call, planOf(call)) };
}
const outcome = (o: Outcome, extra: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
  result: {},
  outcome: o,
  version: '2',
  endedAt: T0,
  ...extra,
});

describe('pipeline stage: record', () => {
  test('X-Ray marks follow the status: 4xx error, 429 throttle too, 5xx fault, 2xx none', () => {
    const marks = Object.fromEntries(
      (Object.keys(STATUS) as Outcome[]).map((o) => [o, Object.keys(segmentMarks(o)).sort().join('+')]),
    );
    assert.deepEqual(marks, {
      success: '',
      denied: 'error',
      unauthenticated: 'error',
      'client-error': 'error',
      throttled: 'error+throttle',
      timeout: 'fault',
      'circuit-open': 'fault',
      'rate-limited': 'error+throttle',
      'function-error': 'fault',
      'service-error': 'fault',
    });
  });

  test('a sampled trace: the callee continues under this attempt, and its subsegment is sent', async () => {
    const { a, segments } = await traced(true);
    const span = openSpan(a)!;
    assert.equal(span.header, `Root=${ROOT};Parent=${span.id};Sampled=1`);
    recordAttempt(a, span, outcome('function-error', { remote: { errorType: 'Boom', errorMessage: 'x'.repeat(600) } }));
    const [doc] = segments;
    assert.equal(doc?.id, span.id);
    const nowS = Date.now() / 1000;
    assert.ok(Math.abs(doc!.start_time - nowS) < 60 && Math.abs((doc as { end_time: number }).end_time - nowS) < 60);
    assert.equal(doc?.parent_id, CALLER_PARENT);
    assert.equal(doc?.type, 'subsegment');
    assert.deepEqual(doc?.annotations, {
      source: 'orders',
      target: 'payments',
      version: '2',
      attempt: 1,
      outcome: 'function-error',
    });
    assert.equal((doc as { fault?: boolean }).fault, true);
    const cause = (doc as { cause?: { exceptions: { type: string; message: string }[] } }).cause;
    assert.equal(cause?.exceptions[0]?.type, 'Boom');
    assert.equal(cause?.exceptions[0]?.message.length, 500);
  });

  test('an attempt of a fallback: its subsegment names the target it stood in for, and the region if another', async () => {
    const annotationsOf = async (detour: Record<string, string>) => {
      const { call, segments } = await traced(true);
      Object.assign(call, { detour });
      const a = route(call, planOf(call));
      recordAttempt(a, openSpan(a), outcome('success'));
      return segments[0]?.annotations;
    };
    const plain = { source: 'orders', target: 'payments', version: '2', attempt: 1, outcome: 'success' };
    assert.deepEqual(await annotationsOf({ primary: 'payments', region: 'us-west-2' }), {
      ...plain,
      fallback_for: 'payments',
      region: 'us-west-2',
    });
    assert.deepEqual(await annotationsOf({ primary: 'payments-old' }), { ...plain, fallback_for: 'payments-old' });
  });

  test("not sampled: the caller's parent passes on, and nothing is sent", async () => {
    const { a, segments } = await traced(false);
    const span = openSpan(a)!;
    assert.equal(span.header, `Root=${ROOT};Parent=${CALLER_PARENT};Sampled=0`);
    recordAttempt(a, span, outcome('success'));
    assert.equal(segments.length, 0);
  });

  test('no trace: no span', async () => {
    const { state } = fixture();
    const call = await readyCall(state);
    assert.equal(openSpan(route(call, planOf(call))), undefined);
  });

  test("a call's line: outcome, status, version, attempts, key and trace; `ended` hands the error back", async () => {
    const { call, accessLog, lines } = await traced(true);
    // The call started 10,000 s ago on the runtime's monotonic clock: its duration says so.
    Object.assign(call, { version: '2', attempts: 2, retries: 1, t0: monotonicMs() - 10_000_000 });
    const err = new MeshTimeoutError('mesh: call to payments timed out');
    assert.equal(ended(call, 'timeout', err), err);
    recordSuccess(call);
    const [failed, served] = accessLog();
    assert.deepEqual(
      [failed?.outcome, failed?.code, failed?.version, failed?.attempts, failed?.traceId, failed?.error],
      ['timeout', 504, '2', 2, ROOT, 'MeshTimeoutError: mesh: call to payments timed out'],
    );
    assert.deepEqual([served?.outcome, served?.code], ['success', 200]);
    assert.ok(lines.some((l) => l.includes('"retries_total":1')));
    assert.ok(Math.abs(Number(served?.durationMs) - 10_000_000) < 60_000, String(served?.durationMs));
    assert.equal(lines.filter((l) => l.includes('"denied_total"')).length, 0, 'neither was a refusal');
  });

  test('a call that ends before any attempt sends one subsegment, attempt 0; one that made attempts sends none more', async () => {
    const refused = await traced(true);
    assert.equal(refused.call.attempts, 0);
    ended(refused.call, 'denied', new MeshTimeoutError('x'));
    assert.equal(refused.segments.length, 1);
    const [doc] = refused.segments;
    assert.deepEqual(doc?.annotations, {
      source: 'orders',
      target: 'payments',
      version: refused.call.version,
      attempt: 0,
      outcome: 'denied',
    });
    assert.equal((doc as { error?: boolean }).error, true);
    assert.equal(doc?.parent_id, CALLER_PARENT);

    const tried = await traced(true);
    Object.assign(tried.call, { attempts: 2 });
    ended(tried.call, 'timeout', new MeshTimeoutError('y'));
    assert.equal(tried.segments.length, 0, 'its attempts sent their own');
  });

  test('a refusal counts in denied_total: the local policy, or the mesh refusing to sign', async () => {
    const { call, lines } = await traced(false);
    ended(call, 'denied', new MeshTimeoutError('x'));
    ended(call, 'unauthenticated', new MeshTimeoutError('y'), { refused: true, reason: 'identity-unavailable' });
    assert.equal(lines.filter((l) => l.includes('"denied_total":1')).length, 2);
  });
});
