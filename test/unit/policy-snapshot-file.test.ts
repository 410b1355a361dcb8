/**
 * Reading the deploy-time snapshot file (functions/mesh/policy/policy-snapshot.ts): each way the
 * file can be wrong gives an error naming the path and the fix; a good file is grouped by service.
 * Synth seals the items it checked: sealed items are used as they are, and a snapshot whose items no
 * longer match its seal is refused whole, so the function fails closed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
    assert.deepEqual([...s.byService.keys()], ['payments', 'orders']);
    assert.deepEqual(
      s.byService.get('payments')?.map((i) => (i as { sk: string }).sk),
      ['service', 'allow#orders'],
    );
    assert.equal(groupSnapshot({ mesh: 'shop', generatedAt: '', items: [] }).byService.size, 0);
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
    assert.equal(s.byService.get('payments')?.length, 2);
    assert.equal(
      loadSnapshot(file('plain.json', JSON.stringify({ ...sealed(), itemsDigest: undefined }))).sealed,
      false,
    );
  });

  it('a sealed file changed after synth: refused whole, naming the path and the fix', () => {
    // Prepare: a valid item added by hand after the seal
    const s = sealed();
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
    assert.match(w.error, /its items do not match the itemsDigest synth sealed them with/);
  });
});
