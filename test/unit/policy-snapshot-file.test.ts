/**
 * Reading the deploy-time snapshot file (functions/mesh/policy/policy-snapshot.ts): each way the
 * file can be wrong gives an error naming the path and the fix; a good file is grouped by service.
 * Synth seals the items it checked: sealed items are used as they are, and a snapshot whose items no
 * longer match its seal is refused whole, so the function fails closed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { declaredTargets } from '../../functions/mesh/deploy-ping';
import { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { groupSnapshot, loadSnapshot } from '../../functions/mesh/policy/policy-snapshot';
import { sealSnapshot } from '../../shared/snapshot-seal';

describe('policy snapshot file', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-snapshot-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('a missing file: the path, the error code, and what to check', () => {
    const p = join(dir, 'missing.json');
    assert.throws(() => loadSnapshot(p), {
      message: `policy snapshot ${p} cannot be read (ENOENT); check that the snapshot layer is attached or unset MESH_POLICY_SNAPSHOT`,
    });
  });

  it('not JSON: the path, the parser error, and how to rebuild it', () => {
    const p = file('bad.json', '{items');
    assert.throws(
      () => loadSnapshot(p),
      (e: Error) => {
        assert.match(e.message, new RegExp(`^policy snapshot ${p} is not JSON \\(.+\\); rebuild it with cdk synth$`));
        return true;
      },
    );
  });

  it('no items array: the path and the shape expected', () => {
    for (const text of ['null', '[]', '{"items":{}}', '7']) {
      const p = file('shape.json', text);
      assert.throws(() => loadSnapshot(p), {
        message: `policy snapshot ${p} has no "items" array; expected { mesh, generatedAt, items: [...] }`,
      });
    }
  });

  it('a good file is grouped by service, keeping order; items without a string pk are left out', () => {
    const p = file(
      'good.json',
      JSON.stringify({
        mesh: 'shop',
        generatedAt: '2026-01-01T00:00:00Z',
        items: [
          { pk: 'payments', sk: 'service' },
          { pk: 'orders', sk: 'service' },
          { pk: 'payments', sk: 'allow#orders' },
          { pk: 7, sk: 'service' },
          null,
          'payments',
        ],
      }),
    );
    const s = loadSnapshot(p);
    assert.equal(s.generatedAt, '2026-01-01T00:00:00Z');
    assert.deepEqual(s.services, ['payments', 'orders']);
    assert.deepEqual(
      s.itemsOf('payments')?.map((i) => (i as { sk: string }).sk),
      ['service', 'allow#orders'],
    );
    assert.deepEqual(groupSnapshot({ mesh: 'shop', generatedAt: '', items: [] }).services, []);
  });

  const sealed = () =>
    sealSnapshot({
      mesh: 'shop',
      generatedAt: '2026-01-01T00:00:00Z',
      items: [
        { pk: 'payments', sk: 'service', functionName: 'shop-payments', managedBy: 'deploy' },
        // An undefined field, as a checked item may carry: left out of the file and of the digest alike.
        { pk: 'payments', sk: 'allow#orders', source: 'orders', weights: undefined, timeoutMs: 1500 },
      ],
    });

  it('a sealed file whose items match their seal is used as it is', () => {
    // Prepare: written as synth writes it (indented), read back
    const p = file('sealed.json', JSON.stringify(sealed(), null, 1));
    // Act
    const s = loadSnapshot(p);
    // Assess
    assert.equal(s.sealed, true);
    assert.equal(s.itemsOf('payments')?.length, 2);
    const plain = { ...sealed(), itemsDigest: undefined, partitions: undefined };
    assert.equal(loadSnapshot(file('plain.json', JSON.stringify(plain))).sealed, false);
  });

  it('a file sealed whole only (an older synth) changed after synth: refused whole at load, naming the path and the fix', () => {
    // Prepare: a valid item added by hand after the seal
    const s = { ...sealed(), partitions: undefined };
    const p = file(
      'edited.json',
      JSON.stringify({ ...s, items: [...s.items, { pk: 'payments', sk: 'allow#x', source: 'x' }] }),
    );
    // Act, Assess
    assert.throws(() => loadSnapshot(p), {
      message:
        `policy snapshot ${p}: its items do not match the itemsDigest synth sealed them with (${s.itemsDigest}), ` +
        'so it was changed after cdk synth checked it and none of it is used; rebuild it with cdk synth',
    });
  });

  /** Three services, as synth seals them; `edit` changes the parsed file before it is written. */
  let files = 0;
  const threeServices = (edit: (s: Record<string, unknown> & { items: object[] }) => void = () => undefined) => {
    const s = sealSnapshot({
      mesh: 'shop',
      generatedAt: '2026-01-01T00:00:00Z',
      items: [
        { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
        { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
        { pk: 'payments', sk: 'allow#orders', source: 'orders' },
        { pk: 'ledger', sk: 'allow#payments', source: 'payments' },
      ],
    });
    const copy = JSON.parse(JSON.stringify(s));
    edit(copy);
    files += 1;
    return file(`three-${files}.json`, JSON.stringify(copy, null, 1));
  };

  it('partitions that are not an object: the snapshot is sealed whole, or not at all', () => {
    const whole = { ...sealed(), partitions: null };
    assert.equal(loadSnapshot(file('whole.json', JSON.stringify(whole))).itemsOf('payments')?.length, 2);
    const plain = loadSnapshot(file('none.json', JSON.stringify({ ...whole, itemsDigest: undefined })));
    assert.equal(plain.sealed, false);
  });

  it("synth seals each service's items on their own: one run of items per service, in their order", () => {
    const s = JSON.parse(JSON.stringify(sealSnapshot({ mesh: 'shop', generatedAt: '', items: [] })));
    assert.deepEqual(s.partitions, {});
    const p = JSON.parse(readFileSync(threeServices(), 'utf8'));
    assert.deepEqual(
      p.items.map((i: { pk: string; sk: string }) => `${i.pk}/${i.sk}`),
      ['payments/service', 'payments/allow#orders', 'orders/service', 'ledger/allow#payments'],
    );
    assert.deepEqual(
      Object.entries(p.partitions).map(([k, v]) => [k, (v as { at: number }).at, (v as { count: number }).count]),
      [
        ['payments', 0, 2],
        ['orders', 2, 1],
        ['ledger', 3, 1],
      ],
    );
    assert.throws(() => sealSnapshot({ items: [{ sk: 'service' }] }), /every item needs a string pk.*"sk":"service"/);
  });

  it("sealed per service: a service's seal is compared when its items are first read, and no other", () => {
    // Prepare: orders' item changed after synth
    const p = threeServices((s) => {
      (s.items[2] as { functionName: string }).functionName = 'elsewhere';
    });
    // Act
    const s = loadSnapshot(p);
    const payments = s.itemsOf('payments');
    // Assess
    assert.equal(s.sealed, true);
    assert.deepEqual(s.services, ['payments', 'orders', 'ledger']);
    assert.equal(payments?.length, 2);
    assert.equal(s.itemsOf('payments'), payments, 'read once');
    assert.equal(s.itemsOf('ledger')?.length, 1);
    const digest = JSON.parse(readFileSync(p, 'utf8')).partitions.orders.digest;
    assert.throws(() => s.itemsOf('orders'), {
      message:
        `policy snapshot ${p}: the items of orders do not match the seal synth wrote for them (${digest}), ` +
        'so it was changed after cdk synth checked it and none of it is used; rebuild it with cdk synth',
    });
    for (const unknown of ['inventory', 'constructor', '__proto__']) assert.equal(s.itemsOf(unknown), undefined);
  });

  /** An edit of `threeServices` that changes where the seals say services' items are. */
  const moveRuns =
    (runs: Record<string, { at?: number; count?: number }>) => (s: Record<string, unknown> & { items: object[] }) => {
      const parts = s.partitions as Record<string, object>;
      for (const [service, run] of Object.entries(runs)) Object.assign(parts[service]!, run);
    };

  it('sealed per service: items no longer where the seals say are refused at load', () => {
    const edits: [string, (s: Record<string, unknown> & { items: object[] }) => void][] = [
      ['an item added', (s) => s.items.push({ pk: 'ledger', sk: 'allow#x', source: 'x' })],
      ['an item removed', (s) => s.items.pop()],
      ['a gap', moveRuns({ orders: { at: 3 } })],
      ['an overlap', moveRuns({ payments: { count: 3 } })],
      [
        'an empty run, the next one moved to cover its item',
        moveRuns({ orders: { count: 0 }, ledger: { at: 2, count: 2 } }),
      ],
      ['runs of half items', moveRuns({ payments: { count: 1.5 }, orders: { at: 1.5, count: 1.5 } })],
      ['a service left out', (s) => delete (s.partitions as Record<string, unknown>).ledger],
      ['a seal that is not an object', (s) => ((s.partitions as Record<string, unknown>).ledger = 1)],
      ['a seal that is null', (s) => ((s.partitions as Record<string, unknown>).ledger = null)],
    ];
    for (const [name, edit] of edits) {
      const p = threeServices(edit);
      assert.throws(
        () => loadSnapshot(p),
        {
          message:
            `policy snapshot ${p}: its items are not where the seals synth wrote for each service say, ` +
            'so it was changed after cdk synth checked it and none of it is used; rebuild it with cdk synth',
        },
        name,
      );
    }
  });

  it('a function whose sealed snapshot was changed fails closed, and its log says why', async () => {
    // Prepare: one number changed in the file synth wrote, no policy table
    const text = JSON.stringify(sealed(), null, 1).replace('1500', '1600');
    const p = file('damaged.json', text);
    const warnings: string[] = [];
    const cache = new PolicyCache({ snapshotPath: p, env: {}, log: (l) => warnings.push(l) });
    // Act
    const policy = await cache.get('payments');
    const res = cache.authorize(policy, 'orders');
    // Assess
    assert.equal(policy.origin, 'none');
    assert.equal(!res.allowed && res.reason, 'unknown-service');
    assert.equal(warnings.length, 1);
    const w = JSON.parse(warnings[0]!);
    assert.equal(w.msg, 'mesh policy: no snapshot and no policy table; every call is refused');
    assert.match(w.error, /the items of payments do not match the seal synth wrote for them/);
  });

  it('an item nested past the stack in a snapshot made by hand is refused by name; the others are used', async () => {
    // Prepare: no seal (made by hand), a traffic item whose retries nest 100,000 deep (JSON.parse reads
    // that; writing the value into the refusal overflowed the stack, and every call's policy read threw).
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const items = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
      { pk: 'payments', sk: 'traffic', retries: deep },
    ];
    const invalid: string[] = [];
    const cache = new PolicyCache({
      snapshot: { mesh: 'shop', generatedAt: '2024-01-01T00:00:00.000Z', items },
      env: {},
      log: () => undefined,
      onInvalidItem: (inv) => invalid.push(inv.error),
    });
    // Act
    const policy = await cache.get('payments');
    // Assess
    assert.equal(cache.authorize(policy, 'orders').allowed, true);
    assert.equal(policy.traffic, undefined);
    assert.deepEqual(invalid, ['payments/traffic: retries = (nested too deep to show) has unknown field a; remove it']);
  });

  it("one service's broken seal drops the whole snapshot: what was read before stays, nothing more is read from it", async () => {
    // Prepare: orders' item changed after synth
    const p = threeServices((s) => {
      (s.items[2] as { functionName: string }).functionName = 'elsewhere';
    });
    const warnings: string[] = [];
    const cache = new PolicyCache({ snapshotPath: p, env: {}, log: (l) => warnings.push(l) });
    // Act
    const payments = await cache.get('payments');
    const orders = await cache.get('orders');
    const ledger = await cache.get('ledger');
    // Assess
    assert.equal(payments.origin, 'snapshot');
    assert.equal(cache.authorize(payments, 'orders').allowed, true);
    assert.equal(orders.origin, 'none');
    assert.equal(ledger.origin, 'none', 'intact, but in a snapshot that was dropped');
    assert.equal(warnings.length, 1);
    assert.match(JSON.parse(warnings[0]!).error, /the items of orders do not match the seal/);
  });

  it("a deployment's ping reads every service's items, so a broken seal anywhere fails its check", () => {
    const p = threeServices((s) => {
      (s.items[3] as { source: string }).source = 'orders';
    });
    assert.deepEqual(declaredTargets('payments', threeServices(), loadSnapshot), ['ledger']);
    assert.throws(() => declaredTargets('payments', p, loadSnapshot), /the items of ledger do not match the seal/);
  });
});
