/**
 * Sticky routing and weights of zero (routing/sticky-hash.ts, route-choice.ts): a version weighted 0
 * takes no sticky key, even when it is the only one left, so an operator who drains a version to 0
 * sees it drained; with nothing left the call goes to the alias.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRoute } from '../../functions/mesh/routing/route-choice';
import { rendezvousPick } from '../../functions/mesh/routing/sticky-hash';
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
