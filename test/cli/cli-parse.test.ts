/**
 * Pure parts of the CLI: argument parsing, every validation error (exit 2, the message names the
 * value), weight conversion, AWS settings, discovery grouping, and the alias and policy planners.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canaryVersion, describeSplit, planPromote, planRollback, planShift } from '../../cli/alias-plan';
import { AWS_OPTIONS, countFlag, expectPositionals, parseCommandArgs } from '../../cli/args';
import { DUMMY_CREDENTIALS, resolveAwsSettings } from '../../cli/aws-settings';
import { localApp, parseLocalArgs } from '../../cli/commands/local';
import { renderStatus } from '../../cli/commands/status';
import { processContext } from '../../cli/context';
import { UsageError } from '../../cli/errors';
import { COMMAND_HELP } from '../../cli/help';
import { main } from '../../cli/main';
import { findService, groupMeshes, pickMesh } from '../../cli/mesh-discovery';
import { checkEdge, planAllow, planDeny, planSet } from '../../cli/policy-plan';
import { summarisePolicy } from '../../cli/policy-summary';
import { parseWeightPercent, percentToWeight, weightToPercent } from '../../cli/weight';
import { DEFAULT_LOCAL_PORT } from '../../local/local-flags';
import { ENV } from '../../shared/names';
import { closest, editDistance } from '../../shared/suggest';

const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'mesh-cli:test' };

function usage(fn: () => unknown, includes: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    if (typeof includes === 'string')
      assert.ok(err.message.includes(includes), `"${err.message}" should include "${includes}"`);
    else assert.match(err.message, includes);
    return true;
  });
}

/** Runs main() in-process with captured output and an environment that reaches no AWS. */
async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ctx = processContext({
    env: { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
  });
  const code = await main(argv, ctx);
  return { code, out, err };
}

test('weights: percent in, Lambda fraction out, without float noise', () => {
  assert.equal(parseWeightPercent('10'), 10);
  assert.equal(parseWeightPercent('12.5'), 12.5);
  assert.equal(parseWeightPercent('10%'), 10);
  assert.equal(parseWeightPercent('0'), 0);
  assert.equal(parseWeightPercent('100'), 100);
  assert.equal(percentToWeight(50), 0.5);
  assert.equal(percentToWeight(7), 0.07);
  assert.equal(percentToWeight(12.5), 0.125);
  assert.equal(percentToWeight(33.33), 0.3333);
  assert.equal(weightToPercent(0.1), 10);
  assert.equal(weightToPercent(0.3333), 33.33);
});

test('weights: out of range or not a number is a usage error naming the value', () => {
  for (const bad of ['150', '100.5', 'abc', '-5', '', '1e2', '0x10', '50%%']) {
    usage(() => parseWeightPercent(bad), JSON.stringify(bad));
  }
  usage(() => parseWeightPercent('150'), 'between 0 and 100');
});

