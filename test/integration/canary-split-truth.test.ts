/**
 * A canary at a known weight, read back: payments' `live` alias shifted to 20% on v2 with `mesh shift`
 * on the local mesh, then checkouts whose answers name the version that charged them. `mesh stat`
 * (the local mesh, and CloudWatch fed from the same EMF lines) must count per version what the access
 * log says, show shares within a binomial bound of 20%, print in its table what its JSON holds, and
 * agree with the dashboard's routes; `mesh status` must say the alias holds 80/20.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { type AccessEntry, parseAccessLine } from '../../shared/telemetry/access-log';
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import { exampleAssemblies, exampleRelease2 } from '../support/example-assembly';
import { LoopbackCloudWatch } from '../support/loopback-cloudwatch';
import { runMesh } from '../support/mesh-cli';

/** Checkouts: 4 binomial standard deviations of 20% of 400 are 32 calls, 8 points of share. */
const CHECKOUTS = 400;
const WEIGHT = 0.2;
const BOUND = 4 * Math.sqrt((WEIGHT * (1 - WEIGHT)) / CHECKOUTS);
/** Checkouts in flight at once: enough to keep both cores busy, few enough for no throttle. */
const CONCURRENCY = 4;
/** 40 checkouts a second in all. */
const CHECKOUTS_PER_SECOND_PER_WORKER = 10;

