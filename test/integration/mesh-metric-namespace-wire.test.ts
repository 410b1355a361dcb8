/**
 * Two meshes in one account and region, end to end: the Beta and Gamma stages of one app run the same
 * services (orders -> payments, payments v2 behind live). Beta's v2 fails every call, Gamma's serves
 * every one. Real runtimes call over the real Lambda SDK (loopback Invoke server); every EMF line they
 * print goes where CloudWatch would file it: the local mesh's metric store, which evaluates each stage's
 * synthesized success-rate alarm, and a loopback CloudWatch that `mesh stat` reads over the wire.
 * Beta's failures must raise Beta's alarm and no one else's, and show in Beta's numbers alone.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { processContext } from '../../cli/context';
import { main } from '../../cli/main';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { AlarmRegistry, parseAlarm } from '../../local/cloudwatch/alarms';
import { MetricStore } from '../../local/cloudwatch/metric-store';
import { ENV } from '../../shared/names';
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import { sameAccountStages } from '../infra/infra-fixture';
import {
  type LambdaInvokeServer,
  lambdaClientConfig,
  startLambdaInvokeServer,
  type TestContext,
  type TestHandler,
} from '../support/lambda-invoke-server';
import { LoopbackCloudWatch } from '../support/loopback-cloudwatch';

const MESHES = ['shop-beta', 'shop-gamma'] as const;
const FAILING = 'shop-beta';
const CALLS = 10;

/** The policy snapshot of one mesh: orders may call payments, no retries (each call one attempt). */
const snapshot = (meshName: string) => ({
  mesh: meshName,
  generatedAt: new Date(0).toISOString(),
  items: [
    { pk: 'payments', sk: 'service', functionName: `${meshName}-payments` },
    { pk: 'payments', sk: 'allow#orders', source: 'orders', retries: { maxAttempts: 1 } },
    { pk: 'orders', sk: 'service', functionName: `${meshName}-orders` },
  ],
});

/**
 * Each stage's success-rate alarm as its template declares it, over one period, with payments' new
 * version as version 2 (both stages publish the same number).
 */
function successRateAlarms(): Map<string, ReturnType<typeof parseAlarm>> {
  const alarms = new Map<string, ReturnType<typeof parseAlarm>>();
  for (const [meshName, template] of sameAccountStages(MESHES, { alarms: { evaluationPeriods: 1 } })) {
    const found = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      String(a.Properties.AlarmDescription).includes('success rate below'),
    );
    assert.ok(found, `${meshName} has a success-rate alarm`);
    const props = JSON.parse(JSON.stringify(found.Properties), (_k, v) =>
      v?.['Fn::GetAtt']?.[1] === 'Version' ? '2' : v,
    ) as Record<string, unknown>;
    alarms.set(meshName, parseAlarm(meshName, props));
  }
  return alarms;
}

