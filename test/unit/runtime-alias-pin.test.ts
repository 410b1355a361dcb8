/** pinBehindAlias: pin to a healthy version seen behind the alias only while a seen version is ejected. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AliasVersions, pinBehindAlias, saw } from '../../functions/mesh/routing/alias-pin';

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

test("a client's turn moves on with each pin, so healthy versions alternate", () => {
  const versions = new AliasVersions();
  const seen = set('1', '2', '3');
  assert.deepEqual(
    [0, 1, 2, 3].map(() => versions.pin(seen, set('2'))),
    ['1', '3', '1', '3'],
  );
});

test('keeps the versions seen per target and alias apart', () => {
  const versions = new AliasVersions();
  saw(versions.seen('payments', 'live'), '3');
  assert.deepEqual([...versions.seen('payments', 'live')], ['3']);
  assert.deepEqual([...versions.seen('orders', 'live')], [], 'another target');
  assert.deepEqual([...versions.seen('payments', 'canary')], [], 'another alias');
  assert.equal(versions.seen('payments', 'live'), versions.seen('payments', 'live'), 'one set, kept');
});

test('remembers the two versions seen last, least recent first', () => {
  const seen = new Set<string>();
  saw(seen, '1');
  saw(seen, '2');
  saw(seen, '1');
  assert.deepEqual([...seen], ['2', '1'], 'seeing 1 again makes it the most recent');
  saw(seen, '3');
  assert.deepEqual([...seen], ['1', '3'], 'a third version drops the least recent (2)');
});