const example = exampleAssemblies();
describe('a canary at 20%: what mesh stat and mesh status say', { skip: example ? false : 'no example app' }, () => {
  let local: LocalMesh;
  let lambda: LambdaClient;
  const cloudwatch = new LoopbackCloudWatch();
  let cloudwatchAt: string;
  const access: AccessEntry[] = [];
  /** The version of payments that charged each checkout, as its answer says. */
  const charged: string[] = [];
  const mesh = async (url: string, ...args: string[]) => {
    const r = await runMesh(url, args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const stat = async (url: string) => JSON.parse(await mesh(url, 'stat', '--json', '--window', '10m')) as StatsSnapshot;

  before(async () => {
    local = await startLocalMesh({
      // Payments as a pinned split that never fails: the alias is the operator's to move.
      assemblies: [example!.release1, exampleRelease2({ paymentsCanary: 'pinned', paymentsFailureRate: '0' })],
      port: 0,
      quiet: true,
      onLog: (_fn, _v, line) => {
        cloudwatch.feed(line);
        const entry = parseAccessLine(line);
        if (entry) access.push(entry);
      },
    });
    cloudwatchAt = await cloudwatch.listen(local.url);
    lambda = new LambdaClient({
      endpoint: local.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    await mesh(local.url, 'shift', 'payments', String(WEIGHT * 100));
    const checkout = async () => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: 'shop-frontend:live', Payload: Buffer.from('{"action":"checkout"}') }),
      );
      const body = JSON.parse(Buffer.from(out.Payload!).toString()) as { order?: { payment?: { version?: string } } };
      assert.equal(out.FunctionError, undefined, JSON.stringify(body));
      charged.push(body.order?.payment?.version ?? 'none');
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CHECKOUTS) {
          // At most 10 checkouts a second per worker: under the example's rate limit of payments
          // (50/s, burst 100) on a fast machine too.
          const started = Date.now();
          await checkout();
          await new Promise((r) =>
            setTimeout(r, Math.max(0, started + 1000 / CHECKOUTS_PER_SECOND_PER_WORKER - Date.now())),
          );
        }
      }),
    );
  });

  after(async () => {
    lambda?.destroy();
    await cloudwatch.close();
    await local?.stop();
  });

  /**
   * Calls to payments per version, as the callee's access-log lines record them: from `source` only, or
   * from every caller (the deployment's check of release 2 may call payments too while checkouts run).
   */
  const loggedByVersion = (source?: string) => {
    const n: Record<string, number> = {};
    for (const e of access)
      if (e.destination === 'payments' && e.reporter === 'destination' && (!source || e.source === source))
        n[e.version] = (n[e.version] ?? 0) + 1;
    return n;
  };
  const total = (n: Record<string, number>) => Object.values(n).reduce((a, b) => a + b, 0);

  it('the checkouts split within the bound, and the access log agrees with their answers', (t) => {
    const v2 = charged.filter((v) => v === '2').length;
    t.diagnostic(`v2 charged ${v2} of ${CHECKOUTS} (bound ${Math.round(BOUND * CHECKOUTS)} calls either side of 80)`);
    assert.equal(charged.length, CHECKOUTS);
    assert.ok(Math.abs(v2 / CHECKOUTS - WEIGHT) <= BOUND, `v2 charged ${v2} of ${CHECKOUTS}`);
    const others = access.filter(
      (e) => e.destination === 'payments' && e.reporter === 'destination' && e.source !== 'orders',
    );
    t.diagnostic(
      `calls to payments from other callers: ${others.map((e) => `${e.source} v${e.version}`).join(', ') || 'none'}`,
    );
    assert.deepEqual(loggedByVersion('orders'), { '1': CHECKOUTS - v2, '2': v2 });
  });

  for (const [from, url] of [
    ['local mesh', () => local.url],
    ['CloudWatch', () => cloudwatchAt],
  ] as const) {
    it(`${from}: payments' versions count what the access log says, and the table prints the JSON`, async () => {
      const s = await stat(url());
      const payments = s.services.find((x) => x.service === 'payments')!;
      const logged = loggedByVersion();
      assert.deepEqual(
        Object.fromEntries(payments.versions.map((v) => [v.version, v.requests])),
        logged,
        `${from}: requests per version`,
      );
      assert.equal(payments.requests, total(logged));
      assert.ok(total(loggedByVersion('orders')) === CHECKOUTS, 'every checkout reached payments once');
      const v2 = payments.versions.find((v) => v.version === '2')!;
      assert.equal(v2.share, logged['2']! / total(logged));
      const text = await mesh(url(), 'stat', '--window', '10m', '--wide');
      const row = text.split('\n').find((l) => l.startsWith('payments '));
      const split = payments.versions
        .map((v) => `v${v.version} ${Math.round(v.share * 100)}% (${v.successRate === 1 ? '100%' : '?'})`)
        .join('  ');
      assert.ok(row?.endsWith(split), `${from}: ${row} ends with ${split}`);
    });
  }

  it("the dashboard's routes hold the same split and the alias as shifted", async () => {
    const get = async (path: string) => (await fetch(`${local.url}/_mesh/${path}`)).json();
    const stats = (await get('stats?window=10m')) as StatsSnapshot;
    const fromCli = await stat(local.url);
    const versions = (s: StatsSnapshot) =>
      s.services.find((x) => x.service === 'payments')!.versions.map((v) => [v.version, v.requests, v.share]);
    assert.deepEqual(versions(stats), versions(fromCli));
    const { aliases } = (await get('aliases')) as { aliases: { service: string; stable: string; weights: unknown }[] };
    const payments = aliases.find((a) => a.service === 'payments');
    assert.deepEqual([payments?.stable, payments?.weights], ['1', { '2': WEIGHT }]);
  });

  it('mesh status says the alias sends 80% to v1 and 20% to v2, v2 the canary', async () => {
    const status = JSON.parse(await mesh(local.url, 'status', '--json')) as {
      services: { service: string; alias?: { traffic: Record<string, number>; canary?: string } }[];
    };
    const alias = status.services.find((s) => s.service === 'payments')?.alias;
    assert.deepEqual([alias?.traffic, alias?.canary], [{ '1': 80, '2': 20 }, '2']);
    const text = await mesh(local.url, 'status');
    assert.match(text, /^payments +shop-payments +1,2 +80% v1 \/ 20% v2 +v2$/m);
  });
});