describe('two meshes in one account and region keep their metrics apart', () => {
  let invoke: LambdaInvokeServer;
  let aws: Server;
  let awsUrl: string;
  const cloudwatch = new LoopbackCloudWatch();
  const store = new MetricStore();
  let last = 0;

  before(async () => {
    const sink = (text: string) => {
      for (const line of text.split('\n')) {
        if (!line.includes('"_aws"')) continue;
        const emf = JSON.parse(line) as { _aws: { Timestamp: number } };
        last = Math.max(last, emf._aws.Timestamp);
        store.recordEmf(emf);
        cloudwatch.feed(line);
      }
    };
    const runtimes = new Map<string, MeshRuntime>();
    const runtime = (meshName: string, service: string) =>
      new MeshRuntime({
        env: {},
        config: { meshName, service, functionVersion: '2' },
        policy: { snapshot: snapshot(meshName), snapshotPath: null },
        transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(invoke.url)) }),
        sink,
        onSegment: () => undefined,
        identity: async () => undefined,
        sleep: async () => undefined,
      });
    // The server first (the runtimes' transports need its URL); each payments handler wrapped after.
    const handlers = new Map<string, TestHandler>();
    invoke = await startLambdaInvokeServer(
      Object.fromEntries(
        MESHES.map((m) => [
          `${m}-payments`,
          {
            versions: { '2': (e: never, c: TestContext) => handlers.get(m)!(e, c) },
            aliases: { live: { version: '2' } },
          },
        ]),
      ),
    );
    for (const m of MESHES) {
      const wrapped = wrapHandler(runtime(m, 'payments'), async () => {
        if (m === FAILING) throw new Error('card service down');
        return { paid: true };
      });
      handlers.set(m, wrapped as TestHandler);
    }
    for (const m of MESHES) runtimes.set(m, runtime(m, 'orders'));
    for (const m of MESHES) {
      for (let i = 0; i < CALLS; i++)
        await runtimes
          .get(m)!
          .call('payments', { order: i })
          .catch(() => undefined);
    }
    // One endpoint for CloudWatch and Lambda, as AWS_ENDPOINT_URL gives the CLI: ListFunctions finds the
    // meshes (MESH_NAME in each function's environment), CloudWatch holds what the runtimes printed.
    const functions = MESHES.flatMap((m) =>
      ['orders', 'payments'].map((s) => ({
        FunctionName: `${m}-${s}`,
        Environment: { Variables: { [ENV.meshName]: m, [ENV.service]: s } },
      })),
    );
    aws = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const answer = req.url?.startsWith('/2015-03-31/functions')
          ? { Functions: functions }
          : req.url?.startsWith('/_mesh/')
            ? undefined
            : cloudwatch.metrics.handle(target, body);
        res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer ?? { message: 'Not Found' }));
      });
    });
    await new Promise<void>((r) => aws.listen(0, '127.0.0.1', r));
    awsUrl = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
  });

  after(async () => {
    await invoke?.close();
    await new Promise<void>((r) => (aws ? aws.close(() => r()) : r()));
  });

  it("a failing canary raises its own mesh's success-rate alarm, not the other's", () => {
    let now = 0;
    const alarms = new AlarmRegistry({ metrics: store, now: () => now });
    const defs = successRateAlarms();
    for (const def of defs.values()) {
      assert.ok(typeof def !== 'string', String(def));
      alarms.put(def);
    }
    // Just past the minute the calls fell in: that period is complete.
    now = Math.floor(last / 60_000) * 60_000 + 60_001;
    assert.equal(alarms.evaluate('shop-beta')?.value, 'ALARM', 'Beta: every call failed');
    assert.equal(alarms.evaluate('shop-gamma')?.value, 'OK', "Gamma: every call served; Beta's failures are not its");
  });

  it("mesh stat reads one mesh's numbers from CloudWatch, and asks which mesh when several publish", async () => {
    const stat = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const env = { PATH: process.env.PATH, HOME: '/nonexistent' };
      const code = await main(
        ['stat', '--json', '--window', '10m', '--endpoint-url', awsUrl, ...args],
        processContext({ env, out: (t) => out.push(t), err: (t) => err.push(t) }),
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    for (const meshName of MESHES) {
      const r = await stat('--mesh', meshName);
      assert.equal(r.code, 0, r.err);
      const s = JSON.parse(r.out) as StatsSnapshot;
      const edge = s.edges.find((e) => e.source === 'orders' && e.destination === 'payments');
      assert.ok(edge, `${meshName}: the edge orders -> payments`);
      assert.deepEqual(
        [edge.requests, edge.successRate],
        [CALLS, meshName === FAILING ? 0 : 1],
        `${meshName}: its own ${CALLS} calls, none of the other mesh's`,
      );
    }
    const both = await stat();
    assert.equal(both.code, 2);
    assert.match(both.err, /2 meshes found .*shop-beta, shop-gamma.*pick one with --mesh/);
  });
});
