import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MeshView } from '../../local/dashboard/mesh-view';
import { handleMeshRequest } from '../../local/dashboard/routes';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { emfLine, newSegmentId, newTraceId } from '../support/observ-fixtures';

describe('/_mesh routes', () => {
  // Traces count as complete as soon as every hop is there (no quiet period to wait out here).
  const store = new TelemetryStore({ settleMs: 0 });
  let server: Server;
  let base = '';
  const traceId = newTraceId();
  /** A trace the policy bumper started on its own: a control function, no mesh service. */
  const controlTraceId = newTraceId();
  const view: MeshView = {
    liveAliases: () => [{ service: 'orders', stable: '1', weights: { '2': 0.1 } }],
    controlFunctions: () => new Set(['demo-policy-bumper']),
    policyEdges: async () => {
      if (policyDown) throw new Error('ResourceNotFoundException: Requested resource not found');
      return [{ from: 'orders', to: 'inventory', state: 'denied', managedBy: 'operator', reason: 'incident-42' }];
    },
  };
  let policyDown = false;

  before(async () => {
    store.recordEmf(emfLine({ durations: [12] }), { functionName: 'demo-orders', version: '1' });
    store.recordSegment({
      trace_id: traceId,
      id: newSegmentId(),
      name: 'demo-orders',
      start_time: Date.now() / 1000,
      end_time: Date.now() / 1000 + 0.01,
    });
    store.recordSegment({
      trace_id: controlTraceId,
      id: newSegmentId(),
      name: 'demo-policy-bumper',
      start_time: Date.now() / 1000 - 1,
      end_time: Date.now() / 1000 - 0.99,
    });
    server = createServer((req, res) => {
      if (!handleMeshRequest(req, res, store, view)) {
        res.writeHead(418);
        res.end('not mine');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('serves who may call whom as the policy tables say, and says when a table cannot be read', async () => {
    const res = await fetch(`${base}/_mesh/policy`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      edges: [{ from: 'orders', to: 'inventory', state: 'denied', managedBy: 'operator', reason: 'incident-42' }],
    });
    policyDown = true;
    try {
      const down = await fetch(`${base}/_mesh/policy`);
      assert.equal(down.status, 503);
      assert.match(((await down.json()) as { message: string }).message, /^the policy table could not be read: /);
    } finally {
      policyDown = false;
    }
  });

  it('serves stats JSON for a window', async () => {
    const res = await fetch(`${base}/_mesh/stats?window=30s`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { windowMs: number; edges: { requests: number; p50: number }[] };
    assert.equal(body.windowMs, 30_000);
    assert.equal(body.edges[0]!.requests, 1);
    assert.equal(body.edges[0]!.p50, 12);
  });

  it("serves one mesh's stats when asked for it by name", async () => {
    const of = async (mesh: string) =>
      ((await (await fetch(`${base}/_mesh/stats?window=30s&mesh=${mesh}`)).json()) as { edges: { requests: number }[] })
        .edges;
    assert.equal((await of('demo'))[0]!.requests, 1);
    assert.deepEqual(await of('another'), [], "another mesh's stats hold none of this mesh's calls");
  });

  it('lists traces and serves one by id, and the newest complete one as `last`', async () => {
    const list = (await (await fetch(`${base}/_mesh/traces?limit=5`)).json()) as { traces: { id: string }[] };
    assert.deepEqual(
      list.traces.map((t) => t.id),
      [traceId, controlTraceId],
    );
    const one = (await (await fetch(`${base}/_mesh/traces/${traceId}`)).json()) as { id: string; roots: unknown[] };
    assert.equal(one.id, traceId);
    assert.equal(one.roots.length, 1);
    const last = (await (await fetch(`${base}/_mesh/traces/last`)).json()) as { id: string };
    assert.equal(last.id, traceId);
  });

  it("leaves out the control functions' traces with control=hide, and says how many", async () => {
    const app = (await (await fetch(`${base}/_mesh/traces?limit=5&control=hide`)).json()) as {
      traces: { id: string }[];
      hidden: number;
    };
    assert.deepEqual(
      app.traces.map((t) => t.id),
      [traceId],
    );
    assert.equal(app.hidden, 1);
  });

  it('serves the access log from a cursor: none and the newest cursor first, then the lines after it', async () => {
    const line = (destination: string) =>
      `{"type":"mesh-access","time":1,"reporter":"source","source":"orders","destination":"${destination}","version":"1","code":200,"outcome":"success","durationMs":3}`;
    store.accessLog.record(line('payments'));
    const start = (await (await fetch(`${base}/_mesh/access`)).json()) as { entries: unknown[]; next: number };
    assert.deepEqual(start.entries, []);
    store.accessLog.record('{"_aws":{}} not an access line');
    store.accessLog.record(line('inventory'));
    const next = (await (await fetch(`${base}/_mesh/access?after=${start.next}`)).json()) as {
      entries: { destination: string }[];
      next: number;
    };
    assert.deepEqual(
      next.entries.map((e) => e.destination),
      ['inventory'],
    );
    assert.equal(next.next, start.next + 1);
    assert.equal((await fetch(`${base}/_mesh/access?after=-1`)).status, 400);
  });

  it('serves the access log from a time: the lines of the window on, a bad since a 400 naming it', async () => {
    const line = (destination: string, agoMs: number) =>
      `{"type":"mesh-access","time":${Date.now() - agoMs},"reporter":"source","source":"orders","destination":"${destination}","version":"1","code":200,"outcome":"success","durationMs":3}`;
    store.accessLog.record(line('ten-minutes-ago', 10 * 60_000));
    store.accessLog.record(line('a-minute-ago', 60_000));
    store.accessLog.record(line('just-now', 0));
    const window = (await (await fetch(`${base}/_mesh/access?since=5m`)).json()) as {
      entries: { destination: string }[];
      next: number;
      droppedUntil?: number;
    };
    assert.deepEqual(
      window.entries.map((e) => e.destination),
      ['a-minute-ago', 'just-now'],
    );
    assert.equal(window.next, store.accessLog.latest);
    assert.equal(window.droppedUntil, undefined, 'the mesh holds every line of the window');
    const bad = await fetch(`${base}/_mesh/access?since=5x`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^since must be a duration .*, got "5x"$/);
    assert.equal((await fetch(`${base}/_mesh/access?since=5m&after=0`)).status, 400);
  });

  it('serves each live alias as configured', async () => {
    const res = await fetch(`${base}/_mesh/aliases`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { aliases: [{ service: 'orders', stable: '1', weights: { '2': 0.1 } }] });
  });

  it('serves the dashboard page, self-contained', async () => {
    const res = await fetch(`${base}/_mesh/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<svg id="graph"/);
    assert.doesNotMatch(
      html,
      /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/,
      'no external resources',
    );
    const redirect = await fetch(`${base}/_mesh`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
  });

  it('narrows the list with service, failed and since, and names a bad value with its fix', async () => {
    const ids = async (q: string) =>
      ((await (await fetch(`${base}/_mesh/traces?limit=5${q}`)).json()) as { traces: { id: string }[] }).traces.map(
        (t) => t.id,
      );
    assert.deepEqual(await ids('&service=demo-orders'), [traceId]);
    assert.deepEqual(await ids('&service=demo-orders&failed=1'), []);
    // Which traces `since` leaves is the store's test (its clock); here, that the route passes it on.
    assert.deepEqual(await ids('&since=10m'), [traceId, controlTraceId]);
    for (const [q, said] of [
      ['&service=%22x%22', /service must be a service or function name .*got "\\"x\\""/],
      ['&failed=yes', /failed must be 1 \(or left out\), got "yes"/],
      ['&since=soon', /since must be a duration like 90s, 5m or 500ms, got "soon"/],
    ] as const) {
      const res = await fetch(`${base}/_mesh/traces?limit=5${q}`);
      assert.equal(res.status, 400, q);
      assert.match(((await res.json()) as { message: string }).message, said);
    }
  });

  it('answers bad input with 400/404/405 naming the fix', async () => {
    const bad = await fetch(`${base}/_mesh/stats?window=forever`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /window must be a duration.*"forever"/);
    assert.equal((await fetch(`${base}/_mesh/traces?limit=0`)).status, 400);
    const missing = await fetch(`${base}/_mesh/traces/1-00000000-000000000000000000000000`);
    assert.equal(missing.status, 404);
    // An escape that decodes to no text names no trace: 404, not the decoder's URIError.
    const undecodable = await fetch(`${base}/_mesh/traces/%E0%A4%A`);
    assert.equal(undecodable.status, 404);
    assert.match(((await undecodable.json()) as { message: string }).message, /no trace "%E0%A4%A"/);
    assert.equal((await fetch(`${base}/_mesh/nothing`)).status, 404);
    const post = await fetch(`${base}/_mesh/stats`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('leaves every other path to the caller', async () => {
    for (const p of ['/', '/_meshy', '/2015-03-31/functions/x/invocations']) {
      assert.equal((await fetch(`${base}${p}`)).status, 418, p);
    }
  });
});
