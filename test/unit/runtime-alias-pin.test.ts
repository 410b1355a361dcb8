/** pinBehindAlias: pin to a healthy version seen behind the alias only while a seen version is ejected. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pinBehindAlias } from '../../functions/mesh/routing/alias-pin';

const set = (...v: string[]) => new Set(v);

test('nothing ejected, or only one version seen: the alias', () => {
  assert.equal(pinBehindAlias(set('1', '2'), set(), 0), undefined);
  assert.equal(pinBehindAlias(set('2'), set('2'), 0), undefined, 'no healthy version seen: keep the alias');
  assert.equal(
    pinBehindAlias(set('1', '2'), set('3'), 0),
    undefined,
    'an ejected version not behind this alias changes nothing',
  );
});

test('a seen version ejected: the healthy one(s), taking turns', () => {
  assert.equal(pinBehindAlias(set('1', '2'), set('2'), 0), '1');
  assert.equal(pinBehindAlias(set('1', '2'), set('2'), 7), '1');
  assert.deepEqual(
    [0, 1, 2].map((t) => pinBehindAlias(set('1', '2', '3'), set('2'), t)),
    ['1', '3', '1'],
  );
  assert.equal(
    pinBehindAlias(set('1', '2'), set('1', '2'), 0),
    undefined,
    'every seen version ejected: the alias (its own breaker guards it)',
  );
});
