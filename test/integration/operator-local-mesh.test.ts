/**
 * What the operator sees is what the mesh does: the example app on the local mesh (release 1, then
 * release 2 with payments' canary), driven as an operator drives it, with the `mesh` CLI as a child
 * process and checkouts through the real AWS SDK. One block per place where the CLI could say one
 * thing while the mesh did another:
 * - a route item deciding the split while `mesh shift` / `mesh rollout` move the alias;
 * - a route to a version that does not exist, written or already stored;
 * - an operator's traffic item against the deploy-time edge;
 * - a deleted edge that denies every checkout, and `mesh check`;
 * - rollback after promote, mirror copies, an injected delay, a 300 KB description, and routing by a
 *   request's header across hops.
 * (The dashboard's queries: test/integration/dashboard-queries.test.ts.) Then `mesh check` is made to
 * fail in every way an operator can fix from the command line, and every command it prints is run as
 * printed: afterwards it passes.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  GetAliasCommand,
  InvokeCommand,
  LambdaClient,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { marshallItem } from '../../shared/attribute-value';
import { awsClis } from '../support/aws-cli';
import { exampleAssemblies, exampleRelease2 } from '../support/example-assembly';
import { cliEnv, eventually, meshArgs, run, runMesh, setPolicy as setPolicyWith } from '../support/mesh-cli';

const TABLE = 'shop-policy';
const FUNCTIONS = ['shop-frontend', 'shop-orders', 'shop-payments', 'shop-inventory'];
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

const example = exampleAssemblies();
describe('what the operator sees is what the mesh does', { skip: example ? false : 'no example app' }, () => {
  let local: LocalMesh;
  let lambda: LambdaClient;
  let ddb: DynamoDBClient;
  let dir: string;
  /** Every access-log line the workers print. */
  const access: Record<string, unknown>[] = [];
  const mesh = (...args: string[]) => runMesh(local.url, args);
  const file = (name: string, items: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(items));
    return f;
  };
  const setPolicy = (service: string, items: unknown[]) => setPolicyWith(local.url, service, items);
  const alias = async (fn: string) => {
    const a = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
    return { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };
  /** One checkout: the version of payments that charged it, or `error` (and the error type). */
  const checkout = async (event: unknown = { action: 'checkout' }): Promise<string> => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'shop-frontend:live', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8')) as {
      order?: { payment?: { version?: string } };
      errorType?: string;
    };
    return out.FunctionError ? `error:${body.errorType}` : (body.order?.payment?.version ?? 'none');
  };
  const checkouts = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await checkout());
    return out;
  };
  const count = (xs: readonly string[], x: string) => xs.filter((v) => v === x).length;
  type Item = Record<string, AttributeValue>;
  const tableItems = async () => {
    const items = new Map<string, Item>();
    let start: Item | undefined;
    do {
      const page = await ddb.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      for (const i of page.Items ?? []) items.set(`${i.pk?.S}/${i.sk?.S}`, i);
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  let deployed = new Map<string, Item>();
  const aliases = new Map<string, Awaited<ReturnType<typeof alias>>>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'operator-local-mesh-'));
    local = await startLocalMesh({
      // Payments as a pinned split, not a gated deployment: the alias is the operator's to move here.
      assemblies: [example!.release1, exampleRelease2({ paymentsCanary: 'pinned' })],
      port: 0,
      quiet: true,
      onLog: (_fn, _v, line) => {
        if (line.startsWith('{"type":"mesh-access"')) access.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    // The SDK's own retries: a kept-alive socket the endpoint closed while the test waited on the CLI
    // resets (ECONNRESET) on a busy machine; that says nothing about the mesh.
    const config = { endpoint: local.url, region: 'us-east-1', credentials: creds, maxAttempts: 3 };
    lambda = new LambdaClient(config);
    ddb = new DynamoDBClient(config);
    // Warm the path: the first checkouts start every worker.
    await eventually('a first checkout', async () => !(await checkout()).startsWith('error'));
    deployed = await tableItems();
    for (const fn of FUNCTIONS) aliases.set(fn, await alias(fn));
  });

  // Each block undoes what it changed; if one fails half way, this puts the table and the aliases
  // back as deployed, so the next block starts from the deployed mesh rather than from the wreck.
  afterEach(async () => {
    const now = await tableItems();
    for (const [key, item] of now) {
      if (!deployed.has(key))
        await ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: item.pk!, sk: item.sk! } }));
    }
    for (const [key, item] of deployed) {
      if (JSON.stringify(now.get(key)) !== JSON.stringify(item))
        await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    }
    for (const [fn, a] of aliases) {
      const live = await alias(fn).catch(() => undefined);
      if (JSON.stringify(live) === JSON.stringify(a)) continue;
      const input = {
        FunctionName: fn,
        Name: 'live',
        FunctionVersion: a.version ?? '$LATEST',
        RoutingConfig: { AdditionalVersionWeights: a.weights },
      };
      if (live) await lambda.send(new UpdateAliasCommand(input));
      else await lambda.send(new CreateAliasCommand(input));
    }
  });

  after(async () => {
    lambda?.destroy();
    ddb?.destroy();
    await local?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a route item decides the split: shift and rollout refuse and name the command that removes it', async () => {
    await setPolicy('payments', [{ sk: 'route', weights: { '1': 1 } }]);
    const before = await alias('shop-payments');
    const shift = await mesh('shift', 'payments', '50');
    assert.equal(shift.code, 2, shift.stdout);
    assert.match(shift.stderr, /payments\/route \(operator\) sets weights v1 100% for every caller in the mesh/);
    assert.match(
      shift.stderr,
      /remove the route item first: mesh policy delete payments route, then run mesh shift again/,
    );
    const rollout = await mesh('rollout', 'payments', '--steps', '50,100', '--interval', '1s');
    assert.equal(rollout.code, 2);
    assert.match(rollout.stderr, /mesh policy delete payments route/);
    assert.deepEqual(await alias('shop-payments'), before, 'nothing was written');
    // What the mesh does agrees: every checkout goes to v1, and status says which item decides.
    await eventually('the route on every sandbox', async () => (await checkouts(10)).every((v) => v === '1'));
    const status = JSON.parse((await mesh('status', '--json')).stdout) as {
      effective: { from: string; to: string; split?: { traffic: Record<string, number>; from: string } }[];
    };
    const edge = status.effective.find((e) => e.from === 'orders' && e.to === 'payments')!;
    assert.deepEqual(edge.split?.traffic, { '1': 100 });
    assert.equal(edge.split?.from, 'payments/route (operator)');
    const external = status.effective.find((e) => e.from === 'external' && e.to === 'frontend')!;
    assert.equal(external.split?.from, 'alias live');
    // Removed by the CLI, the alias decides again, and a shift moves real traffic.
    assert.equal((await mesh('policy', 'delete', 'payments', 'route')).code, 0);
    const shifted = await mesh('shift', 'payments', '50');
    assert.equal(shifted.code, 0, shifted.stderr);
    assert.deepEqual((await alias('shop-payments')).weights, { '2': 0.5 });
    await eventually('v2 taking checkouts', async () => count(await checkouts(20), '2') >= 3);
    assert.equal((await mesh('shift', 'payments', '10')).code, 0);
  });

  it('a route to a version that is not published is refused with the published versions; check flags a stored one', async () => {
    for (const weights of [{ '1': 0.8, '7': 0.2 }, { $LATEST: 1 }]) {
      const r = await mesh('policy', 'set', 'payments', '--file', file('bad-route.json', [{ sk: 'route', weights }]));
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /published versions of shop-payments: 1, 2 \(never \$LATEST\)/);
    }
    const list = JSON.parse((await mesh('policy', 'list', '--service', 'payments', '--json')).stdout) as {
      sk: string;
    }[];
    assert.ok(!list.some((i) => i.sk === 'route'), 'nothing was written');
    // Written around the CLI, straight into the table: mesh check fails and names it.
    const key = { pk: 'payments', sk: 'route' };
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshallItem({ ...key, weights: { '1': 0.8, '7': 0.2 } }) as never,
      }),
    );
    try {
      const check = await mesh('check', '--service', 'payments');
      assert.equal(check.code, 1, check.stdout);
      assert.match(
        check.stdout,
        /× policy items valid\n {4}payments\/route: weights\.7 names version "7", which is not published/,
      );
      assert.match(check.stdout, /run: mesh policy delete payments route --endpoint-url/);
    } finally {
      await ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: marshallItem(key) as never }));
    }
  });

  it("an operator's traffic item overrides the deploy-time edge, at run time and in status", async () => {
    // Every charge goes to v2, the canary that fails a fifth of its calls; the deploy-time edge
    // retries those (3 attempts), the operator's item allows 1: each attempt is one line in payments' log.
    await setPolicy('payments', [
      { sk: 'traffic', retries: { maxAttempts: 1 } },
      { sk: 'route', weights: { '2': 1 } },
    ]);
    // Both items are in the one partition orders reads: once the route is in force, so is the traffic item.
    await eventually('the route on every sandbox', async () =>
      (await checkouts(5)).every((v) => v === '2' || v.startsWith('error')),
    );
    const from = access.length;
    const results = await checkouts(30);
    await new Promise((r) => setTimeout(r, 500));
    const attempts = new Map<string, number>();
    for (const l of access.slice(from)) {
      if (l.reporter !== 'destination' || l.destination !== 'payments') continue;
      attempts.set(String(l.idempotencyKey), (attempts.get(String(l.idempotencyKey)) ?? 0) + 1);
    }
    assert.deepEqual(
      [...new Set(attempts.values())],
      [1],
      'one attempt per call, failed ones included: the operator’s maxAttempts 1, not the deploy’s 3',
    );
    assert.ok(
      results.some((v) => v.startsWith('error')),
      `some charges failed: ${results.join(' ')}`,
    );
    const status = JSON.parse((await mesh('status', '--json')).stdout) as {
      effective: { from: string; to: string; settings?: { setting: string; value: unknown; origin: unknown }[] }[];
    };
    const settings = status.effective.find((e) => e.from === 'orders' && e.to === 'payments')!.settings!;
    const setting = (name: string) => settings.find((s) => s.setting === name)!;
    assert.equal(setting('retries.maxAttempts').value, 1);
    assert.deepEqual(setting('retries.maxAttempts').origin, {
      from: 'item',
      item: 'payments/traffic',
      managedBy: 'operator',
    });
    assert.equal(setting('timeoutMs').value, 5000, 'what the operator did not set keeps the deploy’s value');
    assert.deepEqual(setting('timeoutMs').origin, { from: 'item', item: 'payments/allow#orders', managedBy: 'deploy' });
    const text = (await mesh('status')).stdout;
    assert.match(text, /orders -> payments {2}allowed by payments\/allow#orders \(deploy\)/);
    assert.match(text, /retries\.maxAttempts +1 +payments\/traffic \(operator\)/);
    for (const sk of ['traffic', 'route']) assert.equal((await mesh('policy', 'delete', 'payments', sk)).code, 0);
  });

  it('with the edge deleted every checkout is denied, and mesh check fails naming the fix', async () => {
    const refused = await mesh('policy', 'delete', 'payments', 'allow#orders');
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /managed by the deployment .*the next deploy that updates the mesh's policy writes payments\/allow#orders again/,
    );
    const deleted = await mesh('policy', 'delete', 'payments', 'allow#orders', '--force');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /note: payments\/allow#orders was declared at deploy/);
    // orders' call is refused; the checkout fails with it, a dependency's refusal at every hop above.
    await eventually('checkouts denied', async () => (await checkout()) === 'error:MeshDependencyRemoteError');
    // The deny shows on the edge it is on, orders -> payments, and on no edge above it.
    const from = access.length;
    await checkout();
    // The functions' access lines reach this process through their output pipes: later on a busy machine.
    // Another warm orders sandbox may still hold the allow for up to the policy TTL + 1 s (a deny holds
    // within that bound), so its checkout can pass: check out again until a refusal is logged.
    const deniedSince = () => access.slice(from).filter((l) => l.outcome === 'denied');
    await eventually(
      'the refused call logged as denied',
      async () => {
        if (deniedSince().length === 0) await checkout();
        return deniedSince().length > 0;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const denied = deniedSince();
    for (const l of denied) assert.deepEqual([l.source, l.destination], ['orders', 'payments'], JSON.stringify(l));
    const check = await mesh('check', '--json');
    assert.equal(check.code, 1, check.stdout);
    const report = JSON.parse(check.stdout) as {
      services: { service: string; checks: { check: string; status: string; commands?: string[] }[] }[];
    };
    const orders = report.services.find((s) => s.service === 'orders')!;
    const edge = orders.checks.find((c) => c.check === 'edges granted in IAM are allowed by the table')!;
    assert.equal(edge.status, 'fail');
    assert.deepEqual(edge.commands, [`mesh policy allow orders payments --endpoint-url ${local.url}`]);
    const allowed = await run(process.execPath, await meshArgs(edge.commands![0]!.split(' ').slice(1)));
    assert.equal(allowed.code, 0, allowed.stderr);
    await eventually('checkouts through again', async () => (await checkout()) !== 'error:MeshDependencyRemoteError');
  });

  it('rollback after a promote returns to the version that was stable before', async () => {
    assert.equal((await mesh('promote', 'payments')).code, 0);
    const promoted = await lambda.send(new GetAliasCommand({ FunctionName: 'shop-payments', Name: 'live' }));
    assert.equal(promoted.FunctionVersion, '2');
    assert.match(promoted.Description ?? '', /^mesh: promoted v2 over v1 at /);
    const back = await mesh('rollback', 'payments');
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout.trim(), 'payments: live 100% v2 -> 100% v1 (shop-payments)');
    assert.deepEqual(await alias('shop-payments'), { version: '1', weights: {} });
    const again = await mesh('rollback', 'payments');
    assert.match(
      again.stdout,
      /nothing to roll back: .* run: `aws lambda update-alias --function-name shop-payments --name live --function-version <n>/,
    );
    assert.equal((await mesh('shift', 'payments', '10')).code, 0);
  });

  it('mirror copies are counted apart from real traffic', async () => {
    // Every real call goes to v1 and every one is copied to v2: once the stat window has moved past
    // the real v2 traffic of the blocks before, v2 shows copies and no requests.
    await setPolicy('payments', [{ sk: 'route', weights: { '1': 1 }, mirror: { version: '2', percent: 100 } }]);
    type Stats = {
      edges: { source: string; destination: string; version: string; requests: number; mirrored: number }[];
    };
    const v2 = async () => {
      const s = JSON.parse((await mesh('stat', '--json', '--window', '10s')).stdout) as Stats;
      return s.edges.find((e) => e.source === 'orders' && e.destination === 'payments' && e.version === '2');
    };
    let e: Stats['edges'][number] | undefined;
    await eventually(
      'only mirror copies on v2',
      async () => {
        await checkouts(10);
        e = await v2();
        return (e?.mirrored ?? 0) >= 8 && e?.requests === 0;
      },
      90_000,
    );
    assert.match((await mesh('stat', '--service', 'payments')).stdout, /MIRROR/);
    assert.equal((await mesh('policy', 'delete', 'payments', 'route')).code, 0);
  });

  it('an injected delay shows on the edge it is injected on', async () => {
    await setPolicy('inventory', [{ sk: 'fault', delay: { percent: 100, ms: 400 } }]);
    type Stats = { edges: { source: string; destination: string; reporter: string; p50: number | null }[] };
    await eventually('the delay on orders -> inventory', async () => {
      await checkouts(3);
      const s = JSON.parse((await mesh('stat', '--json', '--window', '5s', '--service', 'inventory')).stdout) as Stats;
      const edge = s.edges.find((x) => x.source === 'orders' && x.destination === 'inventory');
      return edge?.reporter === 'destination' && (edge.p50 ?? 0) >= 400;
    });
    assert.equal((await mesh('policy', 'delete', 'inventory', 'fault')).code, 0);
  });

  it('a 300 KB description is refused naming the field and the limit', async () => {
    const r = await mesh(
      'policy',
      'set',
      'payments',
      '--file',
      file('long.json', [{ sk: 'traffic', description: 'x'.repeat(300_000) }]),
    );
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /payments\/traffic: description = "x+\.\.\. must be a string of at most 1024 characters; it has 300000/,
    );
    assert.doesNotMatch(r.stderr, /Invalid input/);
  });

  it('a request is routed by its header across hops (Function URL -> frontend -> orders -> payments)', async () => {
    await setPolicy('payments', [
      { sk: 'route', weights: { '1': 1 }, matches: [{ header: 'x-route-canary', exact: 'yes', version: '2' }] },
    ]);
    const http = (headers: Record<string, string>) => ({
      version: '2.0',
      rawPath: '/',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { http: { method: 'POST' } },
      body: '{}',
      isBase64Encoded: false,
    });
    await eventually('the header route on every sandbox', async () => {
      const marked = await Promise.all([1, 2, 3].map(() => checkout(http({ 'X-Route-Canary': 'yes' }))));
      const plain = await Promise.all([1, 2, 3].map(() => checkout(http({}))));
      // v2 is the canary that fails a fifth of its calls: a failed checkout says nothing either way.
      const ok = marked.filter((v) => !v.startsWith('error'));
      return ok.length > 0 && ok.every((v) => v === '2') && plain.every((v) => v === '1');
    });
    assert.equal((await mesh('policy', 'delete', 'payments', 'route')).code, 0);
  });

  it('mesh check fails whenever traffic would, and every command it prints fixes what it found', async (t) => {
    // Break the mesh in every way an operator can fix from the command line.
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: 'shop-inventory', Name: 'live', FunctionVersion: '$LATEST' }),
    );
    // A missing alias is fixed by an `aws` command: only where the aws CLI is installed (.ci/run installs it).
    const aws = awsClis()[0];
    if (aws) await lambda.send(new DeleteAliasCommand({ FunctionName: 'shop-frontend', Name: 'live' }));
    else t.diagnostic('no aws CLI on this machine: the missing-alias fix is not run');
    await ddb.send(
      new DeleteItemCommand({ TableName: TABLE, Key: marshallItem({ pk: 'payments', sk: 'allow#orders' }) as never }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshallItem({ pk: 'inventory', sk: 'deny#orders', source: 'orders', reason: 'oops' }) as never,
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshallItem({ pk: 'payments', sk: 'route', weights: { '1': 0.8, '7': 0.2 } }) as never,
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshallItem({ pk: 'orders', sk: 'fault', abort: { percent: 200 } }) as never,
      }),
    );
    assert.equal((await mesh('policy', 'allow', 'frontend', 'payments')).code, 0, 'an edge IAM does not grant');
    const flags = ['--region', 'us-east-1'];
    const first = await mesh('check', '--json', ...flags);
    assert.equal(first.code, 1, first.stdout);
    type Report = {
      failed: number;
      warnings: number;
      services: { service: string; checks: { check: string; status: string; commands?: string[] }[] }[];
    };
    const report = JSON.parse(first.stdout) as Report;
    const failing = report.services.flatMap((s) =>
      s.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => ({ service: s.service, ...c })),
    );
    const names = failing.map((f) => `${f.service}: ${f.check}`).sort();
    assert.deepEqual(names, [
      ...(aws ? ['frontend: alias live'] : []),
      'frontend: edges allowed by the table are granted in IAM',
      'inventory: alias live',
      'orders: edges granted in IAM are allowed by the table',
      'orders: policy items valid',
      'payments: policy items valid',
    ]);
    // Every failure here has commands; run each exactly as printed.
    for (const f of failing) {
      assert.ok(f.commands?.length, `${f.service}: ${f.check} prints no command`);
      for (const cmd of f.commands!) {
        const [tool, ...args] = cmd.split(' ');
        const r =
          tool === 'mesh' ? await run(process.execPath, await meshArgs(args)) : await run(aws!.path, args, cliEnv());
        assert.equal(r.code, 0, `${cmd}\n${r.stdout}\n${r.stderr}`);
      }
    }
    const after = await mesh('check', '--json', ...flags);
    const fixed = JSON.parse(after.stdout) as Report;
    assert.equal(after.code, 0, after.stdout);
    assert.equal(fixed.failed, 0);
    assert.equal(fixed.warnings, 0);
    await eventually('checkouts through again', async () => !(await checkout()).startsWith('error'));
  });
});
