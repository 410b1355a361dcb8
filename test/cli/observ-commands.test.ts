/**
 * `mesh stat`, `mesh trace`, `mesh check`: flags, rendering, the check rules (a compliant and a
 * non-compliant case each), and the AWS paths with the real SDK on the wire against loopback servers
 * that answer as CloudWatch (awsJson1_0) and X-Ray (restJson1) do.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FunctionFacts } from '../../cli/commands/check-facts';
import { evaluateFunction } from '../../cli/commands/check-table';
import { TAP_HELP, tapFilter } from '../../cli/commands/tap';
import { bar, renderTraceList, renderWaterfall } from '../../cli/commands/trace';
import type { snapshotFromCloudWatch } from '../../cli/telemetry/cloudwatch-stats';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { handleMeshRequest } from '../../local/dashboard/routes';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { DEPLOYMENT, ENV, LAYER, metricNamespace } from '../../shared/names';
import { CALL_OUTCOMES } from '../../shared/telemetry/call-outcomes';
import { CloudWatchMetrics } from '../support/cloudwatch-metrics';
import { meshInProcess } from '../support/mesh-in-process';
import { emfLine, newSegmentId, newTraceId, noMeshView } from '../support/observ-fixtures';

const cli = (args: string[]) => meshInProcess(args, { PATH: process.env.PATH, HOME: '/nonexistent' });

async function serve(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString(), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

describe('mesh stat / trace / check / tap: bad flags exit 2 and name the fix', () => {
  const cases: [string[], RegExp][] = [
    [['stat', '--window', 'forever'], /--window must be a duration up to 1h like 30s, 5m or 500ms, got "forever"/],
    [['stat', '--window', '2h'], /--window must be a duration up to 1h/],
    [['stat', '--bogus'], /unknown flag --bogus for `mesh stat`/],
    [['stat', '--count', '3'], /--interval and --count only apply with --watch/],
    [['stat', '--watch', '--count', '0'], /--count must be a whole number from 1/],
    [['stat', 'payments'], /use --service <name>/],
    [['trace', 'not-a-trace'], /trace id must look like 1-5759e988-bd862e3fe1be46a994272793/],
    [['trace', '--last', '1-5759e988-bd862e3fe1be46a994272793'], /a trace id or --last, not both/],
    [['trace', '--limit', 'many'], /--limit must be a whole number/],
    [['check', 'extra'], /unexpected argument extra for `mesh check`/],
    // An outcome the runtime never records would filter every call out, silently, until Ctrl-C.
    [
      ['tap', '--outcome', 'sucess'],
      /^mesh tap: --outcome "sucess" is no outcome the mesh records \(did you mean "success"\?\); use success, denied, unauthenticated, deadline-exceeded, timeout, throttled, rate-limited, circuit-open, function-error, service-error, client-error, or failure for every outcome but success/,
    ],
    [
      ['tap', '--outcome', 'failure,timout'],
      /^mesh tap: --outcome "timout" is no outcome the mesh records \(did you mean "timeout"\?\)/,
    ],
    [['tap', '--outcome', 'Success'], /^mesh tap: --outcome "Success" is no outcome/],
    [
      ['tap', '--since', 'yesterday'],
      /^mesh tap: --since must be a duration up to 24h like 30s, 5m or 500ms, got "yesterday"; see `mesh tap --help`/,
    ],
    [['tap', '--since', '2d'], /^mesh tap: --since must be a duration up to 24h .*, got "2d"/],
    [
      ['tap', '--no-follow'],
      /^mesh tap: --no-follow prints the calls of a window: give it with --since, e.g. --since 5m/,
    ],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.err, message);
    });
  }

  it('tap --outcome takes every outcome the runtime records, and failure', () => {
    const all = [...CALL_OUTCOMES, 'failure'];
    assert.deepEqual(tapFilter([], { outcome: all.join(', ') }).outcomes, all);
  });

  it('tap --help lists every outcome the runtime records', () => {
    const listed = /--outcome <o>\[,<o>\]\s+only these outcomes: ([^;]+);/.exec(TAP_HELP)?.[1];
    assert.deepEqual(listed?.split(/,\s+/), [...CALL_OUTCOMES]);
  });

  it("--help prints each command's usage and exits 0", async () => {
    for (const c of ['stat', 'trace', 'check']) {
      const r = await cli([c, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^mesh ${c} `));
    }
  });
});

describe('mesh check rules', () => {
  const good: FunctionFacts = {
    service: 'payments',
    functionName: 'demo-payments',
    config: {
      handler: LAYER.wrapperHandler,
      env: { [ENV.handler]: 'index.handler', [ENV.policyTable]: 'demo-policy', [ENV.identitySecret]: 'demo/payments' },
      tracingMode: 'Active',
      layers: ['arn:aws:lambda:us-east-1:111111111111:layer:demo-mesh-runtime:3'],
    },
    alias: { functionVersion: '1', weights: { '2': 0.1 } },
    secret: { id: 'demo/payments' },
    table: { name: 'demo-policy', status: 'ACTIVE', items: 3, registered: true },
  };
  const status = (f: FunctionFacts) => Object.fromEntries(evaluateFunction(f).map((c) => [c.check, c.status]));

  it('passes a function wired by MeshFunction', () => {
    const results = evaluateFunction(good);
    // The rows over the whole mesh (policy items, edges, split) skip without its facts.
    assert.deepEqual(
      results.map((r) => r.status),
      ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'skip', 'skip', 'skip', 'skip'],
    );
    assert.equal(results.find((r) => r.check === 'alias live')!.detail, 'v1 + canary v2 10%');
  });

  const bad: [string, FunctionFacts, string, RegExp][] = [
    [
      'no mesh layer',
      { ...good, config: { ...good.config!, layers: ['arn:aws:lambda:us-east-1:1:layer:pandas:1'] } },
      'mesh layer attached',
      /MeshFunction/,
    ],
    [
      'handler not redirected',
      { ...good, config: { ...good.config!, handler: 'index.handler' } },
      'handler redirected to the mesh wrapper',
      /set the handler to \/opt\/nodejs/,
    ],
    [
      'MESH_HANDLER unset',
      { ...good, config: { ...good.config!, env: { [ENV.policyTable]: 'demo-policy' } } },
      'handler redirected to the mesh wrapper',
      /MESH_HANDLER/,
    ],
    [
      'tracing PassThrough',
      { ...good, config: { ...good.config!, tracingMode: 'PassThrough' } },
      'X-Ray tracing Active',
      /--tracing-config Mode=Active/,
    ],
    ['no live alias', { ...good, alias: undefined }, 'alias live', /create the alias on the newest published version/],
    [
      'live on $LATEST',
      { ...good, alias: { functionVersion: '$LATEST', weights: {} } },
      'alias live',
      /mesh promote payments/,
    ],
    [
      'secret missing',
      { ...good, secret: { id: 'demo/payments', describeError: 'ResourceNotFoundException: not found' } },
      'identity readable',
      /names an existing secret/,
    ],
    [
      'secret unreadable',
      { ...good, secret: { id: 'demo/payments', readError: 'AccessDeniedException' } },
      'identity readable',
      /GetSecretValue/,
    ],
    [
      'table missing',
      { ...good, table: { name: 'demo-policy', describeError: 'ResourceNotFoundException' } },
      'policy table reachable',
      /deploy the Mesh/,
    ],
    [
      'table not queryable',
      { ...good, table: { name: 'demo-policy', status: 'ACTIVE', queryError: 'AccessDeniedException' } },
      'policy table reachable',
      /dynamodb:Query/,
    ],
    ['table env unset', { ...good, table: undefined }, 'policy table reachable', /sets MESH_POLICY_TABLE/],
  ];
  for (const [what, facts, check, fix] of bad) {
    it(`fails ${what}, with a fix`, () => {
      const r = evaluateFunction(facts).find((c) => c.check === check)!;
      assert.equal(r.status, 'fail');
      assert.match(r.fix ?? '', fix);
      assert.ok(r.detail);
    });
  }

  it('recognises the mesh layer by its description when its name does not say', () => {
    const arn = 'arn:aws:lambda:us-east-1:1:layer:ShopRuntimeLayerA1B2C3:4';
    const facts = {
      ...good,
      config: { ...good.config!, layers: [arn], layerDescriptions: { [arn]: 'Lambda Mesh runtime for mesh shop' } },
    };
    assert.equal(status(facts)['mesh layer attached'], 'pass');
    assert.equal(
      status({ ...facts, config: { ...facts.config, layerDescriptions: { [arn]: 'pandas' } } })['mesh layer attached'],
      'fail',
    );
  });

  it('skips identity when it is off, warns on a service with no registration, fails an unreadable configuration', () => {
    assert.equal(status({ ...good, secret: undefined })['identity readable'], 'skip');
    assert.equal(
      status({ ...good, table: { name: 't', status: 'ACTIVE', items: 0, registered: false } })[
        'policy table reachable'
      ],
      'warn',
    );
    const none = evaluateFunction({ service: 'x', functionName: 'demo-x', configError: 'AccessDeniedException' });
    assert.deepEqual(
      none.map((c) => c.status),
      ['fail'],
    );
  });
});

describe('mesh trace rendering', () => {
  it('scales bars to time and gives every hop at least one cell', () => {
    assert.equal(bar(0, 100, 0, 100, 10), '██████████');
    assert.equal(bar(0, 100, 50, 100, 10), '     █████');
    assert.equal(bar(0, 100, 20, 20.1, 10), '  █       ');
  });

  it('prints one line per hop with the mesh annotations', () => {
    const store = new TelemetryStore();
    const id = newTraceId();
    const [a, b, c] = [newSegmentId(), newSegmentId(), newSegmentId()];
    const t0 = 1_800_000_000;
    store.recordSegment({ trace_id: id, id: a, name: 'demo-orders', start_time: t0, end_time: t0 + 0.1 });
    store.recordSegment({
      type: 'subsegment',
      trace_id: id,
      parent_id: a,
      id: b,
      name: 'payments',
      start_time: t0 + 0.05,
      end_time: t0 + 0.1,
      fault: true,
      annotations: { source: 'orders', target: 'payments', version: '2', attempt: 3, outcome: 'error' },
    });
    store.recordSegment({
      trace_id: id,
      parent_id: b,
      id: c,
      name: 'demo-payments',
      start_time: t0 + 0.06,
      end_time: t0 + 0.09,
    });
    const text = renderWaterfall(store.trace(id)!, 20);
    const lines = text.split('\n');
    assert.match(lines[0]!, new RegExp(`^trace ${id}  100ms  handled  demo-orders -> demo-payments$`));
    assert.equal(lines[2], 'demo-orders        |████████████████████|   100ms');
    assert.equal(
      lines[3],
      '  payments         |          ██████████|    50ms  fault source=orders target=payments version=2 attempt=3 outcome=error',
    );
    assert.equal(lines[4], '    demo-payments  |            ██████  |    30ms');
  });
});

describe('mesh trace: a trace whose hops have not all arrived', () => {
  it('shows as partial in the list and the waterfall until its last hop lands, then ok', () => {
    const store = new TelemetryStore({ settleMs: 0 });
    const id = newTraceId();
    const [a, b] = [newSegmentId(), newSegmentId()];
    const t0 = 1_800_000_000;
    // The entry's segment says it is still in progress: its call to payments is under way.
    store.recordSegment({ trace_id: id, id: a, name: 'demo-orders', start_time: t0, in_progress: true });
    const [early] = store.traces(1);
    assert.equal(early?.complete, false);
    assert.match(renderTraceList([early!]), new RegExp(`${id} .* partial +demo-orders`));
    assert.match(renderWaterfall(store.trace(id)!, 20).split('\n')[0]!, / {2}partial {2}/);
    store.recordSegment({ trace_id: id, id: a, name: 'demo-orders', start_time: t0, end_time: t0 + 0.1 });
    store.recordSegment({
      type: 'subsegment',
      trace_id: id,
      parent_id: a,
      id: b,
      name: 'payments',
      start_time: t0 + 0.01,
      end_time: t0 + 0.06,
    });
    store.recordSegment({
      trace_id: id,
      parent_id: b,
      id: newSegmentId(),
      name: 'demo-payments',
      start_time: t0 + 0.02,
      end_time: t0 + 0.05,
    });
    const [done] = store.traces(1);
    assert.equal(done?.complete, true);
    assert.match(renderTraceList([done!]), new RegExp(`${id} .* ok +demo-orders -> demo-payments`));
    assert.match(renderWaterfall(store.trace(id)!, 20).split('\n')[0]!, / {2}ok {2}/);
  });
});

describe('mesh stat and trace against AWS (CloudWatch, X-Ray on the wire)', () => {
  let aws: { url: string; server: Server };
  const calls: string[] = [];
  const traceId = newTraceId();
  /** A newer trace, started by one of the mesh's control functions (no MESH_SERVICE). */
  const controlTraceId = newTraceId();
  const cloudwatch = new CloudWatchMetrics(metricNamespace('demo'));
  before(async () => {
    const t0 = Date.now() / 1000;
    // What the runtimes' EMF lines became in CloudWatch: each call's lines, as the runtime writes them by
    // default (per-edge and per-version sets), one sample per metric and set. In the last 4 minutes,
    // orders -> payments v1 served 40 calls, v2 15 and failed 5 (both sides report each call); 6 to 8
    // minutes ago, outside a 5-minute window, 25 more per version that a correct query never counts,
    // with far slower latencies.
    const now = Date.now();
    let at = now;
    const telemetry = new MeshTelemetry(
      (text) => {
        for (const line of text.split('\n')) {
          const parsed = line.includes('"_aws"') ? parseEmf(line) : undefined;
          if (!parsed?.ok) continue;
          for (const m of parsed.samples)
            for (const v of m.values) cloudwatch.put(m.name, m.dimensions, v, at, m.namespace);
        }
      },
      undefined,
      () => {},
      undefined,
      metricNamespace('demo'),
    );
    const record = (
      version: string,
      code: string,
      n: number,
      when: (i: number) => number,
      ms: (i: number) => number,
    ) => {
      for (const reporter of ['source', 'destination'] as const) {
        for (let i = 0; i < n; i++) {
          at = when(i);
          const c = Number(code);
          const call = { source: 'orders', destination: 'payments', version, durationMs: ms(i) };
          telemetry.record({ ...call, reporter, code: c, outcome: c === 200 ? 'success' : 'function-error' });
        }
      }
    };
    const recent = (i: number) => now - 10_000 - i * 5_000;
    const old = (i: number) => now - 360_000 - i * 4_000;
    record('1', '200', 40, recent, (i) => (i < 20 ? 12 : i < 38 ? 30 : 80));
    record('2', '200', 15, recent, () => 20);
    record('2', '500', 5, recent, () => 25);
    record('1', '200', 25, old, () => 500);
    record('2', '500', 25, old, () => 500);
    // The caller alone counts calls it refused over a rate limit (no Invoke: under the alias) and calls
    // a fallback served (here version 2 standing in for another target).
    const callerOnly = { source: 'orders', destination: 'payments', reporter: 'source', durationMs: 1 } as const;
    for (let i = 0; i < 3; i++) {
      at = recent(i);
      telemetry.record({ ...callerOnly, version: 'live', code: 429, outcome: 'rate-limited' });
    }
    for (let i = 0; i < 2; i++) {
      at = recent(i);
      telemetry.record({ ...callerOnly, version: '2', code: 200, outcome: 'success', fallbackFor: 'inventory' });
    }
    cloudwatch.put('ColdStart', {}, 1, now - 1_000);
    aws = await serve((req, body, res) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push(target || `${req.method} ${req.url}`);
      // Not a local mesh: the /_mesh/ probe gets AWS's plain 404.
      if (req.url?.startsWith('/_mesh/')) return json(res, 404, { message: 'Not Found' });
      const metrics = cloudwatch.handle(target, body);
      if (metrics !== undefined) return json(res, 200, metrics, 'application/x-amz-json-1.0');
      if (req.url?.startsWith('/2015-03-31/functions')) {
        return json(res, 200, {
          Functions: [
            { FunctionName: 'demo-orders', Environment: { Variables: { MESH_NAME: 'demo', MESH_SERVICE: 'orders' } } },
            { FunctionName: 'demo-policy-bumper', Environment: { Variables: { MESH_POLICY_TABLE: 'demo-policy' } } },
          ],
        });
      }
      if (req.url === '/TraceSummaries') {
        return json(res, 200, {
          TraceSummaries: [
            { Id: traceId, Duration: 0.1, HasFault: false, HasError: false, ServiceIds: [{ Name: 'demo-orders' }] },
            {
              Id: controlTraceId,
              StartTime: t0 + 5,
              Duration: 0.01,
              EntryPoint: { Name: 'demo-policy-bumper' },
              ServiceIds: [{ Name: 'demo-policy-bumper' }],
            },
          ],
          ApproximateTime: t0,
        });
      }
      if (req.url === '/Traces') {
        const seg = newSegmentId();
        const doc = {
          trace_id: traceId,
          id: seg,
          name: 'demo-orders',
          start_time: t0,
          end_time: t0 + 0.1,
          subsegments: [
            {
              id: newSegmentId(),
              name: 'payments',
              start_time: t0 + 0.01,
              end_time: t0 + 0.09,
              annotations: { target: 'payments', attempt: 1 },
            },
          ],
        };
        return json(res, 200, {
          Traces: [{ Id: traceId, Duration: 0.1, Segments: [{ Id: seg, Document: JSON.stringify(doc) }] }],
          UnprocessedTraceIds: [],
        });
      }
      json(res, 400, { message: `unexpected ${target || req.url}` });
    });
  });
  after(() => new Promise<void>((r) => aws.server.close(() => r())));

  it('mesh stat reads CloudWatch GetMetricData when no local mesh answers', async () => {
    const r = await cli(['stat', '--json', '--window', '5m', '--endpoint-url', aws.url]);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as ReturnType<typeof snapshotFromCloudWatch> & { source: string };
    assert.equal(s.source, 'cloudwatch');
    // From the minute the 5-minute window starts in, as CloudWatch reads it, up to now.
    assert.ok(s.windowMs >= 300_000 && s.windowMs < 360_000, `${s.windowMs}`);
    assert.equal((s.at - s.windowMs) % 60_000, 0);
    // The edge over every version, as the caller reported it: no response code, errors counted apart
    // (the 3 calls refused over a rate limit and the 2 a fallback served are the caller's alone).
    assert.deepEqual(
      s.edges.map((e) => [e.source, e.destination, e.version, e.reporter, e.requests, e.successRate]),
      [['orders', 'payments', '*', 'source', 65, 57 / 65]],
      'sums within the window',
    );
    assert.deepEqual([s.edges[0]!.rateLimited, s.edges[0]!.fallbacks], [3, 2]);
    const version = (v: string) =>
      s.services.find((x) => x.service === 'payments')!.versions.find((x) => x.version === v)!;
    assert.equal(version('1').requests, 40, 'from the callee side only');
    assert.deepEqual([version('1').p50, version('1').p95, version('1').p99], [12, 30, 80]);
    assert.equal(version('2').requests, 20);
    assert.equal(version('2').successRate, 0.75);
    const payments = s.services.find((x) => x.service === 'payments')!;
    assert.deepEqual(
      payments.versions.map((v) => [v.version, v.share]),
      [
        ['1', 40 / 60],
        ['2', 20 / 60],
      ],
    );
    assert.ok(calls.some((c) => c.endsWith('.GetMetricData')));
    // One period from that minute past now, the statistics each metric needs, and every page read.
    assert.ok(cloudwatch.requests.length > 1, 'the answer came in several pages');
    for (const q of cloudwatch.requests) {
      assert.equal(q.endTime - q.startTime, s.windowMs);
      assert.deepEqual([...new Set(q.periods)], [Math.ceil(s.windowMs / 60_000) * 60]);
      assert.deepEqual([...new Set(q.stats)].sort(), ['SampleCount', 'Sum', 'p50', 'p95', 'p99']);
    }
  });

  it('mesh trace lists X-Ray summaries and draws one trace from BatchGetTraces', async () => {
    const list = await cli(['trace', '--endpoint-url', aws.url]);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`${traceId} .* 100ms .* ok .* demo-orders`));
    assert.doesNotMatch(list.out, new RegExp(controlTraceId), "a control function's trace is left out");
    assert.match(list.out, /\(1 trace of the mesh's control functions left out; --all lists them\)$/);
    const all = await cli(['trace', '--all', '--endpoint-url', aws.url]);
    assert.match(all.out, new RegExp(`${controlTraceId} .* demo-policy-bumper`));
    const last = await cli(['trace', '--last', '--endpoint-url', aws.url]);
    assert.equal(last.code, 0, last.err);
    assert.match(last.out, new RegExp(`^trace ${traceId}  100ms  ok  demo-orders`));
    assert.match(last.out, / {2}payments .*\| {4}80ms {2}target=payments attempt=1/);
  });
});

