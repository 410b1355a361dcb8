/**
 * ListMetrics through the real SDK (and every `aws` CLI installed, in CloudWatch's JSON or query
 * protocol), answered from the local metric store as the CloudWatch API Reference describes it: Namespace, MetricName and dimension filters (a name alone matches any value; every
 * filtered dimension must be there, others may be too), RecentlyActive, no metric without data in two
 * weeks, 500 a page with a NextToken the paginator follows, the local account as the only owning one,
 * and refusals of what the API model does not allow, naming the value.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ListMetricsCommand,
  type ListMetricsCommandInput,
  type ListMetricsCommandOutput,
  paginateListMetrics,
} from '@aws-sdk/client-cloudwatch';
import { LOCAL_ACCOUNT } from '../../local/registry/function-registry';
import { awsClis, NO_AWS_CLI, runAwsCli } from '../support/aws-cli';
import { rejection } from '../support/rejection';
import { type CloudWatchEndpoint, startCloudWatchEndpoint } from './local-cloudwatch-fixture';

const HOUR = 3_600_000;
const NOW = Date.now();
const SHOP = 'shop';
/** Enough metrics for two pages of 500. */
const MANY = 501;

/** Each metric as `name{dimension=value,...}`, in the order of the answer. */
const names = (out: ListMetricsCommandOutput) =>
  (out.Metrics ?? []).map(
    (m) => `${m.MetricName}{${(m.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(',')}}`,
  );

