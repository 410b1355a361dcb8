/**
 * `mesh stat` tells the truth about traffic whose truth is known: the example app on the local mesh,
 * driven with a known number of checkouts, read from the local mesh and from CloudWatch (the same EMF
 * lines the workers printed, served by a loopback CloudWatch as the metrics would be in AWS). Both
 * sources must say what the access log says, and agree with each other where their models meet.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import { exampleAssemblies } from '../support/example-assembly';
import { LoopbackCloudWatch } from '../support/loopback-cloudwatch';
import { eventually, runMesh } from '../support/mesh-cli';

const CHECKOUTS = 6;

const example = exampleAssemblies();
describe('mesh stat: the numbers of known traffic', { skip: example ? false : 'no example app' }, () => {
  let local: LocalMesh;
  let lambda: LambdaClient;
  const cloudwatch = new LoopbackCloudWatch();
  let cloudwatchAt: string;
  const stat = async (url: string) => {
    const r = await runMesh(url, ['stat', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatsSnapshot;
  };
  const cloudwatchUrl = () => cloudwatchAt;

  before(async () => {
    local = await startLocalMesh({
      assemblies: [example!.release1],
      port: 0,
      quiet: true,
      // What CloudWatch would hold: every mesh metric the workers printed, at the time it names.
      onLog: (_fn, _v, line) => cloudwatch.feed(line),
    });
    // No /_mesh/ here: the CLI reads CloudWatch, as it would in AWS.
    cloudwatchAt = await cloudwatch.listen(local.url);
    lambda = new LambdaClient({
      endpoint: local.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 3,
    });
    for (let i = 0; i < CHECKOUTS; i++) {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: 'shop-frontend:live', Payload: Buffer.from('{"action":"checkout"}') }),
      );
      assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload!).toString());
    }
    // notifications takes the messages from the queue on its own time: both sources read after it has.
    await eventually('every message delivered', async () => {
      const s = await stat(local.url);
      return s.services.find((x) => x.service === 'notifications')?.requests === CHECKOUTS;
    });
  });

  after(async () => {
    lambda?.destroy();
    await cloudwatch.close();
    await local?.stop();
  });

  it('a queue took every message orders sent and has no versions, read from either source', async () => {
    for (const [from, url] of [
      ['local mesh', local.url],
      ['CloudWatch', cloudwatchUrl()],
    ] as const) {
      const s = await stat(url);
      const queue = s.services.find((x) => x.service === 'order-events');
      assert.ok(queue, `${from}: the queue is a row`);
      assert.deepEqual(
        [queue.requests, queue.successRate, queue.versions.map((v) => v.version)],
        [CHECKOUTS, 1, []],
        `${from}: ${CHECKOUTS} messages sent, all accepted, and no version (the alias is none)`,
      );
    }
  });

  it('both sources count the same requests and successes per service and per edge', async () => {
    const counts = (s: StatsSnapshot) => {
      const edges: Record<string, [number, number]> = {};
      for (const e of s.edges) {
        const [n, ok] = edges[`${e.source}->${e.destination}`] ?? [0, 0];
        edges[`${e.source}->${e.destination}`] = [n + e.requests, ok + e.requests * (e.successRate ?? 0)];
      }
      return { services: s.services.map((x) => [x.service, x.requests, x.successRate]), edges };
    };
    const fromLocal = counts(await stat(local.url));
    assert.deepEqual(counts(await stat(cloudwatchUrl())), fromLocal);
    assert.deepEqual(fromLocal.edges['frontend->orders'], [CHECKOUTS, CHECKOUTS]);
  });
});
