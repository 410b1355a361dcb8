/**
 * Reading the deploy-time snapshot file (functions/mesh/policy/policy-snapshot.ts): each way the
 * file can be wrong gives an error naming the path and the fix; a good file is grouped by service.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { groupSnapshot, loadSnapshot } from '../../functions/mesh/policy/policy-snapshot';

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
});
