/**
 * Sticky routing and weights of zero (routing/sticky-hash.ts, route-choice.ts): a version weighted 0
 * takes no sticky key, even when it is the only one left, so an operator who drains a version to 0
 * sees it drained; with nothing left the call goes to the alias.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRoute } from '../../functions/mesh/routing/route-choice';
import { hash53, rendezvousPick, unitHash } from '../../functions/mesh/routing/sticky-hash';
import type { RouteItem } from '../../shared/policy';

const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
const route = (weights: Record<string, number>) =>
  ({ pk: 'payments', sk: 'route', weights, sticky: { header: 'x-user' } }) as RouteItem;

describe('sticky routing with zero weights', () => {
  it('never picks a version weighted 0, even as the last one not ejected', () => {
    for (const k of keys) {
      assert.equal(rendezvousPick(k, { '1': 0, '2': 1 }), '2');
      assert.equal(rendezvousPick(k, { '1': 0, '2': 1 }, new Set(['2'])), undefined);
      assert.equal(rendezvousPick(k, { '1': 0 }), undefined);
      assert.equal(rendezvousPick(k, { '1': -1, '2': Number.NaN }), undefined);
    }
  });

  it('a drained version gets no sticky call; with every weighted version ejected the alias takes it', () => {
    for (const k of keys) {
      assert.deepEqual(chooseRoute({ target: 'payments', route: route({ '1': 0, '2': 1 }), stickyKey: k }), {
        qualifier: '2',
        version: '2',
        reason: 'sticky',
      });
      assert.deepEqual(
        chooseRoute({ target: 'payments', route: route({ '1': 0, '2': 1 }), stickyKey: k, ejected: new Set(['2']) }),
        { qualifier: 'live', reason: 'alias', fallback: 'all-ejected' },
      );
    }
  });

  it('an empty sticky key is no key: the weights decide', () => {
    const choice = chooseRoute({ target: 'payments', route: route({ '3': 1 }), headers: { 'x-user': '' } });
    assert.equal(choice.reason, 'weighted');
  });
});

describe('the sticky hash', () => {
  it("is cyrb53: bryc's published values for seed 0", () => {
    assert.equal(hash53('a'), 7929297801672961);
    assert.equal(hash53('b'), 8684336938537663);
    assert.equal(hash53('revenge'), 4051478007546757);
    assert.equal(hash53('revenue'), 8309097637345594);
  });

  it('maps hash h to the middle of its cell, (h + 0.5) / 2^53, never 0 nor 1', () => {
    // Under 2^52 the half is exact in a double, so the offset reads back exactly.
    const h = hash53('revenge');
    assert.ok(h < 2 ** 52);
    assert.equal(unitHash('revenge') * 2 ** 53 - h, 0.5);
  });

  it('lets a heavier version win over a lighter one whatever their order or names', () => {
    // b scores far above a for any hash; a first-seen b must not give way to a because "a" < "b".
    for (const k of keys) {
      assert.equal(rendezvousPick(k, { b: 1e6, a: 1e-6 }), 'b');
      assert.equal(rendezvousPick(k, { a: 1e-6, b: 1e6 }), 'b');
    }
  });

  it('breaks an exact tie on the version text, whatever the key order', () => {
    // Prepare: weights that give a and b the very same score for these keys (-w / ln(u) equal).
    let ties = 0;
    for (const k of keys) {
      const ua = unitHash(`${k}\u0000a`);
      const ub = unitHash(`${k}\u0000b`);
      const wb = Math.log(ub) / Math.log(ua);
      if (-wb / Math.log(ub) !== -1 / Math.log(ua)) continue;
      ties++;
      // Act and assess: a wins in either order.
      assert.equal(rendezvousPick(k, { a: 1, b: wb }), 'a');
      assert.equal(rendezvousPick(k, { b: wb, a: 1 }), 'a');
    }
    assert.ok(ties >= 20, `only ${ties} exact ties among ${keys.length} keys`);
  });
});
