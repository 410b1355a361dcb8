/**
 * The X-Ray trace header: one parser for the runtime and the local mesh, and the sampling decision
 * each side makes for a header that carries none (the service that receives it decides; the function
 * only follows a decision).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { invocationTrace } from '../../functions/mesh/telemetry/invocation-trace';
import { serviceTrace } from '../../local/runtime/service-trace';
import { formatTraceHeader, newSegmentId, newTraceId, parseTraceHeader } from '../../shared/trace-header';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

describe('parseTraceHeader', () => {
  test('Sampled=1 and Sampled=0 are decisions; no Sampled field and Sampled=? are none', () => {
    assert.equal(parseTraceHeader(`Root=${ROOT};Parent=${PARENT};Sampled=1`)?.sampled, true);
    assert.equal(parseTraceHeader(`Root=${ROOT};Parent=${PARENT};Sampled=0`)?.sampled, false);
    assert.equal(parseTraceHeader(`Root=${ROOT};Parent=${PARENT}`)?.sampled, undefined);
    assert.equal(parseTraceHeader(`Root=${ROOT};Sampled=?`)?.sampled, undefined);
  });

  test('keys in any case, spaces around fields, unknown fields ignored', () => {
    assert.deepEqual(parseTraceHeader(` root=${ROOT} ; PARENT=${PARENT};sampled=1;Lineage=a87bd80c:1|68fd508a:5`), {
      root: ROOT,
      parent: PARENT,
      sampled: true,
    });
  });

  test('no valid Root: no trace; a malformed Parent is dropped, the trace kept', () => {
    assert.equal(parseTraceHeader(undefined), undefined);
    assert.equal(parseTraceHeader(''), undefined);
    assert.equal(parseTraceHeader(`Parent=${PARENT};Sampled=1`), undefined);
    assert.equal(parseTraceHeader('Root=1-xyz;Sampled=1'), undefined);
    assert.deepEqual(parseTraceHeader(`Root=${ROOT};Parent=nothex;Sampled=1`), {
      root: ROOT,
      parent: undefined,
      sampled: true,
    });
  });

  test('formatting always writes the decision, and parses back to the same trace', () => {
    const t = { root: ROOT, parent: PARENT, sampled: false };
    assert.equal(formatTraceHeader(t), `Root=${ROOT};Parent=${PARENT};Sampled=0`);
    assert.deepEqual(parseTraceHeader(formatTraceHeader(t)), t);
    assert.equal(formatTraceHeader({ root: ROOT, sampled: true }), `Root=${ROOT};Sampled=1`);
  });

  test('new ids have the X-Ray shapes', () => {
    assert.match(newTraceId(Date.UTC(2024, 0, 1)), /^1-65920080-[0-9a-f]{24}$/);
    const ids = new Set(Array.from({ length: 300 }, () => newSegmentId()));
    assert.equal(ids.size, 300);
    for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
  });
});

describe('the sampling decision for a header without one', () => {
  const undecided = `Root=${ROOT};Parent=${PARENT}`;

  test('the local mesh, in the Lambda service role, decides: it traces the request', () => {
    assert.deepEqual(serviceTrace(undecided, undefined, 0), { root: ROOT, parent: PARENT, sampled: true });
    assert.equal(serviceTrace(undefined, `Root=${ROOT};Sampled=?`, 0).sampled, true);
    // A decision made upstream is kept as it is.
    assert.equal(serviceTrace(`Root=${ROOT};Sampled=0`, undefined, 0).sampled, false);
    // No header at all: a new trace, traced.
    const fresh = serviceTrace(undefined, undefined, Date.UTC(2024, 0, 1));
    assert.match(fresh.root, /^1-65920080-/);
    assert.equal(fresh.sampled, true);
  });

  test('the request header wins over the mesh metadata header', () => {
    const other = '1-5759e988-000000000000000000000001';
    assert.equal(serviceTrace(`Root=${ROOT};Sampled=1`, `Root=${other};Sampled=1`, 0).root, ROOT);
  });

  test('the function follows decisions only: an undecided header is not traced', () => {
    assert.deepEqual(invocationTrace(undecided, undefined), { root: ROOT, parent: PARENT, sampled: false });
    assert.equal(invocationTrace(undefined, undecided)?.sampled, false);
    assert.equal(invocationTrace(`Root=${ROOT};Parent=${PARENT};Sampled=1`, undefined)?.sampled, true);
    assert.equal(invocationTrace(undefined, undefined), undefined);
  });

  test('what the local mesh hands the function is decided, so both sides trace the same request', () => {
    const decided = serviceTrace(undecided, undefined, 0);
    const inFunction = invocationTrace(formatTraceHeader({ ...decided, parent: newSegmentId() }), undecided);
    assert.equal(inFunction?.sampled, true);
    assert.equal(inFunction?.root, ROOT);
  });
});