describe('ListMetrics through the SDK', () => {
  let cw: CloudWatchEndpoint;
  const send = (input: ListMetricsCommandInput) => cw.cloudWatch.send(new ListMetricsCommand(input));

  before(async () => {
    cw = await startCloudWatchEndpoint(() => Date.now());
    const put = (name: string, dims: Record<string, string>, ageMs = 60_000) =>
      cw.metrics.put(SHOP, name, dims, [1], NOW - ageMs);
    put('calls', { service: 'orders' });
    put('calls', { service: 'payments' });
    put('calls', { service: 'payments', version: '2' });
    put('latency', { service: 'payments', version: '2' });
    put('uptime', {});
    put('stale', { service: 'orders' }, 4 * HOUR);
    put('forgotten', { service: 'orders' }, 15 * 24 * HOUR);
    cw.metrics.put('other', 'calls', { service: 'orders' }, [1], NOW);
    for (let i = 0; i < MANY; i++) cw.metrics.put('many', `m${String(i).padStart(3, '0')}`, {}, [1], NOW);
  });

  after(() => cw.close());

  it('lists a namespace by name and dimensions, leaving out metrics without data in two weeks', async () => {
    assert.deepEqual(names(await send({ Namespace: SHOP })), [
      'calls{service=orders}',
      'calls{service=payments}',
      'calls{service=payments,version=2}',
      'latency{service=payments,version=2}',
      'stale{service=orders}',
      'uptime{}',
    ]);
    assert.deepEqual(names(await send({ Namespace: SHOP, MetricName: 'latency' })), [
      'latency{service=payments,version=2}',
    ]);
    const everywhere = await send({ MetricName: 'calls', Dimensions: [{ Name: 'service', Value: 'orders' }] });
    assert.deepEqual(
      everywhere.Metrics?.map((m) => m.Namespace),
      ['other', SHOP],
      'without a Namespace every namespace is searched',
    );
  });

  it('filters by dimension: a name alone matches any value, every filter must match, other dimensions may be there', async () => {
    assert.deepEqual(names(await send({ Namespace: SHOP, Dimensions: [{ Name: 'version' }] })), [
      'calls{service=payments,version=2}',
      'latency{service=payments,version=2}',
    ]);
    assert.deepEqual(names(await send({ Namespace: SHOP, Dimensions: [{ Name: 'service', Value: 'payments' }] })), [
      'calls{service=payments}',
      'calls{service=payments,version=2}',
      'latency{service=payments,version=2}',
    ]);
    assert.deepEqual(
      names(
        await send({
          Namespace: SHOP,
          MetricName: 'calls',
          Dimensions: [{ Name: 'service', Value: 'payments' }, { Name: 'version' }],
        }),
      ),
      ['calls{service=payments,version=2}'],
    );
    assert.deepEqual(names(await send({ Namespace: SHOP, Dimensions: [{ Name: 'service', Value: 'nobody' }] })), []);
  });

  it('RecentlyActive PT3H lists only metrics with data in the past three hours', async () => {
    const recent = names(await send({ Namespace: SHOP, RecentlyActive: 'PT3H' }));
    assert.ok(recent.includes('calls{service=orders}'));
    assert.ok(!recent.includes('stale{service=orders}'), 'its only datapoint is four hours old');
  });

  it('pages 500 metrics at a time with a NextToken the paginator follows', async () => {
    const first = await send({ Namespace: 'many' });
    assert.equal(first.Metrics?.length, 500);
    assert.ok(first.NextToken);
    const second = await send({ Namespace: 'many', NextToken: first.NextToken });
    assert.deepEqual(names(second), ['m500{}']);
    assert.equal(second.NextToken, undefined);
    const all: string[] = [];
    for await (const page of paginateListMetrics({ client: cw.cloudWatch }, { Namespace: 'many' })) {
      all.push(...names(page));
    }
    assert.equal(new Set(all).size, MANY, 'every metric once');
    const bad = await rejection<Error & { Code?: string }>(() => send({ Namespace: 'many', NextToken: 'x' }));
    assert.equal(bad.name, 'InvalidParameterValueException');
    assert.match(bad.message, /NextToken "x" is not one ListMetrics gave/);
  });

  it('owns every metric by the local account: OwningAccounts with IncludeLinkedAccounts, none for another account', async () => {
    const plain = await send({ Namespace: SHOP, MetricName: 'calls' });
    assert.equal(plain.OwningAccounts, undefined);
    const linked = await send({ Namespace: SHOP, MetricName: 'calls', IncludeLinkedAccounts: true });
    assert.deepEqual(linked.OwningAccounts, [LOCAL_ACCOUNT, LOCAL_ACCOUNT, LOCAL_ACCOUNT]);
    const mine = await send({ Namespace: SHOP, IncludeLinkedAccounts: true, OwningAccount: LOCAL_ACCOUNT });
    assert.equal(mine.Metrics?.length, 6);
    const theirs = await send({ Namespace: SHOP, IncludeLinkedAccounts: true, OwningAccount: '111122223333' });
    assert.deepEqual([theirs.Metrics, theirs.OwningAccounts], [[], []]);
  });

  // The pip CLI (v1) speaks CloudWatch's JSON protocol, Debian's v2.9 its query protocol: both are served.
  const clis = awsClis();
  it('`aws cloudwatch list-metrics` lists the same metrics and pages through them', {
    skip: clis.length ? false : NO_AWS_CLI,
  }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'list-metrics-cli-'));
    try {
      for (const cli of clis) {
        const run = (...args: string[]) => runAwsCli(cli.path, args, { endpointUrl: cw.url, home });
        const filtered = await run('cloudwatch', 'list-metrics', '--namespace', SHOP, '--dimensions', 'Name=version');
        assert.equal(filtered.code, 0, `aws ${cli.version}: ${filtered.stderr}`);
        assert.deepEqual(names(JSON.parse(filtered.stdout)), [
          'calls{service=payments,version=2}',
          'latency{service=payments,version=2}',
        ]);
        const all = await run('cloudwatch', 'list-metrics', '--namespace', 'many');
        assert.equal(JSON.parse(all.stdout).Metrics.length, MANY, `aws ${cli.version} follows the NextToken`);
        const bad = await run('cloudwatch', 'list-metrics', '--recently-active', 'PT1H');
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /\(ValidationError\).*Value 'PT1H' at 'recentlyActive'/);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses what the API model does not allow, naming the value, as CloudWatch validates a request', async () => {
    const cases: [ListMetricsCommandInput, string][] = [
      [
        { RecentlyActive: 'PT1H' as never },
        "1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]",
      ],
      [
        { Dimensions: Array.from({ length: 11 }, (_, i) => ({ Name: `d${i}` })) },
        "1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 10",
      ],
      [
        { Dimensions: [{ Value: 'orders' } as never] },
        "1 validation error detected: Value null at 'dimensions.1.member.name' failed to satisfy constraint: Member must not be null",
      ],
      [
        { Namespace: '', MetricName: 'x'.repeat(256) },
        `2 validation errors detected: Value '' at 'namespace' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '${'x'.repeat(256)}' at 'metricName' failed to satisfy constraint: Member must have length less than or equal to 255`,
      ],
      [
        { Namespace: ':shop' },
        "1 validation error detected: Value ':shop' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*",
      ],
    ];
    for (const [input, message] of cases) {
      const e = await rejection<Error & { Code?: string; $metadata?: { httpStatusCode?: number } }>(() => send(input));
      assert.equal(e.name, 'ValidationException', message);
      assert.equal(e.Code, 'ValidationError');
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.equal(e.message, message);
    }
  });
});