describe('mesh stat against the local mesh routes', () => {
  it('--service names a service, channel or caller of the mesh: a typo exits 2 naming the closest; a quiet one shows no traffic', async () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ durations: [5] })); // orders -> payments
    const fn = (service: string) => ({
      FunctionName: `shop-${service}`,
      Environment: { Variables: { [ENV.meshName]: 'shop', [ENV.service]: service, [ENV.policyTable]: 'shop-policy' } },
    });
    // The local mesh's routes and, at the same endpoint, Lambda's ListFunctions (discovery).
    const local = await serve((req, _body, res) => {
      if (req.url?.startsWith('/2015-03-31/functions')) {
        json(res, 200, { Functions: ['inventory', 'orders', 'payments'].map(fn) });
      } else if (!handleMeshRequest(req, res, store, noMeshView)) json(res, 404, {});
    });
    try {
      const typo = await cli(['stat', '--service', 'paymnts', '--endpoint-url', local.url]);
      assert.equal(typo.code, 2, typo.out);
      assert.match(
        typo.err,
        /^mesh stat: unknown service "paymnts" \(did you mean "payments"\?\) for --service in mesh shop; known services, channels and callers: external, inventory, mesh-deploy-check, orders, payments, unknown \(see `mesh status`\)$/,
      );
      const quiet = await cli(['stat', '--service', 'inventory', '--endpoint-url', local.url]);
      assert.equal(quiet.code, 0, quiet.err);
      assert.match(quiet.out, /no traffic in this window/);
      const busy = await cli(['stat', '--service', 'payments', '--endpoint-url', local.url]);
      assert.equal(busy.code, 0, busy.err);
      assert.match(busy.out, /^orders +-> payments +1 +1 /m);
    } finally {
      await new Promise<void>((r) => local.server.close(() => r()));
    }
  });

  it('--watch --count prints one JSON snapshot per refresh', async () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ durations: [5] }));
    const local = await serve((req, _body, res) => {
      if (!handleMeshRequest(req, res, store, noMeshView)) json(res, 404, {});
    });
    try {
      const r = await cli([
        'stat',
        '--watch',
        '--count',
        '2',
        '--interval',
        '10ms',
        '--json',
        '--endpoint-url',
        local.url,
      ]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.split('\n');
      assert.equal(lines.length, 2);
      for (const l of lines) assert.equal((JSON.parse(l) as { edges: { requests: number }[] }).edges[0]!.requests, 1);
    } finally {
      await new Promise<void>((r) => local.server.close(() => r()));
    }
  });

  it('RPS is over the time the mesh has listened, not since its first call', async () => {
    // A mesh up for 59 s without traffic, then one call, read a second later: 2 calls in 60 s.
    let now = 1_800_000_000_000;
    const store = new TelemetryStore({ now: () => now });
    now += 59_000;
    store.recordEmf(emfLine({ durations: [5], requests: 2, timestamp: now }));
    now += 1_000;
    const local = await serve((req, _body, res) => {
      if (!handleMeshRequest(req, res, store, noMeshView)) json(res, 404, {});
    });
    try {
      const r = await cli(['stat', '--json', '--endpoint-url', local.url]);
      assert.equal(r.code, 0, r.err);
      const s = JSON.parse(r.out) as { edges: { requests: number; rps: number }[] };
      assert.deepEqual(
        s.edges.map((e) => [e.requests, e.rps]),
        [[2, 0.033]],
      );
    } finally {
      await new Promise<void>((r) => local.server.close(() => r()));
    }
  });

  it('shows each edge’s rate-limited calls and the calls fallbacks served', async () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ version: 'live', code: '429', rateLimited: 1, requests: 1, durations: [] }));
    store.recordEmf(emfLine({ version: 'live', code: '429', rateLimited: 1, requests: 1, durations: [] }));
    store.recordEmf(emfLine({ destination: 'payments-backup', fallbacks: 1 }));
    const local = await serve((req, _body, res) => {
      if (!handleMeshRequest(req, res, store, noMeshView)) json(res, 404, {});
    });
    try {
      const r = await cli(['stat', '--endpoint-url', local.url]);
      assert.equal(r.code, 0, r.err);
      // Cells hold no spaces but the edge's arrow: split on runs of spaces, `->` glued to its target.
      const cells = (l: string) => l.replace('-> ', '->').trim().split(/\s+/);
      const head = cells(r.out.split('\n').find((l) => l.startsWith('SOURCE'))!);
      const cell = (row: string, column: string) => cells(row)[head.indexOf(column)];
      const limited = r.out.split('\n').find((l) => l.includes('-> payments ') && l.includes('live'))!;
      const backup = r.out.split('\n').find((l) => l.includes('-> payments-backup'))!;
      assert.equal(cell(limited, 'LIMITED'), '2');
      assert.equal(cell(limited, 'FALLBACK'), '0');
      assert.equal(cell(backup, 'FALLBACK'), '1');
      assert.equal(cell(backup, 'LIMITED'), '0');
    } finally {
      await new Promise<void>((r) => local.server.close(() => r()));
    }
  });

  it('names the pre-traffic check under the edges it calls, never as a service', async () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ source: 'external', destination: 'orders' }));
    store.recordEmf(emfLine());
    store.recordEmf(emfLine({ source: DEPLOYMENT.checkSource, version: '2', reporter: 'destination' }));
    const local = await serve((req, _body, res) => {
      if (!handleMeshRequest(req, res, store, noMeshView)) json(res, 404, {});
    });
    try {
      const r = await cli(['stat', '--endpoint-url', local.url]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^mesh-deploy-check +-> payments +2 +1 /m);
      assert.doesNotMatch(r.out, /^mesh-deploy-check +1 /m, 'a row of the services table');
      const notes = r.out.split('\n').filter((l) => /^[a-z-]+: /.test(l));
      assert.deepEqual(notes, [
        'external: callers outside the mesh (a plain Invoke, API Gateway, a queue), as the callee counts them',
        'mesh-deploy-check: the pre-traffic check of gated deployments, no service: it calls each new version once before CodeDeploy shifts traffic to it',
      ]);
      const json = JSON.parse((await cli(['stat', '--json', '--endpoint-url', local.url])).out) as {
        callers: { name: string; role: string; label: string }[];
      };
      assert.deepEqual(
        json.callers.map((c) => [c.name, c.role, c.label]),
        [
          ['external', 'outside', 'callers outside the mesh'],
          ['mesh-deploy-check', 'deploy-check', 'pre-traffic check'],
        ],
      );
      // --service keeps the callers of the edges it keeps.
      const orders = await cli(['stat', '--service', 'orders', '--json', '--endpoint-url', local.url]);
      assert.deepEqual(
        (JSON.parse(orders.out) as typeof json).callers.map((c) => c.name),
        ['external'],
      );
    } finally {
      await new Promise<void>((r) => local.server.close(() => r()));
    }
  });

  it('says so, exit 1, when the endpoint cannot be reached', async () => {
    const r = await cli(['stat', '--endpoint-url', 'http://127.0.0.1:1']);
    assert.equal(r.code, 1);
    // An app's operator starts the local mesh with `mesh local`: the hint names that, and where to point instead.
    assert.match(
      r.err,
      /cannot reach http:\/\/127\.0\.0\.1:1 .*start the local mesh \(`mesh local` in the CDK app's folder\) or pass its address with --endpoint-url/,
    );
  });
});
