/**
 * The real `aws` CLI's waiters and paginators against the local endpoint (`--endpoint-url`: Debian's
 * awscli 2.9 predates AWS_ENDPOINT_URL), for every `aws` installed (v1 from pip, v2 from Debian's awscli package): `lambda wait function-active-v2`,
 * `function-updated-v2` and `published-version-active` wait through the states the endpoint moves
 * through (AWS API reference, "Lambda function states"; a version is Pending when UpdateFunctionCode
 * publishes it), and list-functions / list-aliases /
 * list-versions-by-function / list-secrets page through NextMarker / NextToken. A proxy on the wire
 * shows the CLI polled and paged. Without any `aws` the test is skipped, naming the package to install.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { type AwsCliRun, awsClis, NO_AWS_CLI, runAwsCli } from '../support/aws-cli';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy';
import { zipFiles } from '../support/zip-writer';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const clis = awsClis();

describe('the aws CLI: waiters and paginators against the local endpoint', {
  skip: clis.length === 0 ? `${NO_AWS_CLI} to run the waiter and paginator test` : false,
}, () => {
  let endpoint: Endpoint;
  let proxy: RecordingProxy;
  let home: string;
  const held: (() => void)[] = [];
  const registry = new TestRegistry(undefined, { settle: (run) => held.push(run) });
  const release = () => {
    for (const run of held.splice(0)) run();
  };

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'aws-cli-waiters-'));
    registry.add('orders', async () => ({ ok: true }));
    for (let i = 0; i < 4; i++) registry.add(`batch-${i}`, async () => i);
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), log: () => undefined });
    for (let i = 0; i < 3; i++) endpoint.secrets.set(`page/secret-${i}`, { secretString: `v${i}` });
    proxy = await startRecordingProxy(endpoint.url);
  });
  after(async () => {
    await proxy.close();
    await endpoint.close();
    rmSync(home, { recursive: true, force: true });
  });

  const aws = (cli: string, ...args: string[]): Promise<AwsCliRun> =>
    runAwsCli(cli, args, { endpointUrl: proxy.url, home, timeoutMs: 120_000 });
  const ok = (r: AwsCliRun) => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  };
  const count = (request: string | RegExp) =>
    proxy.requests.filter((r) => (typeof request === 'string' ? r === request : request.test(r))).length;
  /**
   * Waits until the proxy has passed back the answers to `request` `n` times in all: a state change made
   * once the request has only arrived could still reach that request's answer.
   */
  const answered = async (request: string, n: number) => {
    const times = () => proxy.answered.filter((r) => r === request).length;
    for (let i = 0; i < 1200 && times() < n; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(times() >= n, `${request} answered ${times()} times, expected ${n}`);
  };

  for (const [i, { path: cli, version }] of clis.entries()) {
    it(`aws ${version}: function-updated-v2 and published-version-active wait through InProgress and Pending`, async () => {
      assert.equal(ok(await aws(cli, 'lambda', 'wait', 'function-active-v2', '--function-name', 'orders')), undefined);

      const updated = ok(
        await aws(
          cli,
          'lambda',
          'update-function-configuration',
          '--function-name',
          'orders',
          '--timeout',
          String(9 + i),
        ),
      );
      assert.equal(updated.LastUpdateStatus, 'InProgress');
      const get = 'GET /2015-03-31/functions/orders';
      const before = count(get);
      const waiting = aws(cli, 'lambda', 'wait', 'function-updated-v2', '--function-name', 'orders');
      // The waiter's first poll sees InProgress; the update settles only then, so it must poll again.
      await answered(get, before + 1);
      release();
      assert.equal((await waiting).code, 0);
      assert.ok(count(get) >= before + 2, 'polled again after InProgress');

      // UpdateFunctionCode with --publish makes a version that is Pending until it settles (PublishVersion
      // of a settled $LATEST answers an Active one at once).
      const zip = join(home, `orders-${i}.zip`);
      writeFileSync(zip, zipFiles({ 'index.js': `exports.handler = async () => ${i};\n` }));
      const published = ok(
        await aws(
          cli,
          'lambda',
          'update-function-code',
          '--function-name',
          'orders',
          '--zip-file',
          `fileb://${zip}`,
          '--publish',
        ),
      );
      assert.equal(published.State, 'Pending');
      const config = `GET /2015-03-31/functions/orders/configuration`;
      const polls = count(config);
      const active = aws(
        cli,
        'lambda',
        'wait',
        'published-version-active',
        '--function-name',
        'orders',
        '--qualifier',
        published.Version,
      );
      await answered(config, polls + 1);
      release();
      assert.equal((await active).code, 0);
      const v = ok(
        await aws(
          cli,
          'lambda',
          'get-function-configuration',
          '--function-name',
          'orders',
          '--qualifier',
          published.Version,
        ),
      );
      assert.deepEqual([v.State, v.LastUpdateStatus], ['Active', 'Successful']);
    });

    it(`aws ${version}: list-functions, list-aliases, list-versions-by-function and list-secrets page`, async () => {
      const listFunctions = /^GET \/2015-03-31\/functions\/?$/;
      const fnBefore = count(listFunctions);
      const fns = ok(await aws(cli, 'lambda', 'list-functions', '--page-size', '2'));
      assert.deepEqual(
        fns.Functions.map((f: { FunctionName: string }) => f.FunctionName),
        ['batch-0', 'batch-1', 'batch-2', 'batch-3', 'orders'],
      );
      assert.equal(count(listFunctions) - fnBefore, 3, 'three pages of two');

      for (const name of ['a', 'b', 'c']) {
        const existing = registry.getAlias('orders', name);
        if (!existing) registry.createAlias('orders', name, { FunctionVersion: '$LATEST' });
      }
      const aliases = ok(await aws(cli, 'lambda', 'list-aliases', '--function-name', 'orders', '--page-size', '1'));
      assert.deepEqual(
        aliases.Aliases.map((a: { Name: string }) => a.Name),
        ['a', 'b', 'c'],
      );

      const versions = ok(
        await aws(cli, 'lambda', 'list-versions-by-function', '--function-name', 'orders', '--page-size', '1'),
      );
      assert.equal(versions.Versions[0].Version, '$LATEST');
      assert.deepEqual(
        versions.Versions.map((x: { Version: string }) => x.Version),
        registry.listVersions('orders')!.map((x) => x.Version),
      );

      const smBefore = proxy.targets.filter((t) => t === 'secretsmanager.ListSecrets').length;
      const secrets = ok(await aws(cli, 'secretsmanager', 'list-secrets', '--page-size', '1'));
      assert.deepEqual(
        secrets.SecretList.map((s: { Name: string }) => s.Name),
        ['page/secret-0', 'page/secret-1', 'page/secret-2'],
      );
      assert.equal(proxy.targets.filter((t) => t === 'secretsmanager.ListSecrets').length - smBefore, 3);
    });
  }
});
