import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { startXrayCollector, TelemetryStore } from '../../local/telemetry/telemetry-store';
import { parseDaemonDatagram } from '../../local/telemetry/xray-collector';
import { newSegmentId, newTraceId } from '../support/observ-fixtures';

const HEADER = '{"format":"json","version":1}\n';

function send(sock: Socket, port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => sock.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('X-Ray UDP collector', () => {
  it('receives daemon datagrams on loopback and feeds the store; rejects malformed ones', async (t) => {
    // Prepare
    const store = new TelemetryStore();
    const collector = await startXrayCollector(store);
    t.after(() => collector.close());
    const sock = createSocket('udp4');
    t.after(() => sock.close());
    assert.match(collector.address, /^127\.0\.0\.1:\d+$/);
    const traceId = newTraceId();
    const root = newSegmentId();
    const child = newSegmentId();
    // Act: the subsegment first, as a worker may flush it before the Lambda segment is written.
    await send(
      sock,
      collector.port,
      HEADER +
        JSON.stringify({
          type: 'subsegment',
          trace_id: traceId,
          parent_id: root,
          id: child,
          name: 'payments',
          start_time: 1_800_000_000.01,
          end_time: 1_800_000_000.02,
          annotations: { target: 'payments', attempt: 1 },
        }),
    );
    await send(
      sock,
      collector.port,
      HEADER +
        JSON.stringify({
          trace_id: traceId,
          id: root,
          name: 'demo-orders',
          start_time: 1_800_000_000,
          end_time: 1_800_000_000.05,
        }),
    );
    await send(sock, collector.port, '{"format":"json","version":1}'); // no newline, no body
    await send(sock, collector.port, '{"format":"xml","version":1}\n{}');
    await send(sock, collector.port, `${HEADER}{"trace_id":`);
    await send(
      sock,
      collector.port,
      HEADER + JSON.stringify({ trace_id: traceId, name: 'no id', start_time: 1, end_time: 2 }),
    );
    // Assess
    await until(() => collector.counters.received === 6, 'six datagrams');
    assert.equal(collector.counters.rejected, 4);
    const trace = store.trace(traceId)!;
    assert.equal(trace.roots.length, 1);
    assert.equal(trace.roots[0]!.children[0]!.id, child);
    assert.deepEqual(trace.roots[0]!.children[0]!.annotations, { target: 'payments', attempt: 1 });
  });

  it('binds the port it is given and fails clearly when it is taken', async (t) => {
    const store = new TelemetryStore();
    const first = await startXrayCollector(store);
    t.after(() => first.close());
    await assert.rejects(startXrayCollector(store, { port: first.port }), /EADDRINUSE/);
  });

  it('splits the header from the document', () => {
    assert.deepEqual(parseDaemonDatagram(Buffer.from(`${HEADER}{"a":1}`)), { a: 1 });
    assert.deepEqual(parseDaemonDatagram('{"format": "json", "version": 1}\n{"a":1}'), { a: 1 });
    assert.equal(parseDaemonDatagram('{"a":1}'), undefined);
    assert.equal(parseDaemonDatagram('{"format":"json","version":2}\n{"a":1}'), undefined);
  });
});
