/**
 * A function's log as the local workers hand it on, against Lambda's: what one log event is (a console
 * call, or a line of raw output), and what the local mesh reads out of the events (EMF metrics, the
 * access log) only from an event that is one as a whole.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FunctionSpec } from '../../local/registry/function-registry';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';
import { AccessLogBuffer } from '../../local/telemetry/access-log-buffer';

const emf = (name: string) =>
  JSON.stringify({
    _aws: {
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [{ Namespace: 'Forged', Dimensions: [['service']], Metrics: [{ Name: name, Unit: 'Count' }] }],
    },
    service: 'orders',
    [name]: 1,
  });
const ACCESS = JSON.stringify({
  type: 'mesh-access',
  reporter: 'source',
  source: 'orders',
  destination: 'payments',
  version: '1',
  code: 200,
  outcome: 'success',
  time: 1_700_000_000_000,
  durationMs: 3,
});

const HANDLERS: Record<string, string> = {
  // A console message whose later lines are an EMF object and an access-log line: one event each call.
  'logs-multiline': `exports.handler = async () => {
    console.log('x\\n' + ${JSON.stringify(emf('in_console'))});
    console.log('y\\n' + ${JSON.stringify(ACCESS)});
    process.stdout.write('raw\\n' + ${JSON.stringify(emf('in_stdout'))} + '\\n');
    return {};
  };`,
  // Every console level, an EMF object logged and written, and a JSON line with a level of its own.
  'logs-levels': `exports.handler = async () => {
    console.debug('detail');
    console.log('a\\nb');
    console.warn('low', { sku: 'a' });
    console.error(new Error('boom'));
    console.log(${emf('in_console')});
    process.stdout.write(${JSON.stringify(emf('in_stdout'))} + '\\n');
    process.stdout.write('{"level":"error","msg":"own"}\\n');
    return { format: process.env.AWS_LAMBDA_LOG_FORMAT, level: process.env.AWS_LAMBDA_LOG_LEVEL };
  };`,
  'log-destination': `exports.handler = async (event, context) => ({
    group: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    contextGroup: context.logGroupName,
    contextStream: context.logStreamName,
  });`,
  exits: `exports.handler = async () => { process.exit(1); };`,
  // A timer keeps the event loop busy: with nothing left to run, the runtime would answer instead.
  hangs: `exports.handler = () => new Promise(() => setInterval(() => {}, 1000));`,
};

/** The functions the handlers run as: a handler's name, or another name with its own logging settings. */
const FUNCTIONS: Record<string, { handler: string } & Partial<FunctionSpec>> = {
  'logs-multiline': { handler: 'logs-multiline' },
  'logs-text': { handler: 'logs-levels' },
  'logs-json': { handler: 'logs-levels', logFormat: 'JSON' },
  'logs-json-warn': { handler: 'logs-levels', logFormat: 'JSON', applicationLogLevel: 'WARN' },
  'platform-json': { handler: 'logs-multiline', logFormat: 'JSON' },
  'platform-text': { handler: 'logs-multiline' },
  'logs-default-group': { handler: 'log-destination' },
  'logs-own-group': { handler: 'log-destination', logGroup: 'shop-logs' },
  exits: { handler: 'exits' },
  hangs: { handler: 'hangs', timeout: 1 },
};

