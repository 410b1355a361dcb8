/**
 * The `mesh` CLI's live views end to end: `node cli/bin/mesh.js` as a child process against the
 * local Lambda API and dynalite (test/support/cli-mesh-fixture.ts). `mesh status --watch` appends its
 * frames when piped, redraws them in place on a terminal (a pseudo-terminal from util-linux `script`),
 * shows a change made between two frames, and exits 0 on Ctrl-C. `mesh tap` follows the access-log
 * lines the runtime's own telemetry writes, from a local mesh's routes and from a loopback server that
 * answers FilterLogEvents as CloudWatch Logs does (awsJson1_1), with the same output.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LambdaClient, ListFunctionsCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { type CallRecord, MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { handleMeshRequest } from '../../local/dashboard/routes';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { type CliMeshFixture, startCliMesh } from '../support/cli-mesh-fixture';
import { cliEnv, meshArgs, type Run, run } from '../support/mesh-cli';
import { newTraceId, noMeshView } from '../support/observ-fixtures';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const ESC = '\x1b';

async function mesh(fx: CliMeshFixture, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, await meshArgs(args), { ...fx.env, ...extraEnv });
}

/** `mesh <args>` running in the background, its stdout collected as it comes. */
async function meshLive(env: NodeJS.ProcessEnv, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, await meshArgs(args), { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Waits (bounded) until stdout (or stderr) holds what `probe` looks for. */
  const until = async (what: string, probe: (out: string) => boolean, ms = 30_000, on: 'out' | 'err' = 'out') => {
    for (
      const end = Date.now() + ms;
      !probe(on === 'out' ? stdout : stderr);
      await new Promise((r) => setTimeout(r, 50))
    )
      if (Date.now() > end) assert.fail(`${what}; stdout so far:\n${stdout}\nstderr:\n${stderr}`);
  };
  return { child, exit, until, out: () => stdout, err: () => stderr };
}

/** The access-log lines the runtime's telemetry writes for these calls (the EMF lines beside them dropped). */
function accessLines(records: readonly CallRecord[]): string[] {
  const lines: string[] = [];
  const telemetry = new MeshTelemetry(
    (text) => lines.push(...text.split('\n')),
    undefined,
    () => {},
  );
  for (const r of records) telemetry.record(r);
  return lines.filter((l) => l.startsWith('{"type":"mesh-access"'));
}

const traceId = newTraceId();
/** A call orders -> payments v2 as both ends log it, a call elsewhere, and one that timed out. */
const CALLS: CallRecord[] = [
  {
    reporter: 'source',
    source: 'orders',
    destination: 'payments',
    version: '2',
    code: 200,
    outcome: 'success',
    durationMs: 12.5,
    attempts: 1,
    traceId,
  },
  {
    reporter: 'destination',
    source: 'orders',
    destination: 'payments',
    version: '2',
    code: 200,
    outcome: 'success',
    durationMs: 9,
    traceId,
  },
  {
    reporter: 'source',
    source: 'orders',
    destination: 'inventory',
    version: '1',
    code: 200,
    outcome: 'success',
    durationMs: 3,
  },
  {
    reporter: 'source',
    source: 'orders',
    destination: 'payments',
    version: '1',
    code: 504,
    outcome: 'timeout',
    durationMs: 2000,
    attempts: 3,
    error: 'MeshTimeoutError: payments did not answer',
  },
];

/** What `mesh tap --to payments` prints of CALLS: each call once, as its caller logged it. */
const EXPECTED_TAP = [
  new RegExp(
    `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} {2}orders -> payments\\s+v2\\s+200 {2}success\\s+13ms {2}trace=${traceId}$`,
  ),
  /^\d\d:\d\d:\d\d\.\d{3} {2}orders -> payments\s+v1\s+504 {2}timeout\s+2\.00s {2}attempts=3 error="MeshTimeoutError: payments did not answer"$/,
];

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The text a terminal shows: the colour codes taken out. */
const visible = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

/** A POSIX shell word. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('mesh live views', () => {
  let fx: CliMeshFixture;
  let lambda: LambdaClient;

  before(async () => {
    fx = await startCliMesh([
      { mesh: 'demo', service: 'orders', versions: ['1'], live: { version: '1' } },
      { mesh: 'demo', service: 'payments', versions: ['1', '2'], live: { version: '1', weights: { '2': 0.1 } } },
    ]);
    lambda = new LambdaClient({ region: 'us-east-1', endpoint: fx.lambdaUrl, credentials: creds });
  });

  after(async () => {
    lambda?.destroy();
    await fx?.stop();
  });

  test('status --watch, piped: frames appended under a time-stamped separator, no terminal codes', async () => {
    const r = await mesh(fx, ['status', '--watch', '--count', '2', '--interval', '50ms']);
    assert.equal(r.code, 0, r.stderr);
    const separators = r.stdout.match(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z {2}\(every 50ms, Ctrl-C to stop\)$/gm) ?? [];
    assert.equal(separators.length, 2, r.stdout);
    assert.equal(r.stdout.match(/^payments\s+demo-payments\s+1,2\s+90% v1 \/ 10% v2\s+v2$/gm)?.length, 2);
    assert.ok(!r.stdout.includes(ESC), 'no escape codes in a pipe');
  });

  test('status --watch --json: one status object per line', async () => {
    const r = await mesh(fx, ['status', '--watch', '--count', '2', '--interval', '50ms', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    for (const l of lines)
      assert.deepEqual(
        JSON.parse(l)
          .services.map((s: { service: string }) => s.service)
          .sort(),
        ['orders', 'payments'],
      );
  });

  test('status: --interval and --count only with --watch', async () => {
    const r = await mesh(fx, ['status', '--interval', '5s']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--interval and --count only apply with --watch/);
  });

  test('status --watch shows a shift made between two frames, and Ctrl-C ends it with exit code 0', async () => {
    const live = await meshLive(fx.env, ['status', '--watch', '--interval', '300ms']);
    try {
      await live.until('the first frame', (o) => /90% v1 \/ 10% v2/.test(o));
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'demo-payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
        }),
      );
      await live.until('a frame with the shift', (o) => /^payments\s+demo-payments\s+1,2\s+75% v1 \/ 25% v2/m.test(o));
      const sent = Date.now();
      live.child.kill('SIGINT');
      assert.equal(await live.exit, 0, live.err());
      assert.ok(Date.now() - sent < 5_000, 'Ctrl-C does not wait for the next refresh');
      assert.equal(live.err(), '');
    } finally {
      live.child.kill();
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'demo-payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
        }),
      );
    }
  });

  test('output whose reader has gone (`| head`): a command ends as usual, a watch stops, exit 0, no stack trace', async () => {
    for (const args of [['status'], ['status', '--json'], ['status', '--watch', '--interval', '50ms']]) {
      const live = await meshLive(fx.env, args);
      try {
        // The reader is gone before the first line: every write fails with EPIPE.
        live.child.stdout!.destroy();
        assert.equal(await live.exit, 0, `mesh ${args.join(' ')}: ${live.err()}`);
        assert.equal(live.err(), '', `mesh ${args.join(' ')}`);
      } finally {
        live.child.kill();
      }
    }
  });

  test('status --watch on a terminal: each frame redrawn in place, never a blank screen between frames', async () => {
    const command = [process.execPath, ...(await meshArgs(['status', '--watch', '--count', '3', '--interval', '50ms']))]
      .map(shellQuote)
      .join(' ');
    // util-linux script: runs the command on a pseudo-terminal and copies what it printed to stdout.
    const r = await run('script', ['-qfec', command, '/dev/null'], fx.env);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.equal(out.split(`${ESC}[2J`).length - 1, 1, 'the screen is cleared once, before the first frame');
    assert.equal(out.split(`${ESC}[H`).length - 1, 3, 'each frame starts at the top left');
    assert.equal(out.split(`${ESC}[J`).length - 1, 3, 'each frame clears what the last one left below it');
    // Every line of a frame clears the rest of the old line it overwrote.
    const frame = out.slice(out.lastIndexOf(`${ESC}[H`));
    const payments = frame.split('\n').find((l) => l.startsWith('payments'));
    assert.match(
      visible(payments ?? ''),
      new RegExp(`^payments\\s+demo-payments\\s+1,2\\s+90% v1 / 10% v2\\s+v2${ESC}\\[K`),
    );
  });

  test('tap, local mesh: each call once as it happens, filtered; Ctrl-C exits 0', async () => {
    const store = new TelemetryStore();
    // Lines from before tap starts are history, not shown.
    for (const l of accessLines(CALLS)) store.accessLog.record(l);
    // The local mesh's routes and, as on the local mesh, Lambda at the same endpoint (for --to's name).
    const functions = await lambda.send(new ListFunctionsCommand({}));
    const local = await listen((req, _body, res) => {
      if (req.url?.startsWith('/2015-03-31/functions')) res.end(JSON.stringify(functions));
      else if (!handleMeshRequest(req, res, store, noMeshView)) res.writeHead(404).end();
    });
    const live = await meshLive(cliEnv(), ['tap', '--to', 'payments', '--endpoint-url', local.url]);
    try {
      await live.until(
        'tap says it follows',
        (e) => /^following the access log of the local mesh/.test(e),
        30_000,
        'err',
      );
      for (const l of accessLines(CALLS)) store.accessLog.record(l);
      await live.until('two calls', (o) => o.trimEnd().split('\n').length >= 2);
      live.child.kill('SIGINT');
      assert.equal(await live.exit, 0, live.err());
      const lines = live.out().trimEnd().split('\n');
      assert.equal(lines.length, 2, live.out());
      for (const [i, l] of lines.entries()) assert.match(l, EXPECTED_TAP[i]!);
    } finally {
      live.child.kill();
      await local.close();
    }
  });

  test('tap --since, local mesh: starts with the calls of the window (made before it started), then follows', async () => {
    const store = new TelemetryStore();
    // Calls made before tap starts: --since shows them (the test above shows that without it, tap does not).
    for (const l of accessLines(CALLS)) store.accessLog.record(l);
    const local = await listen((req, _body, res) => {
      if (!handleMeshRequest(req, res, store, noMeshView)) res.writeHead(404).end();
    });
    try {
      const args = ['tap', '--since', '5m', '--outcome', 'failure,success', '--endpoint-url', local.url];
      const window = await run(process.execPath, await meshArgs([...args, '--no-follow']), cliEnv(), 30_000);
      assert.equal(window.code, 0, window.stderr);
      assert.match(window.stderr, /^reading the access log of the local mesh of the last 5m$/m);
      const lines = window.stdout
        .trimEnd()
        .split('\n')
        .filter((l) => l.includes('-> payments'));
      assert.equal(lines.length, 2, window.stdout);
      for (const [i, l] of lines.entries()) assert.match(l, EXPECTED_TAP[i]!);

      // Following: the window's three calls, then one made after it started, then --count ends it.
      const live = await meshLive(cliEnv(), [...args, '--count', '4']);
      await live.until('tap says it follows', (e) => /^following .* from 5m ago; Ctrl-C/.test(e), 30_000, 'err');
      await live.until('the window', (o) => o.trimEnd().split('\n').length >= 3);
      for (const l of accessLines(CALLS.slice(3))) store.accessLog.record(l);
      assert.equal(await live.exit, 0, live.err());
      assert.match(live.out().trimEnd().split('\n')[3]!, EXPECTED_TAP[1]!);
    } finally {
      await local.close();
    }
  });

  test("tap, AWS: FilterLogEvents on each mesh function's log group, the same lines; --outcome, --count, --json", async () => {
    const requests: { logGroupName: string; filterPattern: string; startTime: number }[] = [];
    let calls: string[] = [];
    const logs = await listen((req, body, res) => {
      assert.equal(req.headers['x-amz-target'], 'Logs_20140328.FilterLogEvents');
      const input = JSON.parse(body) as { logGroupName: string; filterPattern: string; startTime: number };
      requests.push(input);
      // The calls are in orders' log group; payments' exists and holds none of them.
      const events =
        input.logGroupName === '/aws/lambda/demo-orders'
          ? calls.map((message, i) => ({ eventId: `e${i}`, timestamp: Date.now(), message, logStreamName: 's' }))
          : [];
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ events }));
    });
    try {
      const env = { ...fx.env, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url };
      const text = await meshLive({ ...env, FORCE_COLOR: '1' }, [
        'tap',
        'payments',
        '--outcome',
        'failure,success',
        '--count',
        '2',
      ]);
      await text.until(
        'tap says it follows',
        (e) => /^following the access log of CloudWatch Logs/.test(e),
        30_000,
        'err',
      );
      calls = accessLines(CALLS);
      assert.equal(await text.exit, 0, text.err());
      const lines = text.out().trimEnd().split('\n');
      assert.equal(lines.length, 2, text.out());
      for (const [i, l] of lines.entries()) assert.match(visible(l), EXPECTED_TAP[i]!);
      // Coloured as asked (FORCE_COLOR): the success green, the timeout red.
      assert.ok(lines[0]!.includes(`${ESC}[32m200  success`), lines[0]);
      assert.ok(lines[1]!.includes(`${ESC}[31m504  timeout`), lines[1]);
      assert.deepEqual([...new Set(requests.map((r) => r.logGroupName))].sort(), [
        '/aws/lambda/demo-orders',
        '/aws/lambda/demo-payments',
      ]);
      assert.ok(
        requests.every((r) => r.filterPattern === '{ $.type = "mesh-access" }'),
        JSON.stringify(requests[0]),
      );

      // --json: the access-log lines as the mesh wrote them; --outcome keeps the timeout alone.
      calls = [];
      const json = await meshLive(env, ['tap', '--outcome', 'timeout', '--count', '1', '--json']);
      await json.until('tap says it follows', (e) => /^following/.test(e), 30_000, 'err');
      calls = accessLines(CALLS);
      assert.equal(await json.exit, 0, json.err());
      assert.deepEqual(JSON.parse(json.out()), JSON.parse(calls[3]!));
    } finally {
      await logs.close();
    }
  });

  test("tap --since, AWS: FilterLogEvents from the window's start, every page, oldest first", async () => {
    const requests: { startTime: number; nextToken?: string }[] = [];
    // Four minutes ago, the calls in orders' log group; the stand-in answers what startTime asks for, a page each.
    const written = Date.now() - 4 * 60_000;
    const events = accessLines(CALLS).map((message, i) => ({ eventId: `e${i}`, timestamp: written + i, message }));
    const logs = await listen((_req, body, res) => {
      const input = JSON.parse(body) as { logGroupName: string; startTime: number; nextToken?: string };
      requests.push(input);
      const held = input.logGroupName === '/aws/lambda/demo-orders' ? events : [];
      const asked = held.filter((e) => e.timestamp >= input.startTime);
      const page = Number(input.nextToken ?? 0);
      const answer = {
        events: asked.slice(page, page + 1),
        nextToken: page + 1 < asked.length ? String(page + 1) : undefined,
      };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answer));
    });
    try {
      const env = { ...fx.env, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url };
      const before = Date.now();
      const r = await run(
        process.execPath,
        await meshArgs(['tap', 'payments', '--since', '10m', '--no-follow']),
        env,
        30_000,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^reading the access log of CloudWatch Logs of the last 10m$/m);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stdout);
      for (const [i, l] of lines.entries()) assert.match(l, EXPECTED_TAP[i]!);
      const first = requests[0]!.startTime;
      assert.ok(first >= before - 10 * 60_000 && first <= Date.now() - 10 * 60_000, `startTime ${first}`);
      assert.ok(
        requests.some((q) => q.nextToken === '3'),
        'every page asked for',
      );
    } finally {
      await logs.close();
    }
  });

  test('tap: a service, --to or --from no call can carry exits 2 naming the closest, instead of following nothing', async () => {
    // CloudWatch Logs with no calls at all: a filter that matches nothing would follow it until Ctrl-C.
    const logs = await listen((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ events: [] }));
    });
    try {
      const env = { ...fx.env, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url };
      for (const [args, named] of [
        [['tap', 'paymnts'], /^mesh tap: unknown service "paymnts" \(did you mean "payments"\?\) in mesh demo; /],
        [
          ['tap', '--to', 'paymnts'],
          /^mesh tap: unknown service "paymnts" \(did you mean "payments"\?\) for --to in mesh demo; /,
        ],
        [
          ['tap', '--from', 'extrenal'],
          /^mesh tap: unknown service "extrenal" \(did you mean "external"\?\) for --from /,
        ],
      ] as const) {
        const r = await run(process.execPath, await meshArgs([...args, '--count', '1']), env, 30_000);
        assert.equal(r.code, 2, `mesh ${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, named);
        assert.match(
          r.stderr,
          /known services, channels and callers: external, mesh-deploy-check, orders, payments, unknown/,
        );
      }
    } finally {
      await logs.close();
    }
  });

  test('colour: only where asked or at a terminal; never with NO_COLOR, --no-color or --json', async () => {
    const payments = /^payments\s+demo-payments\s+1,2\s+90% v1 \/ 10% v2\s+v2$/m;
    const forced = await mesh(fx, ['status'], { FORCE_COLOR: '1' });
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(forced.stdout.includes(`${ESC}[33m90% v1 / 10% v2${ESC}[0m`), 'the canary split in yellow');
    assert.ok(forced.stdout.includes(`${ESC}[33mv2${ESC}[0m`), 'the canary version in yellow');
    assert.match(visible(forced.stdout), payments, 'coloured cells keep the columns aligned');
    // An empty NO_COLOR is no request (no-color.org): still coloured.
    assert.ok((await mesh(fx, ['status'], { FORCE_COLOR: '1', NO_COLOR: '' })).stdout.includes(ESC));
    for (const [args, env] of [
      [['status'], { FORCE_COLOR: '1', NO_COLOR: '1' }],
      [['status', '--no-color'], { FORCE_COLOR: '1' }],
      [['status', '--json'], { FORCE_COLOR: '1' }],
      [['status'], {}],
    ] as const) {
      const r = await mesh(fx, [...args], env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(ESC), `no colour for ${args.join(' ')} with ${JSON.stringify(env)}`);
    }
    // At a terminal: coloured, unless NO_COLOR says otherwise.
    const command = [process.execPath, ...(await meshArgs(['status']))].map(shellQuote).join(' ');
    const tty = await run('script', ['-qfec', command, '/dev/null'], fx.env);
    assert.ok(tty.stdout.includes(`${ESC}[33mv2${ESC}[0m`), tty.stdout);
    const noColor = await run('script', ['-qfec', command, '/dev/null'], { ...fx.env, NO_COLOR: '1' });
    assert.equal(noColor.code, 0, noColor.stderr);
    assert.ok(!noColor.stdout.includes(ESC), noColor.stdout);
  });
});
