/**
 * The mesh ping: a deployment's pre-traffic check answered by the wrapper without running the handler,
 * only for callers that pass identity and policy; each check (identity, policy, one call per declared
 * target) passes or names what failed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { answerPing, declaredTargets } from '../../functions/mesh/deploy-ping';
import { MeshDeniedError, MeshIdentityUnavailableError } from '../../functions/mesh/errors';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { loadSnapshot } from '../../functions/mesh/policy/policy-snapshot';
import type { InvokeRequest } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { firstFailure, PING_KEY, pingEvent, readPing, readPingAnswer } from '../../shared/deploy-check';
import { ENV } from '../../shared/names';
import { versionKey } from '../../shared/policy-version';

const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
  { pk: 'inventory', sk: 'service', functionName: 'shop-inventory' },
  { pk: 'inventory', sk: 'allow#payments', source: 'payments' },
  { pk: 'ledger', sk: 'service', functionName: 'shop-ledger' },
  { pk: 'ledger', sk: 'allow#payments', source: 'payments' },
  { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
];

function snapshotFile(list: unknown[] = items): string {
  const dir = mkdtempSync(join(tmpdir(), 'ping-'));
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify({ mesh: 'shop', generatedAt: '', items: list }));
  return file;
}

type Answer = (req: InvokeRequest) => Promise<{ statusCode: number; payload: Uint8Array; executedVersion?: string }>;

const pingAnswer = (service: string, version: string) =>
  Buffer.from(JSON.stringify({ [PING_KEY]: { v: 1, service, version, ok: true, checks: [] } }));

function runtime(
  opts: {
    identity?: () => Promise<IdentityLike | undefined>;
    answer?: Answer;
    tableClient?: { send(c: unknown): Promise<unknown> };
    httpTargets?: string;
  } = {},
) {
  const sent: InvokeRequest[] = [];
  const rt = new MeshRuntime({
    env: opts.httpTargets ? { [ENV.httpTargets]: opts.httpTargets } : {},
    config: { meshName: 'shop', service: 'payments', functionVersion: '4', disabled: false },
    policy: {
      snapshot: { mesh: 'shop', generatedAt: '', items },
      snapshotPath: null,
      ...(opts.tableClient ? { tableName: 'shop-policy', client: opts.tableClient, log: () => {} } : {}),
    },
    transport: {
      invoke: async (req) => {
        sent.push(req);
        const answer =
          opts.answer ??
          (async (r: InvokeRequest) => ({
            statusCode: 200,
            payload: pingAnswer(r.functionName.replace('shop-', ''), '7'),
            executedVersion: '7',
          }));
        return answer(req);
      },
    },
    sink: () => {},
    identity: opts.identity ?? (async () => undefined),
    sleep: async () => {},
  });
  return { rt, sent };
}

const verifyingIdentity = (ok: boolean): IdentityLike => ({
  sign: () => 'token',
  verify: () => (ok ? { ok: true } : { ok: false, reason: 'untrusted-issuer' }),
});

describe('mesh ping protocol', () => {
  test('readPing takes only an object whose one key is the ping, v 1', () => {
    assert.deepEqual(readPing(pingEvent(true)), { v: 1, targets: true });
    assert.deepEqual(readPing({ [PING_KEY]: { v: 1 } }), { v: 1, targets: false });
    assert.equal(readPing({ [PING_KEY]: { v: 2 } }), undefined);
    assert.equal(readPing({ [PING_KEY]: { v: 1 }, amountCents: 5 }), undefined, 'a user event with the key too');
    assert.equal(readPing({ [PING_KEY]: null }), undefined);
    assert.equal(readPing([pingEvent(true)]), undefined);
    assert.equal(readPing('ping'), undefined);
    assert.equal(readPing(null), undefined);
  });

  test('readPingAnswer and firstFailure name the first failed check', () => {
    const answer = readPingAnswer({
      [PING_KEY]: {
        v: 1,
        service: 'payments',
        version: '4',
        ok: false,
        checks: [
          { name: 'identity', ok: true, detail: 'fine' },
          { name: 'call inventory', ok: false, detail: 'MeshDeniedError: denied' },
          { bogus: true },
        ],
      },
    });
    assert.ok(answer);
    assert.equal(answer.checks.length, 2, 'malformed checks are dropped');
    assert.equal(firstFailure(answer), 'call inventory: MeshDeniedError: denied');
    const vague = readPingAnswer({ [PING_KEY]: { v: 1, ok: false, checks: [] } })!;
    assert.match(firstFailure(vague)!, /without naming a check/);
    assert.equal(firstFailure(readPingAnswer({ [PING_KEY]: { v: 1, ok: true, checks: [] } })!), undefined);
    assert.equal(readPingAnswer({ charged: 5 }), undefined);
    assert.equal(readPingAnswer({ [PING_KEY]: { v: 1, checks: 'no' } }), undefined);
    assert.equal(readPingAnswer(undefined), undefined);
  });
});

describe('the wrapper answers a ping', () => {
  const saved = process.env[ENV.policySnapshot];
  afterEach(() => {
    if (saved === undefined) delete process.env[ENV.policySnapshot];
    else process.env[ENV.policySnapshot] = saved;
  });

  test('from an allowed caller: the handler never runs; identity, policy and each declared target are checked', async () => {
    // Prepare
    process.env[ENV.policySnapshot] = snapshotFile();
    const { rt, sent } = runtime();
    let ran = false;
    const h = wrapHandler(rt, async () => {
      ran = true;
      return 'ran';
    });
    // Act
    const out = (await h(pingEvent(true), { clientContext: { custom: { mesh: { v: 1, src: 'orders' } } } })) as Record<
      string,
      unknown
    >;
    // Assess
    assert.equal(ran, false);
    const answer = readPingAnswer(out)!;
    assert.equal(answer.ok, true);
    assert.equal(answer.version, '4');
    assert.deepEqual(
      answer.checks.map((c) => c.name),
      ['identity', 'policy', 'call inventory', 'call ledger'],
    );
    assert.deepEqual(
      sent.map((r) => `${r.functionName}:${r.qualifier}`),
      ['shop-inventory:live', 'shop-ledger:live'],
    );
    // The onward pings go one hop: they ask for no targets.
    assert.deepEqual(JSON.parse(Buffer.from(sent[0]!.payload).toString()), pingEvent(false));
  });

  test('from a caller the policy refuses: refused like any call, no answer', async () => {
    const { rt } = runtime();
    const h = wrapHandler(rt, async () => 'ran');
    await assert.rejects(h(pingEvent(true), { clientContext: { custom: { mesh: { v: 1, src: 'audit' } } } }), (e) => {
      assert.ok(e instanceof MeshDeniedError);
      assert.doesNotMatch((e as Error).message, /identity|policy table|call inventory|lambda-mesh:ping/);
      return true;
    });
  });
});

describe('answerPing checks', () => {
  const ping = { v: 1 as const, targets: true };

  test('a target that refuses or cannot be reached fails its own check, naming the error', async () => {
    const { rt } = runtime({
      answer: async (r) => {
        if (r.functionName === 'shop-ledger')
          throw Object.assign(new Error('not allowed'), {
            name: 'AccessDeniedException',
            $metadata: { httpStatusCode: 403 },
          });
        return { statusCode: 200, payload: pingAnswer('inventory', '7'), executedVersion: '7' };
      },
    });
    const a = await answerPing(rt, ping, '4', 'orders', loadSnapshot, { [ENV.policySnapshot]: snapshotFile() });
    assert.equal(a.ok, false);
    const ledger = a.checks.find((c) => c.name === 'call ledger')!;
    assert.equal(ledger.ok, false);
    assert.match(ledger.detail, /ledger/);
    assert.equal(a.checks.find((c) => c.name === 'call inventory')!.ok, true);
    assert.match(firstFailure(a)!, /^call ledger: /);
  });

  test('a target whose runtime does not answer pings fails: its handler ran instead', async () => {
    const { rt } = runtime({
      answer: async () => ({ statusCode: 200, payload: Buffer.from('{"charged":1}'), executedVersion: '7' }),
    });
    const a = await answerPing(rt, ping, '4', 'orders', loadSnapshot, { [ENV.policySnapshot]: snapshotFile() });
    assert.match(a.checks.find((c) => c.name === 'call inventory')!.detail, /not as a mesh ping/);
  });

  test('a target reached over HTTP is listed as not checked', async () => {
    const { rt, sent } = runtime({
      httpTargets: JSON.stringify({ ledger: { url: 'https://ledger.example.com/', auth: 'iam' } }),
    });
    const a = await answerPing(rt, ping, '4', 'orders', loadSnapshot, { [ENV.policySnapshot]: snapshotFile() });
    assert.equal(a.ok, true);
    assert.match(a.checks.find((c) => c.name === 'call ledger')!.detail, /not checked: reached over HTTP/);
    assert.deepEqual(
      sent.map((r) => r.functionName),
      ['shop-inventory'],
    );
  });

  test('identity: a token that does not verify, and no identity yet, both fail the identity check', async () => {
    const bad = runtime({ identity: async () => verifyingIdentity(false) });
    const a = await answerPing(bad.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    assert.deepEqual(a.checks[0], {
      name: 'identity',
      ok: false,
      detail: 'a token it signs does not verify (untrusted-issuer)',
    });
    const good = runtime({ identity: async () => verifyingIdentity(true) });
    assert.equal(
      (await answerPing(good.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {})).checks[0]!.ok,
      true,
    );
    const missing = runtime({
      identity: async () => ({
        sign: () => {
          throw new MeshIdentityUnavailableError('mesh: payments has no identity yet (secret holds a placeholder)');
        },
        verify: () => ({ ok: false, reason: 'identity-unavailable' }),
      }),
    });
    const m = await answerPing(missing.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    assert.equal(m.ok, false);
    assert.match(m.checks[0]!.detail, /^MeshIdentityUnavailableError: .*no identity yet/);
  });

  test('policy: a table this version cannot read fails; one that admits the caller passes, one that denies it fails', async () => {
    const broken = runtime({
      tableClient: {
        send: async () => {
          throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
        },
      },
    });
    const a = await answerPing(broken.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    assert.deepEqual(a.checks[1], {
      name: 'policy',
      ok: false,
      detail: "table shop-policy cannot be read with this version's role",
    });
    const row = (sk: string, extra: Record<string, { S: string }> = {}) => ({
      pk: { S: 'payments' },
      sk: { S: sk },
      ...extra,
    });
    const table = (...items: Record<string, { S: string }>[]) => ({ send: async () => ({ Items: items }) });
    const fine = runtime({
      tableClient: table(
        row('service', { functionName: { S: 'shop-payments' } }),
        row('allow#orders', { source: { S: 'orders' } }),
      ),
    });
    const b = await answerPing(fine.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    assert.deepEqual(b.checks[1], {
      name: 'policy',
      ok: true,
      detail: 'table shop-policy read (2 items); it admits orders',
    });
    // An operator's deny in the table (a deploy freeze) fails the check; the caller learns no reason.
    const frozen = runtime({
      tableClient: table(
        row('service', { functionName: { S: 'shop-payments' } }),
        row('allow#orders', { source: { S: 'orders' } }),
        row('deny#orders', { source: { S: 'orders' }, reason: { S: 'change freeze' }, managedBy: { S: 'operator' } }),
      ),
    });
    const c = await answerPing(frozen.rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    assert.deepEqual(c.checks[1], {
      name: 'policy',
      ok: false,
      detail: 'the policy in table shop-policy refuses orders',
    });
  });

  test('the policy check reads the partition even when the policy version confirms the copy it holds', async () => {
    // Prepare: a table with a version item; the sandbox read payments (the ping's own authorization)
    const queries: string[] = [];
    const tableClient = {
      send: async (c: unknown) => {
        const input = (c as { input: { Key?: unknown; ExpressionAttributeValues?: Record<string, { S: string }> } })
          .input;
        if (input.Key) return { Item: { ...versionKey(0), b1: { N: '3' } } };
        queries.push(input.ExpressionAttributeValues![':pk'].S);
        return {
          Items: [
            { pk: { S: 'payments' }, sk: { S: 'service' }, functionName: { S: 'shop-payments' } },
            { pk: { S: 'payments' }, sk: { S: 'allow#orders' }, source: { S: 'orders' } },
          ],
        };
      },
    };
    const { rt } = runtime({ tableClient });
    await rt.policy.get('payments');
    assert.deepEqual(queries, ['payments']);
    // Act: the ping comes at once (the version has not moved)
    const a = await answerPing(rt, { v: 1, targets: false }, '4', 'orders', loadSnapshot, {});
    // Assess: a second Query went out, and it is the proof
    assert.deepEqual(queries, ['payments', 'payments']);
    assert.deepEqual(a.checks[1], {
      name: 'policy',
      ok: true,
      detail: 'table shop-policy read (2 items); it admits orders',
    });
  });

  test('an unreadable snapshot fails the targets check; no snapshot means no declared targets', async () => {
    const { rt } = runtime();
    const a = await answerPing(rt, ping, '4', 'orders', loadSnapshot, {
      [ENV.policySnapshot]: '/nonexistent/policy.json',
    });
    assert.equal(a.ok, false);
    assert.equal(a.checks.find((c) => c.name === 'targets')!.ok, false);
    assert.deepEqual(declaredTargets('payments', undefined, loadSnapshot), []);
    assert.deepEqual(declaredTargets('payments', snapshotFile(), loadSnapshot), ['inventory', 'ledger']);
    assert.deepEqual(declaredTargets('orders', snapshotFile(), loadSnapshot), ['payments']);
  });
});
