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
};

describe('local workers: log events as Lambda forms them', () => {
  let dir: string;
  let invoker: LocalInvoker;
  const registry = new FunctionRegistry();
  const metrics: string[] = [];
  const events: string[] = [];
  const access = new AccessLogBuffer();

  const invoke = async (functionName: string) => {
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
    return { ...r, requestId, tail: r.logTail ?? '' };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-logs-'));
    const code = join(dir, 'code');
    mkdirSync(code);
    for (const [name, source] of Object.entries(HANDLERS)) {
      writeFileSync(join(code, `${name}.js`), source);
      const spec: FunctionSpec = {
        name,
        codeDir: code,
        handler: `${name}.handler`,
        runtime: 'nodejs20.x',
        timeout: 20,
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
});
