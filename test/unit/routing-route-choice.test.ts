import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerValue } from '../../functions/mesh/header-value';
import { chooseMirror, chooseRoute, RouteBalancers } from '../../functions/mesh/routing/route-choice';
import { rendezvousPick, unitHash } from '../../functions/mesh/routing/sticky-hash';
import { LIVE_ALIAS } from '../../shared/names';
import type { RouteItem } from '../../shared/policy';

function route(fields: Partial<RouteItem>): RouteItem {
  return { pk: 'payments', sk: 'route', ...fields } as RouteItem;
}

const keys = Array.from({ length: 5_000 }, (_, i) => `user-${i}`);

describe('chooseRoute', () => {
  it('uses the live alias when the target has no route item', () => {
    assert.deepEqual(chooseRoute({ target: 'payments', route: undefined }), { qualifier: LIVE_ALIAS, reason: 'alias' });
  });

  it('uses the alias when the route item has matches but no weights and nothing matches', () => {
    const r = route({ matches: [{ header: 'x-canary', exact: 'yes', version: '2' }] });
    assert.deepEqual(chooseRoute({ target: 'payments', route: r, headers: { 'x-canary': 'no' } }), {
      qualifier: LIVE_ALIAS,
      reason: 'alias',
    });
  });

  it('takes the first matching header rule (exact and prefix), case-insensitive on the header name', () => {
    // Prepare
    const r = route({
      weights: { '1': 1 },
      matches: [
        { header: 'X-Tenant', prefix: 'beta-', version: '3' },
        { header: 'x-canary', exact: 'yes', version: '2' },
      ],
    });
    const b = new RouteBalancers();
    // Act
    const byPrefix = chooseRoute({
      target: 'payments',
      route: r,
      headers: { 'x-tenant': 'beta-7', 'x-canary': 'yes' },
      balancers: b,
    });
    const byExact = chooseRoute({ target: 'payments', route: r, headers: { 'X-Canary': 'yes' }, balancers: b });
    const exactIsExact = chooseRoute({ target: 'payments', route: r, headers: { 'x-canary': 'yes!' }, balancers: b });
    // Assess
    assert.deepEqual(byPrefix, { qualifier: '3', version: '3', reason: 'match' });
    assert.deepEqual(byExact, { qualifier: '2', version: '2', reason: 'match' });
    assert.deepEqual(exactIsExact, { qualifier: '1', version: '1', reason: 'weighted' });
  });

  it('lets a match on an ejected version fall through to the weights', () => {
    const r = route({ weights: { '1': 0.5, '3': 0.5 }, matches: [{ header: 'x-canary', exact: 'yes', version: '2' }] });
    const choice = chooseRoute({
      target: 'payments',
      route: r,
      headers: { 'x-canary': 'yes' },
      ejected: new Set(['2']),
      balancers: new RouteBalancers(),
    });
    assert.equal(choice.reason, 'weighted');
    assert.notEqual(choice.version, '2');
  });

  it('sends the same sticky key to the same version, call after call', () => {
    const r = route({ weights: { '1': 0.7, '2': 0.2, '3': 0.1 }, sticky: { header: 'x-user' } });
    const b = new RouteBalancers();
    for (const key of keys.slice(0, 500)) {
      const first = chooseRoute({ target: 'payments', route: r, headers: { 'x-user': key }, balancers: b });
      for (let i = 0; i < 3; i++) {
        const again = chooseRoute({ target: 'payments', route: r, headers: { 'x-user': key }, balancers: b });
        assert.deepEqual(again, first);
      }
      assert.equal(first.reason, 'sticky');
    }
  });

  it('prefers the call option stickyKey over the sticky header', () => {
    const r = route({ weights: { '1': 0.5, '2': 0.5 }, sticky: { header: 'x-user' } });
    // find a pair of keys that land on different versions, then check the option wins
    const a = keys.find((k) => rendezvousPick(k, r.weights!) === '1')!;
    const b = keys.find((k) => rendezvousPick(k, r.weights!) === '2')!;
    const choice = chooseRoute({ target: 'payments', route: r, headers: { 'x-user': a }, stickyKey: b });
    assert.equal(choice.version, '2');
  });

  it('spreads sticky keys in proportion to the weights', () => {
    const weights = { '1': 0.7, '2': 0.2, '3': 0.1 };
    const counts: Record<string, number> = { '1': 0, '2': 0, '3': 0 };
    for (const key of keys) counts[rendezvousPick(key, weights)!]++;
    for (const [v, w] of Object.entries(weights)) {
      const share = counts[v] / keys.length;
      assert.ok(Math.abs(share - w) < 0.03, `version ${v}: ${share} of keys, weight ${w}`);
    }
  });

  it('moves only the keys of an ejected version, and spreads them over the others', () => {
    // Prepare
    const r = route({ weights: { '1': 0.5, '2': 0.3, '3': 0.2 }, sticky: { header: 'x-user' } });
    const before = new Map(keys.map((k) => [k, chooseRoute({ target: 'payments', route: r, stickyKey: k }).version]));
    // Act
    const after = new Map(
      keys.map((k) => [
        k,
        chooseRoute({ target: 'payments', route: r, stickyKey: k, ejected: new Set(['2']) }).version,
      ]),
    );
    // Assess
    let movedTo1 = 0;
    let movedTo3 = 0;
    for (const k of keys) {
      if (before.get(k) !== '2') assert.equal(after.get(k), before.get(k), `key ${k} moved although its version is up`);
      else if (after.get(k) === '1') movedTo1++;
      else if (after.get(k) === '3') movedTo3++;
      else assert.fail(`key ${k} stayed on ejected version 2`);
    }
    assert.ok(movedTo1 > 0 && movedTo3 > 0);
    // 2's keys follow the remaining weights, 0.5 : 0.2
    const shareTo1 = movedTo1 / (movedTo1 + movedTo3);
    assert.ok(Math.abs(shareTo1 - 0.5 / 0.7) < 0.05, `share of moved keys to 1: ${shareTo1}`);
  });

  it('uses smooth weighted round-robin without a sticky key, keeping state per target', () => {
    const r = route({ weights: { '1': 0.9, '2': 0.1 } });
    const b = new RouteBalancers();
    const picks = Array.from({ length: 10 }, () => chooseRoute({ target: 'payments', route: r, balancers: b }));
    assert.ok(picks.every((p) => p.reason === 'weighted' && p.qualifier === p.version));
    assert.equal(picks.filter((p) => p.version === '2').length, 1);
    // another target with the same weights has its own cycle
    const other = chooseRoute({ target: 'orders', route: { ...r, pk: 'orders' }, balancers: b });
    assert.equal(other.version, picks[0].version);
  });

  it('keeps the cycle when the route is re-read with the same weights (a new object)', () => {
    const b = new RouteBalancers();
    const picks = Array.from(
      { length: 10 },
      () =>
        chooseRoute({ target: 'payments', route: route({ weights: { '1': 0.9, '2': 0.1 } }), balancers: b }).version,
    );
    assert.equal(picks.filter((v) => v === '2').length, 1);
  });

  it('restarts the cycle when the weights change', () => {
    const b = new RouteBalancers();
    chooseRoute({ target: 'payments', route: route({ weights: { '1': 0.5, '2': 0.5 } }), balancers: b });
    const after = Array.from(
      { length: 4 },
      () =>
        chooseRoute({ target: 'payments', route: route({ weights: { '1': 0.25, '2': 0.75 } }), balancers: b }).version,
    );
    assert.deepEqual(after.filter((v) => v === '2').length, 3);
  });

  it('falls back to the alias, and says so, when every weighted version is ejected', () => {
    const r = route({ weights: { '1': 0.9, '2': 0.1 }, sticky: { header: 'x-user' } });
    const ejected = new Set(['1', '2']);
    const weighted = chooseRoute({ target: 'payments', route: r, ejected, balancers: new RouteBalancers() });
    const sticky = chooseRoute({ target: 'payments', route: r, ejected, stickyKey: 'user-1' });
    const expected = { qualifier: LIVE_ALIAS, reason: 'alias', fallback: 'all-ejected' };
    assert.deepEqual(weighted, expected);
    assert.deepEqual(sticky, expected);
  });

  it('never matches a rule that names neither an exact value nor a prefix', () => {
    const r = route({ weights: { '1': 1 }, matches: [{ header: 'x-canary', version: '2' }] });
    const choice = chooseRoute({ target: 'payments', route: r, headers: { 'x-canary': 'yes' } });
    assert.deepEqual(choice, { qualifier: '1', version: '1', reason: 'weighted' });
  });

  it("uses the service's own alias when one is given", () => {
    assert.equal(chooseRoute({ target: 'payments', route: undefined, alias: 'prod' }).qualifier, 'prod');
  });
});

describe('routing helpers', () => {
  it('mirrors the configured percent of calls to the shadow version', () => {
    const r = route({ mirror: { version: '4', percent: 10 } });
    assert.equal(
      chooseMirror(r, () => 0.05),
      '4',
    );
    assert.equal(
      chooseMirror(r, () => 0.1),
      undefined,
    );
    assert.equal(
      chooseMirror(route({}), () => 0),
      undefined,
    );
  });

  it('mirrors nothing at 0 percent, without drawing a random number', () => {
    const r = route({ mirror: { version: '4', percent: 0 } });
    assert.equal(
      chooseMirror(r, () => assert.fail('a 0% mirror must not draw')),
      undefined,
    );
  });

  it('reads the first value of a repeated header', () => {
    assert.equal(headerValue({ 'X-User': ['a', 'b'] }, 'x-user'), 'a');
    assert.equal(headerValue(undefined, 'x-user'), undefined);
    assert.equal(headerValue({}, 'constructor'), undefined, 'never a prototype property');
  });

  it('hashes into the open interval (0, 1)', () => {
    for (const k of keys.slice(0, 1000)) {
      const u = unitHash(k);
      assert.ok(u > 0 && u < 1);
    }
  });
});
