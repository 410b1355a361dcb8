/**
 * The `mesh` CLI end to end: `node cli/bin/mesh.js` as a child process, the real AWS SDK on the
 * wire to the local endpoint (Lambda aliases, over the local FunctionRegistry) and dynalite (policy
 * table), found by discovery alone (AWS_ENDPOINT_URL + AWS_ENDPOINT_URL_DYNAMODB, no ARNs, no
 * credentials, no region).
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { fromItem } from '../../cli/attribute-value';
import { marshallItem } from '../../shared/attribute-value';
import { type CliMeshFixture, startCliMesh } from '../support/cli-mesh-fixture';
import { meshArgs, type Run, run } from '../support/mesh-cli';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

async function mesh(fx: CliMeshFixture, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, await meshArgs(args), { ...fx.env, ...extraEnv });
}

function oneLine(r: Run): string {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  return lines[0];
}

describe('mesh CLI on the wire', () => {
  let fx: CliMeshFixture;
  let lambda: LambdaClient;
  let ddb: DynamoDBClient;
  let dir: string;

  const alias = async (fn: string) => {
    const a = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
    return { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };
  const scan = async () => {
    const r = await ddb.send(new ScanCommand({ TableName: fx.table, ConsistentRead: true }));
    return (r.Items ?? []).map(fromItem).sort((a, b) => `${a.pk}/${a.sk}`.localeCompare(`${b.pk}/${b.sk}`));
  };

  before(async () => {
    fx = await startCliMesh(
      [
        { mesh: 'demo', service: 'orders', versions: ['1'], live: { version: '1' } },
        { mesh: 'demo', service: 'payments', versions: ['1', '2'], live: { version: '1', weights: { '2': 0.1 } } },
        { mesh: 'demo', service: 'inventory', versions: ['1', '2', '3'], live: { version: '2' } },
      ],
      {
        items: [
          { pk: 'orders', sk: 'allow#external', source: 'external', managedBy: 'deploy' },
          { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy', timeoutMs: 2000 },
          { pk: 'orders', sk: 'route', managedBy: 'deploy', weights: { '1': 1 } },
        ],
      },
    );
    lambda = new LambdaClient({ region: 'us-east-1', endpoint: fx.lambdaUrl, credentials: creds });
    ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: fx.dynamoUrl, credentials: creds });
    dir = mkdtempSync(join(tmpdir(), 'cli-wire-'));
  });

  after(async () => {
    lambda?.destroy();
    ddb?.destroy();
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('status: services, functions, versions, live weights and the policy, found by discovery', async () => {
    const r = await mesh(fx, ['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr when all is well');
    assert.match(r.stdout, /^Mesh demo — policy table demo-policy \(us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(r.stdout, /^payments\s+demo-payments\s+1,2\s+90% v1 \/ 10% v2\s+v2$/m);
    assert.match(r.stdout, /^orders\s+demo-orders\s+1\s+100% v1\s+-$/m);
    assert.match(r.stdout, /^inventory\s+demo-inventory\s+1,2,3\s+100% v2\s+v3$/m);
    assert.match(r.stdout, /^orders\s+payments\s+allowed\s+deploy/m);
    assert.match(r.stdout, /^orders\s+weights v1 100%$/m);
    assert.doesNotMatch(r.stdout, /unrelated-fn/);
  });

  test('status --json parses and carries the same facts', async () => {
    const r = await mesh(fx, ['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.mesh, 'demo');
    assert.equal(s.table, 'demo-policy');
    const pay = s.services.find((x: { service: string }) => x.service === 'payments');
    assert.deepEqual(pay.alias, {
      name: 'live',
      functionVersion: '1',
      weights: { '2': 0.1 },
      traffic: { '1': 90, '2': 10 },
      canary: '2',
    });
    assert.deepEqual(pay.versions, ['1', '2']);
    assert.ok(
      s.policy.edges.some(
        (e: { from: string; to: string; state: string }) =>
          e.from === 'orders' && e.to === 'payments' && e.state === 'allowed',
      ),
    );
  });

  test('shift 50: GetAlias shows 0.5 on the canary; --json prints what changed', async () => {
    const r = await mesh(fx, ['shift', 'payments', '50', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.before, { functionVersion: '1', weights: { '2': 0.1 } });
    assert.deepEqual(out.after, { functionVersion: '1', weights: { '2': 0.5 } });
    assert.equal(out.changed, true);
    assert.deepEqual(await alias('demo-payments'), { version: '1', weights: { '2': 0.5 } });
    const text = await mesh(fx, ['shift', 'payments', '25']);
    assert.equal(text.stdout.trim(), 'payments: live 50% v1 / 50% v2 -> 75% v1 / 25% v2 (demo-payments)');
    assert.deepEqual(await alias('demo-payments'), { version: '1', weights: { '2': 0.25 } });
  });

  test('shift: bad weight or unknown service exits 2, names the value, leaves the alias alone', async () => {
    const before = await alias('demo-payments');
    for (const [args, text] of [
      [['shift', 'payments', '150'], 'weight "150" is not a percentage between 0 and 100'],
      [['shift', 'payments', 'abc'], 'weight "abc"'],
      [
        ['shift', 'paymnts', '10'],
        'unknown service "paymnts" (did you mean "payments"?) in mesh demo; known services: inventory, orders, payments',
      ],
      [['shift', 'orders', '10'], 'orders has no canary version: alias live points at version 1'],
      [['shift', 'payments', '10', '--frobnicate'], 'unknown flag --frobnicate'],
    ] as const) {
      const r = await mesh(fx, [...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(oneLine(r).includes(text), `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(await alias('demo-payments'), before);
  });

  test('shift gives traffic to a published version the alias does not route to yet', async () => {
    const r = await mesh(fx, ['shift', 'inventory', '10']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await alias('demo-inventory'), { version: '2', weights: { '3': 0.1 } });
  });

  test('rollback: weights cleared, the stable version keeps 100%; again is a no-op', async () => {
    const r = await mesh(fx, ['rollback', 'inventory']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'inventory: live 90% v2 / 10% v3 -> 100% v2 (demo-inventory)');
    assert.deepEqual(await alias('demo-inventory'), { version: '2', weights: {} });
    const again = await mesh(fx, ['rollback', 'inventory', '--json']);
    assert.equal(JSON.parse(again.stdout).changed, false);
    // The advice's command carries the AWS flags this one ran with (test/cli/operator-plans.test.ts:
    // --endpoint-url too), so it reaches the same region and endpoint when pasted.
    const where = ['--region', 'us-east-1'];
    const advice = await mesh(fx, ['rollback', 'inventory', ...where]);
    assert.equal(advice.code, 0, advice.stderr);
    assert.ok(
      advice.stdout.includes(
        `run: \`aws lambda update-alias --function-name demo-inventory --name live --function-version <n> ${where.join(' ')}\` (other published versions: 1, 3)`,
      ),
      advice.stdout,
    );
  });

  test('promote: the canary becomes live with all the traffic', async () => {
    const r = await mesh(fx, ['promote', 'payments']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await alias('demo-payments'), { version: '2', weights: {} });
    const none = await mesh(fx, ['promote', 'payments']);
    assert.equal(none.code, 2);
    assert.match(oneLine(none), /payments has no canary version: alias live points at version 2/);
  });

  test('policy deny then allow: operator deny wins, allow removes it', async () => {
    const d = await mesh(fx, ['policy', 'deny', 'orders', 'payments', '--reason', 'incident 42', '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout).changes, [{ action: 'create', pk: 'payments', sk: 'deny#orders' }]);
    const deny = (await scan()).find((i) => i.pk === 'payments' && i.sk === 'deny#orders');
    assert.equal(deny?.managedBy, 'operator');
    assert.equal(deny?.source, 'orders');
    assert.equal(deny?.reason, 'incident 42');
    assert.match(String(deny?.updatedBy), /^mesh-cli/);
    const st = await mesh(fx, ['status']);
    assert.match(st.stdout, /^orders\s+payments\s+DENIED\s+operator\s+incident 42$/m);

    const a = await mesh(fx, ['policy', 'allow', 'orders', 'payments']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^delete\s+payments\/deny#orders$/m);
    assert.match(a.stdout, /^unchanged\s+payments\/allow#orders$/m);
    const items = await scan();
    assert.equal(
      items.find((i) => i.sk === 'deny#orders'),
      undefined,
    );
    assert.equal(
      items.find((i) => i.pk === 'payments' && i.sk === 'allow#orders')?.managedBy,
      'deploy',
      'the deploy allow is untouched',
    );

    const n = await mesh(fx, ['policy', 'allow', 'external', 'inventory']);
    assert.equal(n.code, 0, n.stderr);
    const created = (await scan()).find((i) => i.pk === 'inventory' && i.sk === 'allow#external');
    assert.equal(created?.managedBy, 'operator');
  });

  test('policy deny names what it does not reach: a failover to another region, a fallback service', async () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:demo-inventory:live';
    const put = (item: Record<string, unknown>) =>
      ddb.send(new PutItemCommand({ TableName: fx.table, Item: marshallItem(item) as never }));
    const drop = (sk: string) =>
      ddb.send(new DeleteItemCommand({ TableName: fx.table, Key: marshallItem({ pk: 'inventory', sk }) as never }));
    await put({
      pk: 'inventory',
      sk: 'allow#orders',
      source: 'orders',
      managedBy: 'deploy',
      fallback: { functionArn: arn },
    });
    await put({ pk: 'inventory', sk: 'traffic', managedBy: 'deploy', fallback: { service: 'payments' } });
    try {
      const d = await mesh(fx, ['policy', 'deny', 'orders', 'inventory', '--mesh', 'demo']);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /^create\s+inventory\/deny#orders$/m);
      // Pasted, each runs where it must: the other region, with the flags this one ran with.
      assert.match(
        d.stdout,
        /^note: inventory\/allow#orders fails over to arn:aws:lambda:eu-west-1:\S+: this deny holds in us-east-1 only; write it in eu-west-1 too: `mesh policy deny orders inventory --mesh demo --region eu-west-1`$/m,
      );
      assert.match(
        d.stdout,
        /^note: inventory\/traffic falls back to payments, which orders may still call by its own allow item; if it must not: `mesh policy deny orders payments --mesh demo`$/m,
      );
      const json = await mesh(fx, ['policy', 'deny', 'orders', 'inventory', '--json']);
      assert.equal(JSON.parse(json.stdout).warnings.length, 2, json.stdout);
      // An edge with no fallback: the deny alone, no note.
      const plain = await mesh(fx, ['policy', 'deny', 'external', 'orders', '--dry-run']);
      assert.doesNotMatch(plain.stdout, /^note:/m);
    } finally {
      for (const sk of ['allow#orders', 'traffic', 'deny#orders']) await drop(sk);
    }
  });

  test('policy allow/deny: unknown services exit 2 and write nothing', async () => {
    const before = await scan();
    for (const args of [
      ['policy', 'deny', 'ordrs', 'payments'],
      ['policy', 'allow', 'orders', 'nope'],
      ['policy', 'deny', 'orders', 'orders'],
    ]) {
      const r = await mesh(fx, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      oneLine(r);
    }
    assert.deepEqual(await scan(), before);
  });

  test('policy set: a valid file lands whole; list shows it; --json parses', async () => {
    const file = join(dir, 'payments.json');
    writeFileSync(
      file,
      JSON.stringify([
        { sk: 'traffic', timeoutMs: 1500, retries: { maxAttempts: 2 } },
        { sk: 'route', weights: { '1': 0.5, '2': 0.5 } },
      ]),
    );
    const r = await mesh(fx, ['policy', 'set', 'payments', '--file', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).changes, [
      { action: 'create', pk: 'payments', sk: 'traffic' },
      { action: 'create', pk: 'payments', sk: 'route' },
    ]);
    const l = await mesh(fx, ['policy', 'list', '--service', 'payments', '--json']);
    const items = JSON.parse(l.stdout) as Record<string, unknown>[];
    assert.ok(items.every((i) => i.pk === 'payments'));
    assert.deepEqual(items.find((i) => i.sk === 'route')?.weights, { '1': 0.5, '2': 0.5 });
    assert.equal(items.find((i) => i.sk === 'traffic')?.managedBy, 'operator');
    const text = await mesh(fx, ['policy', 'list']);
    assert.match(text.stdout, /^payments\s+traffic\s+operator\s+timeout 1500ms, attempts 2$/m);
  });

  test("status: the runtime's rate-limit buckets are no invalid policy", async () => {
    // A bucket as the runtime leases it (functions/mesh/resilience/rate-limit-table.ts).
    const bucket = { pk: 'ratelimit#payments', sk: 'bucket#allow#orders', tat: Date.now(), ttl: 2 };
    await ddb.send(new PutItemCommand({ TableName: fx.table, Item: marshallItem(bucket) as never }));
    try {
      const text = await mesh(fx, ['status']);
      assert.equal(text.code, 0, text.stderr);
      assert.doesNotMatch(text.stdout, /INVALID ITEMS|ratelimit#/);
      const json = JSON.parse((await mesh(fx, ['status', '--json'])).stdout);
      assert.deepEqual(json.policy.invalid, []);
      assert.ok(
        json.items.some((i: { pk: string }) => i.pk === bucket.pk),
        'the stored items stay as they are',
      );
    } finally {
      await ddb.send(
        new DeleteItemCommand({ TableName: fx.table, Key: marshallItem({ pk: bucket.pk, sk: bucket.sk }) as never }),
      );
    }
  });

  test('policy list marks an item the mesh ignores, with why, in one bounded line', async () => {
    // A route item written by hand past the bounds (40,000 versions), which every sandbox refuses.
    const weights = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [String(i + 1), 1]));
    const route = { pk: 'inventory', sk: 'route', managedBy: 'operator', weights };
    await ddb.send(new PutItemCommand({ TableName: fx.table, Item: marshallItem(route) as never }));
    try {
      const text = await mesh(fx, ['policy', 'list', '--service', 'inventory']);
      assert.equal(text.code, 0, text.stderr);
      const line = text.stdout.split('\n').find((l) => /^inventory\s+route\b/.test(l));
      assert.match(
        line ?? '',
        /^inventory\s+route\s+operator\s+INVALID, ignored by the mesh: weights = .* must name at most 10 versions; it names 40000$/,
      );
      assert.ok(line!.length < 400, `one bounded line, not every version: ${line!.length} characters`);
      const json = JSON.parse((await mesh(fx, ['policy', 'list', '--service', 'inventory', '--json'])).stdout);
      assert.equal(Object.keys(json.find((i: { sk: string }) => i.sk === 'route').weights).length, 40_000);
    } finally {
      await ddb.send(
        new DeleteItemCommand({ TableName: fx.table, Key: marshallItem({ pk: route.pk, sk: route.sk }) as never }),
      );
    }
  });

  test('policy list --service shows the breaker partition too; policy set refuses breaker state and urls', async () => {
    const breaker = { pk: 'breaker#payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: 1, ttl: 2 };
    await ddb.send(new PutItemCommand({ TableName: fx.table, Item: marshallItem(breaker) as never }));
    try {
      const l = await mesh(fx, ['policy', 'list', '--service', 'payments', '--json']);
      assert.equal(l.code, 0, l.stderr);
      const items = JSON.parse(l.stdout) as Record<string, unknown>[];
      assert.deepEqual(
        items.filter((i) => i.pk === 'breaker#payments').map((i) => i.sk),
        ['breaker#2'],
      );
      const text = await mesh(fx, ['policy', 'list', '--service', 'payments']);
      assert.match(text.stdout, /^breaker#payments\s+breaker#2\s+-\s+v2 open$/m);
    } finally {
      await ddb.send(
        new DeleteItemCommand({
          TableName: fx.table,
          Key: marshallItem({ pk: breaker.pk, sk: breaker.sk }) as never,
        }),
      );
    }
    const before = await scan();
    const file = join(dir, 'hijack.json');
    for (const item of [
      { sk: 'breaker#2', version: '2', state: 'open', openedAt: 1 },
      { sk: 'service', functionName: 'demo-payments', url: 'http://127.0.0.1:9/', auth: 'none' },
    ]) {
      writeFileSync(file, JSON.stringify([item]));
      const r = await mesh(fx, ['policy', 'set', 'payments', '--file', file]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /breaker#<service>|declared at deploy/);
    }
    assert.deepEqual(await scan(), before);
  });

  test('policy set: a file failing the schema, or not JSON, exits 2 and leaves the table unchanged', async () => {
    const before = await scan();
    const bad = join(dir, 'bad.json');
    // The first item is valid: all-or-nothing means it must not land either.
    writeFileSync(
      bad,
      JSON.stringify([
        { sk: 'fault', abort: { percent: 5 } },
        { sk: 'route', weights: { '4': 1.5 } },
      ]),
    );
    const r = await mesh(fx, ['policy', 'set', 'payments', '--file', bad]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /item 2: payments\/route: weights\.4 = 1\.5 must be between 0 and 1/);
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '[{"sk": "traffic",');
    const j = await mesh(fx, ['policy', 'set', 'payments', '--file', notJson]);
    assert.equal(j.code, 2);
    assert.match(oneLine(j), /broken\.json is not valid JSON/);
    assert.deepEqual(await scan(), before);
  });

  test('policy set: a file nested deeper than an item can be exits 2 naming the file and the depth, nothing written', async () => {
    const before = await scan();
    const deep = join(dir, 'deep.json');
    // Valid JSON, a fault item whose delay nests a hundred thousand arrays deep.
    writeFileSync(deep, `[{"sk":"fault","delay":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]`);
    const r = await mesh(fx, ['policy', 'set', 'payments', '--file', deep]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r), /policy file .*deep\.json nests deeper than 34 levels/);
    assert.doesNotMatch(oneLine(r), /RangeError|call stack/);
    assert.deepEqual(await scan(), before);
  });

  test('--dry-run on every write plans, prints and writes nothing', async () => {
    const table = await scan();
    const aliases = await Promise.all(['demo-payments', 'demo-inventory'].map(alias));
    const f = join(dir, 'dry.json');
    writeFileSync(f, JSON.stringify([{ sk: 'fault', delay: { percent: 1, ms: 5 } }]));
    for (const args of [
      ['shift', 'inventory', '30'],
      ['promote', 'inventory'],
      ['policy', 'allow', 'external', 'payments'],
      ['policy', 'deny', 'orders', 'payments'],
      ['policy', 'set', 'payments', '--file', f],
      ['policy', 'delete', 'payments', 'allow#orders', '--force'],
    ]) {
      const r = await mesh(fx, [...args, '--dry-run']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /dry run/, args.join(' '));
    }
    // A rollback with something to roll back (then rolled back for real).
    assert.equal((await mesh(fx, ['shift', 'inventory', '30'])).code, 0);
    const dry = await mesh(fx, ['rollback', 'inventory', '--dry-run']);
    assert.match(
      dry.stdout,
      /^dry run: inventory: live 70% v2 \/ 30% v3 -> 100% v2 \(demo-inventory\); nothing written$/m,
    );
    assert.deepEqual((await alias('demo-inventory')).weights, { '3': 0.3 });
    assert.equal((await mesh(fx, ['rollback', 'inventory'])).code, 0);
    assert.deepEqual(await scan(), table);
    assert.deepEqual(await Promise.all(['demo-payments', 'demo-inventory'].map(alias)), aliases);
    const json = JSON.parse(
      (await mesh(fx, ['policy', 'delete', 'payments', 'allow#orders', '--force', '--dry-run', '--json'])).stdout,
    );
    assert.equal(json.dryRun, true);
    assert.deepEqual(json.changes, [{ action: 'delete', pk: 'payments', sk: 'allow#orders' }]);
  });

  test('policy delete: an unknown kind or a missing item exits 2 naming what there is', async () => {
    const kind = await mesh(fx, ['policy', 'delete', 'payments', 'weights']);
    assert.equal(kind.code, 2);
    assert.match(oneLine(kind), /"weights" is not an item kind; use service, traffic, route, fault/);
    const missing = await mesh(fx, ['policy', 'delete', 'orders', 'fault']);
    assert.equal(missing.code, 2);
    assert.match(oneLine(missing), /orders has no item fault; its items: allow#external, route/);
  });

  test('AWS errors: one line naming the operation, exit 1', async () => {
    const r = await mesh(fx, ['status', '--endpoint-url', 'http://127.0.0.1:9']);
    assert.equal(r.code, 1);
    // Nothing listens there: the line says what to do about it, not only what the socket said.
    assert.match(
      oneLine(r),
      /^mesh status: ListFunctions failed: .*ECONNREFUSED.*; nothing answers there: start the local mesh \(`mesh local` in the CDK app's folder\) or pass its address with --endpoint-url/,
    );
  });

  test("against an endpoint with no region set: the profile's, else us-east-1, never the EC2 instance's", async () => {
    // An instance metadata service, as on an EC2 dev box in eu-west-3.
    const asked: string[] = [];
    const imds = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.end(req.url?.includes('token') ? 'token' : 'eu-west-3');
    });
    await new Promise<void>((r) => imds.listen(0, '127.0.0.1', r));
    const home = mkdtempSync(join(tmpdir(), 'mesh-home-'));
    try {
      const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(imds.address() as AddressInfo).port}` };
      const r = await mesh(fx, ['status', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).region, 'us-east-1');
      assert.deepEqual(asked, [], 'the instance metadata service is not asked');
      // A profile's region still counts: the one the SDK reads (~/.aws/config, AWS_PROFILE).
      mkdirSync(join(home, '.aws'));
      const keys = 'aws_access_key_id = test\naws_secret_access_key = test\n';
      writeFileSync(join(home, '.aws', 'config'), `[default]\n${keys}[profile west]\nregion = us-west-2\n${keys}`);
      const west = await mesh(fx, ['status', '--json'], { ...env, HOME: home, AWS_PROFILE: 'west' });
      assert.equal(west.code, 0, west.stderr);
      assert.equal(JSON.parse(west.stdout).region, 'us-west-2');
      assert.deepEqual(asked, []);
    } finally {
      rmSync(home, { recursive: true, force: true });
      await new Promise<void>((r) => imds.close(() => r()));
    }
  });

  test('AWS without credentials: one line saying none were found and where they come from, exit 1', async () => {
    // No endpoint (so no stand-in credentials), no credential variables, no ~/.aws, no instance metadata.
    const env = {
      PATH: process.env.PATH,
      HOME: '/nonexistent-home-for-cli-tests',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    };
    const r = await run(process.execPath, await meshArgs(['status']), env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      oneLine(r),
      /^mesh status: ListFunctions failed: CredentialsProviderError: .*; no AWS credentials were found: set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), or sign in as for the AWS CLI \(aws sso login\); for the local mesh, pass --endpoint-url http:\/\/127\.0\.0\.1:4566 \(or set AWS_ENDPOINT_URL\)$/,
    );
  });
});

describe('mesh CLI with two meshes', () => {
  let fx: CliMeshFixture;
  before(async () => {
    fx = await startCliMesh([
      { mesh: 'blue', service: 'orders', versions: ['1'], live: { version: '1' }, table: 'blue-policy' },
      { mesh: 'green', service: 'orders', versions: ['1', '2'], live: { version: '1' }, table: 'demo-policy' },
    ]);
  });
  after(async () => {
    await fx?.stop();
  });

  test('without --mesh: exit 2 naming both; --mesh picks one', async () => {
    const r = await mesh(fx, ['status']);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /2 meshes found .* \(blue, green\); pick one with --mesh <name>/);
    const g = await mesh(fx, ['shift', 'orders', '30', '--mesh', 'green', '--json']);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(JSON.parse(g.stdout).functionName, 'green-orders');
  });
});