test('suggestions: the closest known word within a third of the word in edits, else none', () => {
  assert.equal(editDistance('status', 'status'), 0);
  assert.equal(editDistance('stauts', 'status'), 1, 'a swap of neighbours is one edit');
  assert.equal(editDistance('shit', 'shift'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  const commands = ['status', 'shift', 'promote', 'rollback', 'rollout', 'policy'];
  assert.equal(closest('stauts', commands), 'status');
  assert.equal(closest('STATUS', commands), 'status', 'letter case is no edit');
  assert.equal(closest('rolout', commands), 'rollout');
  assert.equal(closest('rollbak', commands), 'rollback');
  assert.equal(closest('frobnicate', commands), undefined, 'nothing close: no guess');
  assert.equal(closest('sh', commands), undefined, 'a short word gets one edit');
  assert.equal(closest('xx', ['ab']), undefined);
  assert.equal(closest('ab', ['ax', 'ay']), 'ax', 'the first of a tie');
});

test('args: unknown flags, missing values and stray arguments name the token and the help', () => {
  usage(
    () => parseCommandArgs('shift', ['payments', '10', '--bogus'], AWS_OPTIONS),
    'unknown flag --bogus for `mesh shift`; see `mesh shift --help`',
  );
  usage(() => parseCommandArgs('status', ['--region'], AWS_OPTIONS), 'flag --region needs a value');
  usage(() => parseCommandArgs('shift', ['payments', '-5'], AWS_OPTIONS), '-5 is not a valid value here');
  // A negative value after a flag is the flag's value, for the command's check to name with its range.
  const limit = parseCommandArgs('trace', ['--limit', '-1', '--json'], { ...AWS_OPTIONS, limit: { type: 'string' } });
  assert.equal(limit.values.limit, '-1');
  assert.equal(limit.values.json, true);
  usage(
    () => countFlag('trace', 'limit', limit.values.limit, 1000),
    '--limit must be a whole number from 1 to 1000, got "-1"',
  );
  usage(() => expectPositionals('shift', ['payments'], ['service', 'weight']), 'needs <weight>');
  usage(() => expectPositionals('promote', ['payments', 'extra'], ['service']), 'unexpected argument extra');
  const { values, positionals } = parseCommandArgs(
    'shift',
    ['payments', '10', '--json', '--mesh', 'demo'],
    AWS_OPTIONS,
  );
  assert.deepEqual(positionals, ['payments', '10']);
  assert.equal(values.json, true);
  assert.equal(values.mesh, 'demo');
});

test('aws settings: flag beats service env beats global env; ignore switch honoured', () => {
  const none = () => false;
  const s = resolveAwsSettings({}, { AWS_ENDPOINT_URL: 'http://g', AWS_ENDPOINT_URL_LAMBDA: 'http://l' }, none);
  assert.equal(s.endpoints.LAMBDA, 'http://l');
  assert.equal(s.endpoints.DYNAMODB, 'http://g');
  const f = resolveAwsSettings({ endpointUrl: 'http://f' }, { AWS_ENDPOINT_URL_LAMBDA: 'http://l' }, none);
  assert.equal(f.endpoints.LAMBDA, 'http://f');
  assert.equal(f.endpoints.DYNAMODB, 'http://f');
  const ign = resolveAwsSettings(
    {},
    { AWS_ENDPOINT_URL: 'http://g', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
    none,
  );
  assert.equal(ign.endpoints.LAMBDA, undefined);
});

test('aws settings: an endpoint that is not an http(s) URL is a usage error naming the flag or variable', () => {
  const none = () => false;
  usage(
    () => resolveAwsSettings({ endpointUrl: '127.0.0.1:4566' }, {}, none),
    '--endpoint-url "127.0.0.1:4566" is not an http(s) URL; give the scheme, host and port, e.g. --endpoint-url http://127.0.0.1:4566',
  );
  usage(
    () => resolveAwsSettings({ endpointUrl: 'ftp://x' }, {}, none),
    '--endpoint-url "ftp://x" is not an http(s) URL',
  );
  usage(
    () => resolveAwsSettings({}, { AWS_ENDPOINT_URL_LAMBDA: 'localhost' }, none),
    'AWS_ENDPOINT_URL_LAMBDA "localhost" is not an http(s) URL; give the scheme, host and port, e.g. AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:4566',
  );
  // The flag wins, so a bad variable it overrides is never read; nor one the ignore switch turns off.
  const env = { AWS_ENDPOINT_URL: 'nope', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' };
  assert.equal(
    resolveAwsSettings({ endpointUrl: 'https://e.example' }, { AWS_ENDPOINT_URL: 'nope' }, none).endpoints.LAMBDA,
    'https://e.example',
  );
  assert.equal(resolveAwsSettings({}, env, none).endpoints.LAMBDA, undefined);
});

test('aws settings: us-east-1 and dummy credentials only with an endpoint and nothing configured', () => {
  const none = () => false;
  const local = resolveAwsSettings({}, { AWS_ENDPOINT_URL: 'http://x', HOME: '/h' }, none);
  assert.equal(local.region, undefined);
  assert.equal(local.fallbackRegion, 'us-east-1');
  assert.deepEqual(local.credentials, DUMMY_CREDENTIALS);
  const real = resolveAwsSettings({}, { HOME: '/h' }, none);
  assert.equal(real.fallbackRegion, undefined);
  assert.equal(real.credentials, undefined, 'never dummy credentials against real AWS');
  const withKeys = resolveAwsSettings(
    {},
    { AWS_ENDPOINT_URL: 'http://x', AWS_ACCESS_KEY_ID: 'AKIA', HOME: '/h' },
    none,
  );
  assert.equal(withKeys.credentials, undefined);
  const withProfileFile = resolveAwsSettings(
    {},
    { AWS_ENDPOINT_URL: 'http://x', HOME: '/h' },
    (p) => p === '/h/.aws/credentials',
  );
  assert.equal(withProfileFile.credentials, undefined);
  assert.equal(resolveAwsSettings({ region: 'eu-west-1' }, { AWS_REGION: 'us-west-2' }, none).region, 'eu-west-1');
  assert.equal(resolveAwsSettings({}, { AWS_REGION: 'us-west-2' }, none).region, 'us-west-2');
});

const fn = (name: string, mesh: string | undefined, service: string | undefined, table = 't') => ({
  FunctionName: name,
  Environment: {
    Variables: {
      ...(mesh ? { [ENV.meshName]: mesh } : {}),
      ...(service ? { [ENV.service]: service } : {}),
      [ENV.policyTable]: table,
    },
  },
});

test('discovery: groups functions by MESH_NAME, skips non-mesh functions, --mesh picks one', () => {
  const meshes = groupMeshes([
    fn('a-orders', 'a', 'orders', 'a-t'),
    fn('plain', undefined, undefined),
    fn('b-pay', 'b', 'payments'),
    fn('a-pay', 'a', 'payments', 'a-t'),
  ]);
  assert.deepEqual(
    meshes.map((m) => m.name),
    ['a', 'b'],
  );
  assert.deepEqual(
    meshes[0].services.map((s) => s.service),
    ['orders', 'payments'],
  );
  assert.equal(meshes[0].table, 'a-t');
  usage(() => pickMesh(meshes, undefined, 'us-east-1'), 'pick one with --mesh <name>');
  assert.equal(pickMesh(meshes, 'b', 'us-east-1').name, 'b');
  usage(() => pickMesh(meshes, 'c', 'us-east-1'), 'no mesh named "c"');
  assert.throws(() => pickMesh([], undefined, 'us-east-1'), /no mesh functions found in us-east-1/);
  usage(
    () => findService(meshes[0], 'paymnts'),
    'unknown service "paymnts" (did you mean "payments"?) in mesh a; known services: orders, payments',
  );
});

test('alias plans: canary is the routed version, else the newest above stable', () => {
  assert.equal(canaryVersion({ functionVersion: '1', weights: { '2': 0.1 } }, ['1', '2', '3']), '2');
  assert.equal(canaryVersion({ functionVersion: '1', weights: {} }, ['1', '2', '3']), '3');
  assert.equal(canaryVersion({ functionVersion: '3', weights: {} }, ['1', '2', '3']), undefined);
  const shift = planShift('payments', 'demo-payments', { functionVersion: '1', weights: { '2': 0.1 } }, ['1', '2'], 50);
  assert.deepEqual(shift.after, { functionVersion: '1', weights: { '2': 0.5 } });
  assert.equal(shift.changed, true);
  assert.equal(describeSplit(shift.after), '50% v1 / 50% v2');
  const same = planShift('payments', 'f', { functionVersion: '1', weights: { '2': 0.5 } }, ['1', '2'], 50);
  assert.equal(same.changed, false);
  usage(
    () => planShift('orders', 'f', { functionVersion: '1', weights: {} }, ['1'], 10),
    'orders has no canary version',
  );
  assert.deepEqual(planPromote('p', 'f', { functionVersion: '1', weights: { '2': 0.3 } }, ['1', '2']).after, {
    functionVersion: '2',
    weights: {},
  });
  usage(
    () => planPromote('p', 'f', { functionVersion: '2', weights: {} }, ['1', '2']),
    'deploy a new version of p first',
  );
  const rb = planRollback('p', 'f', { functionVersion: '1', weights: { '2': 0.3 } });
  assert.deepEqual(rb.after, { functionVersion: '1', weights: {} });
  assert.equal(planRollback('p', 'f', { functionVersion: '1', weights: {} }).changed, false);
});

test('policy plans: allow removes the deny and adds an allow only if missing', () => {
  const existing = [{ pk: 'payments', sk: 'deny#orders', source: 'orders', managedBy: 'operator' }];
  const plan = planAllow(existing, 'orders', 'payments', stamp);
  assert.deepEqual(plan.deletes, [{ pk: 'payments', sk: 'deny#orders' }]);
  assert.deepEqual(plan.puts, [
    { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'operator', ...stamp },
  ]);
  const again = planAllow(
    [{ pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' }],
    'orders',
    'payments',
    stamp,
  );
  assert.equal(again.puts.length + again.deletes.length, 0, 'a deploy allow is left alone');
});

test('policy plans: deny is an operator item; repeating it changes nothing', () => {
  const plan = planDeny([], 'external', 'payments', stamp, 'incident 42');
  assert.deepEqual(plan.puts, [
    { pk: 'payments', sk: 'deny#external', source: 'external', managedBy: 'operator', reason: 'incident 42', ...stamp },
  ]);
  const again = planDeny(plan.puts, 'external', 'payments', { ...stamp, updatedAt: 'later' }, 'incident 42');
  assert.equal(again.puts.length, 0);
  assert.equal(again.changes[0].action, 'unchanged');
});

test('policy plans: edges must name known services (or external), never the same one', () => {
  const services = ['orders', 'payments'];
  checkEdge('external', 'payments', services);
  usage(() => checkEdge('orders', 'paymnts', services), 'unknown service "paymnts" (did you mean "payments"?);');
  usage(() => checkEdge('ordrs', 'payments', services), 'unknown service "ordrs" (did you mean "orders"?);');
  usage(() => checkEdge('extrenal', 'payments', services), 'unknown service "extrenal" (did you mean "external"?);');
  usage(() => checkEdge('orders', 'orders', services), 'orders cannot be both caller and callee');
  usage(() => checkEdge('ordrs', 'payments', services), /or "mesh-deploy-check" for the pre-traffic check/);
});

test('policy plans: an edge may end at a channel a service sends to or consumes, never start there', () => {
  const services = ['orders', 'notifications'];
  const channels = ['order-events'];
  checkEdge('orders', 'order-events', services, channels);
  const plan = planAllow([], 'orders', 'order-events', stamp);
  assert.deepEqual(
    plan.puts.map((i) => [i.pk, i.sk]),
    [['order-events', 'allow#orders']],
  );
  usage(() => checkEdge('orders', 'order-event', services, channels), 'known channels: order-events');
  usage(() => checkEdge('order-events', 'notifications', services, channels), 'unknown service "order-events"');
});

test('policy plans: a deny of the pre-traffic check is a deploy freeze; an allow lifts it', () => {
  const services = ['orders', 'payments'];
  checkEdge('mesh-deploy-check', 'payments', services);
  usage(() => checkEdge('orders', 'mesh-deploy-check', services), 'unknown service "mesh-deploy-check"');
  const deployed = {
    pk: 'payments',
    sk: 'allow#mesh-deploy-check',
    source: 'mesh-deploy-check',
    managedBy: 'deploy',
  };
  const freeze = planDeny([deployed], 'mesh-deploy-check', 'payments', stamp, 'change freeze');
  assert.deepEqual(freeze.puts, [
    {
      pk: 'payments',
      sk: 'deny#mesh-deploy-check',
      source: 'mesh-deploy-check',
      managedBy: 'operator',
      reason: 'change freeze',
      ...stamp,
    },
  ]);
  assert.deepEqual(freeze.deletes, [], "the deploy's allow stays: the deny wins over it");
  const thaw = planAllow([deployed, ...freeze.puts], 'mesh-deploy-check', 'payments', stamp);
  assert.deepEqual(thaw.deletes, [{ pk: 'payments', sk: 'deny#mesh-deploy-check' }]);
  assert.deepEqual(thaw.puts, [], 'the allow the deploy wrote is enough');
});

test('policy set: every item validated first; the first bad one names file, item and field', () => {
  const good = [
    { sk: 'traffic', timeoutMs: 2000 },
    { sk: 'route', weights: { '1': 0.9, '2': 0.1 } },
  ];
  const plan = planSet('payments', good, [], stamp, 'p.json');
  assert.equal(plan.puts.length, 2);
  assert.equal(plan.puts[0].pk, 'payments');
  assert.equal(plan.puts[0].managedBy, 'operator');
  usage(
    () => planSet('payments', [good[0], { sk: 'route', weights: { '4': 1.5 } }], [], stamp, 'p.json'),
    'p.json item 2: payments/route: weights.4 = 1.5 must be between 0 and 1',
  );
  usage(
    () => planSet('payments', [{ pk: 'orders', sk: 'traffic' }], [], stamp, 'p.json'),
    'pk = "orders" is not payments',
  );
  usage(() => planSet('payments', [{ sk: 'traffic' }, { sk: 'traffic' }], [], stamp, 'p.json'), 'appears twice');
  usage(() => planSet('payments', { not: 'a list' }, [], stamp, 'p.json'), 'must hold a JSON array');
  usage(() => planSet('payments', [], [], stamp, 'p.json'), 'holds no policy items');
  usage(() => planSet('payments', ['traffic'], [], stamp, 'p.json'), 'item 1 must be an object');
  usage(() => planSet('payments', [{ sk: 'nonsense' }], [], stamp, 'p.json'), 'is not a policy item kind');
  const wrapped = planSet('payments', { items: good }, [], stamp, 'p.json');
  assert.equal(wrapped.puts.length, 2);
});

test('mesh local: port and flags are checked before anything runs', () => {
  usage(() => parseLocalArgs(['--port', 'abc']), '--port "abc" is not a port number');
  usage(() => parseLocalArgs(['--port', '70000']), '--port "70000"');
  usage(() => parseLocalArgs(['--app', 'x', '--assembly', 'y']), '--app and --assembly exclude each other');
  usage(() => parseLocalArgs(['-c', 'release']), '--context "release" must be key=value');
  usage(() => parseLocalArgs(['--watch', '--assembly', 'y']), '--watch synthesizes the app on every edit');
  usage(() => parseLocalArgs(['--deployment-speed', '0']), '--deployment-speed "0" must be a number above 0');
  usage(() => parseLocalArgs(['--deployment-speed', 'fast']), '--deployment-speed "fast"');
  assert.equal((parseLocalArgs(['--deployment-speed', '10']) as { deploymentSpeed: number }).deploymentSpeed, 10);
  const opts = parseLocalArgs(['--port', '4566', '-c', 'release=1']);
  assert.deepEqual(opts, {
    app: undefined,
    port: 4566,
    assemblies: [],
    output: 'cdk.out',
    context: ['release=1'],
    quiet: false,
    watch: false,
    deploymentSpeed: 1,
    enforceIam: true,
  });
  assert.equal((parseLocalArgs(['--watch']) as { watch: boolean }).watch, true);
  assert.equal((parseLocalArgs(['--no-iam']) as { enforceIam: boolean }).enforceIam, false);
  // The app to synthesize: this folder's, `-c` pairs as context (`=` in a value kept).
  const withValue = parseLocalArgs(['--app', 'node app.js', '-c', 'release=1', '-c', 'tag=a=b']);
  assert.deepEqual(localApp(withValue as Exclude<typeof withValue, 'help'>, { cwd: '/app', env: {} }), {
    root: '/app',
    app: 'node app.js',
    context: { release: '1', tag: 'a=b' },
    env: {},
  });
  assert.equal(parseLocalArgs(['--help']), 'help');
});

test('mesh local --help names the port it binds without --port', () => {
  assert.equal((parseLocalArgs([]) as { port?: number }).port, undefined, 'no --port: the local mesh picks');
  const said = /--port <n>\s+endpoint port \(default: (\d+)/.exec(COMMAND_HELP.local!)?.[1];
  assert.equal(said, String(DEFAULT_LOCAL_PORT), COMMAND_HELP.local);
});

test('main: bad input exits 2 with one line naming the value, before any AWS call', async () => {
  const cases: [string[], string][] = [
    [['shift', 'payments', '150'], 'weight "150" is not a percentage between 0 and 100'],
    [['shift', 'payments', 'abc'], 'weight "abc"'],
    [['shift', 'payments', '-5'], 'weight "-5"'],
    [['shift', 'payments'], 'needs <weight>'],
    [['status', '--bogus'], 'unknown flag --bogus for `mesh status`'],
    [['frobnicate'], 'unknown command "frobnicate"; run `mesh --help` for the list'],
    [['stauts'], 'unknown command "stauts" (did you mean "status"?); run `mesh --help` for the list'],
    [['help', 'rolout'], 'unknown command "rolout" (did you mean "rollout"?)'],
    [['status', '--regoin', 'x'], 'unknown flag --regoin (did you mean "--region"?) for `mesh status`'],
    [['policy', 'grant', 'a', 'b'], 'unknown policy command "grant"; use one of'],
    [['policy', 'dney', 'a', 'b'], 'unknown policy command "dney" (did you mean "deny"?); use one of'],
    [['policy', 'set', 'payments'], 'needs --file <policy.json>'],
    [['policy', 'set', 'payments', '--file', '/nonexistent/p.json'], 'cannot read policy file /nonexistent/p.json'],
  ];
  for (const [argv, text] of cases) {
    const r = await runMain(argv);
    assert.equal(r.code, 2, `mesh ${argv.join(' ')} should exit 2; stderr: ${r.err}`);
    assert.ok(r.err.includes(text), `mesh ${argv.join(' ')}: "${r.err.trim()}" should include "${text}"`);
    assert.equal(r.err.trim().split('\n').length, 1, 'one line');
    assert.equal(r.out, '');
  }
});

test('main: --help on every command and `mesh help <cmd>`', async () => {
  for (const cmd of ['status', 'shift', 'promote', 'rollback', 'policy', 'local']) {
    const a = await runMain([cmd, '--help']);
    assert.equal(a.code, 0, cmd);
    assert.ok(a.out.startsWith(`mesh ${cmd}`), `${cmd} --help: ${a.out.slice(0, 40)}`);
    const b = await runMain(['help', cmd]);
    assert.equal(b.out, a.out);
  }
  const all = await runMain(['--help']);
  assert.equal(all.code, 0);
  for (const cmd of ['status', 'shift', 'promote', 'rollback', 'policy', 'local', 'stat', 'trace', 'check'])
    assert.match(all.out, new RegExp(`^  ${cmd}`, 'm'));
  assert.equal((await runMain([])).code, 2);
  // Help about help is the help.
  for (const word of ['--help', '-h', 'help']) assert.deepEqual(await runMain(['help', word]), all);
});

test('help: the precedence and who decides the split, where an operator looks for them', async () => {
  const policy = (await runMain(['help', 'policy'])).out;
  assert.match(
    policy,
    /an operator's item overrides a deploy-time item for the same\nsetting; within one owner the edge/,
  );
  assert.match(policy, /mesh policy delete <service> <item> \[--force\]/);
  for (const cmd of ['shift', 'promote', 'rollback']) {
    const help = (await runMain(['help', cmd])).out;
    assert.match(help, /a route item with weights decides it for every caller in the mesh/, cmd);
    assert.match(help, /--dry-run/, cmd);
  }
  assert.match((await runMain(['help', 'status'])).out, /the item that decides it/);
  assert.match((await runMain(['rollout', '--help'])).out, /refuses to start \(exit 2\)/);
});

test('policy summary: deny wins over allow, bad items are reported, routes described', () => {
  const items = [
    { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
    { pk: 'payments', sk: 'deny#orders', source: 'orders', managedBy: 'operator', reason: 'incident 42' },
    { pk: 'orders', sk: 'allow#external', source: 'external', managedBy: 'deploy' },
    { pk: 'payments', sk: 'route', weights: { '1': 0.75, '2': 0.25 }, mirror: { version: '2', percent: 5 } },
    { pk: 'payments', sk: 'allow#frontend', managedBy: 'deploy' }, // no source: fails the schema
  ];
  const p = summarisePolicy(items);
  assert.deepEqual(p.edges, [
    { from: 'external', to: 'orders', state: 'allowed', managedBy: 'deploy' },
    { from: 'orders', to: 'payments', state: 'denied', managedBy: 'operator', reason: 'incident 42' },
  ]);
  assert.deepEqual(p.routes, [{ service: 'payments', detail: 'weights v1 75% / v2 25%, mirror 5% to v2' }]);
  assert.equal(p.invalid.length, 1);
  assert.match(p.invalid[0].error, /^payments\/allow#frontend: source/);
  const text = renderStatus({
    mesh: 'demo',
    region: 'us-east-1',
    table: 'demo-policy',
    services: [
      {
        service: 'payments',
        functionName: 'demo-payments',
        versions: ['1', '2'],
        alias: {
          name: 'live',
          functionVersion: '1',
          weights: { '2': 0.25 },
          traffic: { '1': 75, '2': 25 },
          canary: '2',
        },
      },
      { service: 'orders', functionName: 'demo-orders', versions: ['1'], error: 'no live alias' },
    ],
    policy: p,
    items,
  });
  assert.match(text, /^payments\s+demo-payments\s+1,2\s+75% v1 \/ 25% v2\s+v2$/m);
  assert.match(text, /^orders\s+demo-orders\s+1\s+no live alias\s+-$/m);
  assert.match(text, /^orders\s+payments\s+DENIED\s+operator\s+incident 42$/m);
  assert.match(text, /INVALID ITEMS[^\n]*\n {2}payments\/allow#frontend: source/);
});

test('renderStatus: the pre-traffic check is named under who may call whom, as mesh stat and the dashboard name it', () => {
  const items = [
    { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
    { pk: 'payments', sk: 'allow#mesh-deploy-check', source: 'mesh-deploy-check', managedBy: 'deploy' },
  ];
  const text = renderStatus({ mesh: 'demo', region: 'us-east-1', services: [], policy: summarisePolicy(items), items });
  assert.match(text, /^mesh-deploy-check\s+payments\s+allowed\s+deploy/m);
  assert.match(
    text,
    /^orders +payments +allowed +deploy *\n\nmesh-deploy-check: the pre-traffic check of gated deployments, no service: it calls each new version once before CodeDeploy shifts traffic to it$/m,
  );
  assert.doesNotMatch(text, /^orders: /m, 'a service needs no note');
});

test("renderStatus: a deployment's share is the live alias's, not CodeDeploy's lagging target weight", () => {
  const text = renderStatus(
    {
      mesh: 'demo',
      region: 'us-east-1',
      services: [
        {
          service: 'payments',
          functionName: 'demo-payments',
          versions: ['1', '2'],
          alias: { name: 'live', functionVersion: '1', weights: { '2': 0.1 }, traffic: { '1': 90, '2': 10 } },
        },
      ],
      policy: summarisePolicy([]),
      items: [],
      deployments: [
        {
          id: 'd-ROLLBACK1',
          service: 'payments',
          status: 'InProgress',
          configName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
          routing: { type: 'TimeBasedCanary', percentage: 10, intervalMinutes: 5 },
          from: '1',
          to: '2',
          // What CodeDeploy's target reported while the rollback was under way.
          weight: 0,
          trafficStartedAt: 1_000,
          stage: 'AllowTraffic',
          alarms: [],
          speed: 1,
        },
      ],
    },
    2_000,
  );
  assert.match(text, /^ {4}step 1\/2: 10% on v2/m);
});

test("each command's help lists its flags in one column: every description starts where the others do", async () => {
  for (const command of [
    'status',
    'shift',
    'promote',
    'rollback',
    'rollout',
    'policy',
    'stat',
    'trace',
    'tap',
    'check',
  ]) {
    const { code, out } = await runMain([command, '--help']);
    assert.equal(code, 0, command);
    // A flag's line: the flag (and its value), two spaces or more, then its description.
    const starts = out
      .split('\n')
      .filter((l) => /^ {2}-/.test(l) && !l.startsWith('  --mesh, --region'))
      .map((l) => /^ {2}-\S*(?: <[^>]+>| \S+)?( {2,})/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => m[0].length);
    assert.ok(starts.length > 1, `${command}: its flags`);
    assert.equal(
      new Set(starts).size,
      1,
      `mesh ${command} --help: descriptions start at columns ${starts.join(', ')}\n${out}`,
    );
  }
});