describe('local workers: log events as Lambda forms them', () => {
  let dir: string;
  let invoker: LocalInvoker;
  const registry = new FunctionRegistry();
  const metrics: string[] = [];
  const events: string[] = [];
  const access = new AccessLogBuffer();

  const invoke = async (functionName: string) => {
    events.length = 0;
    metrics.length = 0;
    const requestId = randomUUID();
    const r = await invoker.invoke({
      functionName,
      version: '$LATEST',
      invokedFunctionArn: registry.arn(functionName, '$LATEST'),
      payload: Buffer.from('{}'),
      invocationType: 'RequestResponse',
      logTail: true,
      requestId,
    });
    return { payload: JSON.parse(Buffer.from(r.payload).toString('utf8')), requestId, tail: r.logTail ?? '' };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-logs-'));
    const code = join(dir, 'code');
    mkdirSync(code);
    for (const [name, source] of Object.entries(HANDLERS)) writeFileSync(join(code, `${name}.js`), source);
    for (const [name, { handler, ...logging }] of Object.entries(FUNCTIONS)) {
      const spec: FunctionSpec = {
        name,
        codeDir: code,
        handler: `${handler}.handler`,
        runtime: 'nodejs20.x',
        timeout: 20,
        ...logging,
        memorySize: 256,
        environment: {},
        layerDirs: [],
        codeSha256: name,
      };
      registry.putFunction(spec);
    }
    invoker = new LocalInvoker({
      registry,
      workDir: join(dir, 'opt'),
      telemetry: {
        recordEmf: (obj) => metrics.push(...Object.keys(obj as object).filter((k) => k !== '_aws' && k !== 'service')),
        recordSegment: () => undefined,
      },
      onLog: (_fn, _v, event) => {
        events.push(event);
        access.record(event);
      },
    });
  });
  after(async () => {
    await invoker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // "Log and monitor Node.js Lambda functions": a console call is one log event, its newlines inside it;
  // CloudWatch reads EMF only from an event that is JSON as a whole ("Specification: Embedded metric format").
  it("keeps a console call's lines in one event, and reads EMF and access lines from whole events only", async () => {
    // Act
    const { tail, requestId } = await invoke('logs-multiline');

    // Assess
    const prefix = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\t`);
    const consoleEvents = events.filter((e) => prefix.test(e));
    assert.deepEqual(
      consoleEvents.map((e) => e.replace(prefix, '')),
      [`x\n${emf('in_console')}`, `y\n${ACCESS}`],
    );
    assert.deepEqual(metrics, ['in_stdout'], 'only the raw line that is EMF as a whole is a metric');
    assert.equal(access.latest, 0, 'no access-log entry from inside a console event');
    assert.ok(events.includes('raw') && events.includes(emf('in_stdout')), 'raw stdout is split into lines');
    // The log tail shows each event's text: the console message's second line without a prefix of its own.
    assert.ok(tail.includes(`\tINFO\tx\n${emf('in_console')}\n`), tail);
  });

  // "Log and monitor Node.js Lambda functions": in the text format each console call is a prefixed line;
  // the runtime sets no level, so every event is kept.
  it('writes text events at every level, and tells the runtime the Text format and no level', async () => {
    // Act
    const { payload, requestId } = await invoke('logs-text');

    // Assess
    assert.deepEqual(payload, { format: 'Text' });
    const logged = events.map((e) => e.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\t/, '<time>\t'));
    assert.deepEqual(logged.slice(0, 3), [
      `<time>\t${requestId}\tDEBUG\tdetail`,
      `<time>\t${requestId}\tINFO\ta\nb`,
      `<time>\t${requestId}\tWARN\tlow { sku: 'a' }`,
    ]);
    // An object logged with console.log is util.inspect's text, no EMF; the JSON string written is one.
    assert.deepEqual(metrics, ['in_stdout']);
  });

  // "Configuring advanced logging controls for Lambda functions": with LogFormat JSON, console calls are
  // JSON objects, the application log level defaults to INFO, and Lambda passes both to the runtime.
  it('writes JSON events under the JSON format, at INFO and above by default, EMF read from whole JSON lines', async () => {
    // Act
    const { payload, requestId } = await invoke('logs-json');

    // Assess
    assert.deepEqual(payload, { format: 'JSON', level: 'INFO' });
    const parsed = events.map((e) => JSON.parse(e) as Record<string, unknown>);
    for (const e of parsed.slice(0, 4)) {
      assert.match(String(e.timestamp), /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      assert.equal(e.requestId, requestId);
    }
    const strip = ({ timestamp: _t, requestId: _r, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(strip(parsed[0]!), { level: 'INFO', message: 'a\nb' });
    assert.deepEqual(strip(parsed[1]!), { level: 'WARN', message: "low { sku: 'a' }" });
    const error = strip(parsed[2]!) as { level: string; message: Record<string, unknown> };
    assert.equal(error.level, 'ERROR');
    assert.deepEqual([error.message.errorType, error.message.errorMessage], ['Error', 'boom']);
    assert.match((error.message.stackTrace as string[])[0]!, /^Error: boom$/);
    // An object logged alone stays an object in `message`: the event as a whole is no EMF object.
    assert.deepEqual(strip(parsed[3]!), { level: 'INFO', message: JSON.parse(emf('in_console')) });
    assert.deepEqual(events.slice(4), [emf('in_stdout'), '{"level":"error","msg":"own"}']);
    assert.deepEqual(metrics, ['in_stdout'], 'a raw EMF line is still read under the JSON format');
  });

  // "Log-level filtering": events below the application log level are dropped, console calls and the
  // function's own lines alike; a line without a valid level counts as INFO (an EMF line too).
  it('drops the events below the application log level, a line without a level counting as INFO', async () => {
    // Act
    const { payload, tail } = await invoke('logs-json-warn');

    // Assess
    assert.deepEqual(payload, { format: 'JSON', level: 'WARN' });
    assert.deepEqual(
      events.map((e) => (JSON.parse(e) as { level: string }).level),
      ['WARN', 'ERROR', 'error'],
    );
    assert.deepEqual(metrics, [], 'an EMF line is an INFO event, below WARN');
    assert.ok(!tail.includes('detail') && !tail.includes('in_stdout'), tail);
  });

  // "Configuring CloudWatch log groups": a function's own log group, its streams named after the function.
  it("names the function's log group and stream in the environment and the context, its own group if it has one", async () => {
    // Act
    const own = (await invoke('logs-own-group')).payload;
    const byDefault = (await invoke('logs-default-group')).payload;

    // Assess
    assert.equal(own.group, 'shop-logs');
    assert.match(own.stream, /^\d{4}\/\d\d\/\d\d\/logs-own-group\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(byDefault.group, '/aws/lambda/logs-default-group');
    assert.match(byDefault.stream, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    for (const p of [own, byDefault]) assert.deepEqual([p.contextGroup, p.contextStream], [p.group, p.stream]);
  });

  // A REPORT line gives Max Memory Used after a crash or a timeout as after an answer (recorded tails
  // show it after "Runtime exited with error" and after "Task timed out").
  it('gives Max Memory Used on the REPORT line after a crash and after a timeout', async () => {
    for (const name of ['exits', 'hangs']) {
      // Act
      const { tail, requestId } = await invoke(name);

      // Assess
      const report = tail.trimEnd().split('\n').at(-1)!;
      assert.match(
        report,
        new RegExp(
          `^REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: [1-9]\\d* MB\\t`,
        ),
        name,
      );
    }
  });

  // CloudWatch records of a JSON-format function: `platform.start` and `platform.report` objects, no END
  // line; init is billed (since August 2025), so a cold start's billed duration counts its init too.
  it('writes platform.start and platform.report under the JSON format, billing a cold start its init', async () => {
    for (const cold of [true, false]) {
      // Act
      const { tail, requestId } = await invoke('platform-json');

      // Assess
      const lines = tail.trimEnd().split('\n');
      assert.ok(!tail.includes('END RequestId'), tail);
      const start = JSON.parse(lines[0]!) as { time: string; type: string; record: object };
      assert.match(start.time, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      assert.deepEqual(
        [start.type, start.record],
        ['platform.start', { requestId, functionArn: registry.arn('platform-json'), version: '$LATEST' }],
      );
      const report = JSON.parse(lines.at(-1)!) as { type: string; record: { metrics: Record<string, number> } };
      const { durationMs, billedDurationMs, initDurationMs, ...rest } = report.record.metrics;
      assert.deepEqual(
        { ...report, record: { ...report.record, metrics: rest } },
        {
          time: (report as { time?: string }).time,
          type: 'platform.report',
          record: {
            requestId,
            metrics: { memorySizeMB: 256, maxMemoryUsedMB: rest.maxMemoryUsedMB },
            status: 'success',
          },
        },
      );
      assert.ok(rest.maxMemoryUsedMB! > 0);
      assert.equal(initDurationMs !== undefined, cold, 'initDurationMs on the cold start only');
      assert.equal(billedDurationMs, Math.ceil(durationMs! + (initDurationMs ?? 0)));
    }
  });

  it('bills a cold start its init on the text REPORT line too', async () => {
    // Act
    const { tail } = await invoke('platform-text');

    // Assess
    const report = tail.trimEnd().split('\n').at(-1)!;
    const field = (name: string) => Number(new RegExp(`\t${name}: ([\\d.]+) ms`).exec(`\t${report}`)?.[1]);
    const [duration, billed, init] = [field('Duration'), field('Billed Duration'), field('Init Duration')];
    assert.ok(init > 0, report);
    // The line prints both durations rounded to 0.01 ms: the sum of what it prints is within 0.01 ms of
    // what was billed before rounding up.
    assert.ok(billed >= duration + init - 0.01 && billed < duration + init + 1.01, report);
  });
});
