/**
 * The CLI's pure decisions for an operator: who decides the split (route-guard.ts), what each edge
 * gets and from where (effective-edges.ts), rollback after a promote (promote-record.ts), removing an
 * item (policy-plan.ts planDelete) and a route's versions (published-versions.ts). A compliant and a
 * non-compliant case each.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planPromote } from '../../cli/alias-plan';
import { effectiveEdges, renderEffectiveEdges } from '../../cli/effective-edges';
import { UsageError } from '../../cli/errors';
import { commandWith } from '../../cli/pasteable-command';
import { planDelete } from '../../cli/policy-plan';
import { planRollbackOrUndoPromote, recordedPromote, withPromoteRecord } from '../../cli/promote-record';
import { unpublishedVersions, versionRefs } from '../../cli/published-versions';
import { checkAliasCommand } from '../../cli/route-guard';
import type { RouteItem } from '../../shared/policy';

const AT = new Date('2026-01-02T03:04:05.000Z');

describe('who decides the split (route-guard)', () => {
  it('lets an alias command through without a route item, or with one that has no weights (a note for matches)', () => {
    assert.equal(checkAliasCommand('shift', 'payments', undefined), undefined);
    const matches = { pk: 'payments', sk: 'route', matches: [{ header: 'x-route-a', exact: '1', version: '2' }] };
    assert.match(
      checkAliasCommand('shift', 'payments', matches as RouteItem)!,
      /^note: .*1 header match to their versions first/,
    );
    assert.equal(
      checkAliasCommand('shift', 'payments', { pk: 'payments', sk: 'route', mirror: { version: '2', percent: 5 } }),
      undefined,
    );
  });

  it('refuses while a route item with weights decides, naming it and the command that removes it (--force for a deploy item)', () => {
    const route = { pk: 'payments', sk: 'route', weights: { '1': 1 } } as RouteItem;
    assert.throws(
      () => checkAliasCommand('promote', 'payments', route),
      (e: unknown) =>
        e instanceof UsageError &&
        /payments\/route \(operator\) sets weights v1 100%.*mesh policy delete payments route, then run mesh promote again/.test(
          e.message,
        ),
    );
    assert.throws(
      () => checkAliasCommand('shift', 'payments', { ...route, managedBy: 'deploy' }),
      /delete payments route --force/,
    );
  });
});

describe('what each edge gets, and from where (effective-edges)', () => {
  const items = [
    { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy', timeoutMs: 5000 },
    { pk: 'payments', sk: 'allow#external', source: 'external', managedBy: 'operator' },
    { pk: 'payments', sk: 'route', managedBy: 'operator', weights: { '2': 1 }, mirror: { version: '1', percent: 5 } },
    { pk: 'orders', sk: 'allow#frontend', source: 'frontend', managedBy: 'deploy' },
    { pk: 'orders', sk: 'deny#frontend', source: 'frontend', managedBy: 'operator', reason: 'incident' },
    { pk: 'orders', sk: 'traffic', timeoutMs: 'bad' },
  ];
  const edges = effectiveEdges(items, new Map([['payments', { '1': 90, '2': 10 }]]));

  it('a mesh caller gets the route’s split, a caller outside the mesh the alias’s; a deny decides its edge', () => {
    const mesh = edges.find((e) => e.from === 'orders' && e.to === 'payments')!;
    assert.deepEqual(mesh.split, {
      traffic: { '2': 100 },
      from: 'payments/route (operator)',
      aliasOverridden: { '1': 90, '2': 10 },
      mirror: 'v1 5%',
    });
    const outside = edges.find((e) => e.from === 'external')!;
    assert.deepEqual(outside.split, { traffic: { '1': 90, '2': 10 }, from: 'alias live' });
    assert.equal(outside.settings, undefined);
    const denied = edges.find((e) => e.from === 'frontend')!;
    assert.deepEqual(denied, {
      from: 'frontend',
      to: 'orders',
      state: 'denied',
      decidedBy: 'orders/deny#frontend (operator)',
      reason: 'incident',
    });
  });

  it('renders the settings not at their default with their item, and leaves an invalid item out', () => {
    const text = renderEffectiveEdges(edges);
    assert.match(text, /^orders -> payments {2}allowed by payments\/allow#orders \(deploy\)$/m);
    assert.match(text, /^ {2}timeoutMs +5000 +payments\/allow#orders \(deploy\)$/m);
    assert.match(text, /^frontend -> orders {2}DENIED by orders\/deny#frontend \(operator\): incident$/m);
    assert.doesNotMatch(text, /orders\/traffic/);
  });

  it('a service’s and an edge’s rate limit both apply: each is its own row, from its own item', () => {
    // Prepare: payments limits every caller, and orders alone more tightly; orders also has a fallback.
    const limited = effectiveEdges(
      [
        { pk: 'payments', sk: 'traffic', managedBy: 'deploy', rateLimit: { perSecond: 50 } },
        {
          pk: 'payments',
          sk: 'allow#orders',
          source: 'orders',
          managedBy: 'operator',
          rateLimit: { perSecond: 10, burst: 5 },
          fallback: { version: '1' },
        },
      ],
      new Map(),
    );
    // Act
    const edge = limited.find((e) => e.from === 'orders')!;
    const text = renderEffectiveEdges(limited);
    // Assess
    const setting = (name: string) => edge.settings!.find((s) => s.setting === name);
    assert.deepEqual(setting('rateLimits.traffic')?.value, { perSecond: 50, burst: 50 });
    assert.deepEqual(setting('rateLimits.allow#orders')?.value, { perSecond: 10, burst: 5 });
    assert.match(text, /^ {2}rateLimits\.traffic +\{"perSecond": 50, "burst": 50\} +payments\/traffic \(deploy\)$/m);
    assert.match(
      text,
      /^ {2}rateLimits\.allow#orders +\{"perSecond": 10, "burst": 5\} +payments\/allow#orders \(operator\)$/m,
    );
    assert.match(text, /^ {2}fallback +\{"version": "1"\} +payments\/allow#orders \(operator\)$/m);
  });
});

describe('rollback after a promote (promote-record)', () => {
  const promoted = withPromoteRecord(
    planPromote('payments', 'shop-payments', { functionVersion: '1', weights: { '2': 0.5 } }, ['1', '2']),
    AT,
  );

  it('a promote records the version it replaced; a rollback returns to it and says so', () => {
    assert.equal(promoted.after.description, 'mesh: promoted v2 over v1 at 2026-01-02T03:04:05.000Z');
    const alias = { functionVersion: '2', weights: {}, description: promoted.after.description };
    assert.deepEqual(recordedPromote(alias), { promoted: '2', previous: '1' });
    const back = planRollbackOrUndoPromote('payments', 'shop-payments', alias, ['1', '2'], AT);
    assert.equal(back.change.changed, true);
    assert.deepEqual(back.change.after, {
      functionVersion: '1',
      weights: {},
      description: 'mesh: rolled back from v2 to v1 at 2026-01-02T03:04:05.000Z',
    });
  });

  it('clears a canary weight first; with nothing recorded, or the old version gone, it changes nothing and says how', () => {
    const canary = planRollbackOrUndoPromote(
      'payments',
      'f',
      { functionVersion: '1', weights: { '2': 0.1 } },
      ['1', '2'],
      AT,
    );
    assert.deepEqual(canary.change.after, { functionVersion: '1', weights: {} });
    const none = planRollbackOrUndoPromote('payments', 'f', { functionVersion: '2', weights: {} }, ['1', '2'], AT);
    assert.equal(none.change.changed, false);
    assert.match(none.advice!, /no promote recorded on it.*aws lambda update-alias --function-name f --name live/);
    // Pasted, it goes where the rollback went: the local mesh's endpoint, not the operator's AWS account.
    const local = commandWith({ mesh: 'shop', region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:4566' });
    const there = planRollbackOrUndoPromote(
      'payments',
      'f',
      { functionVersion: '2', weights: {} },
      ['1', '2'],
      AT,
      local,
    );
    assert.match(
      there.advice!,
      / run: `aws lambda update-alias --function-name f --name live --function-version <n> --region eu-west-1 --endpoint-url http:\/\/127\.0\.0\.1:4566` \(other published versions: 1\)$/,
    );
    const gone = planRollbackOrUndoPromote(
      'payments',
      'f',
      { functionVersion: '2', weights: {}, description: 'mesh: promoted v2 over v1 at x' },
      ['2'],
      AT,
    );
    assert.match(gone.advice!, /replaced v1, which is no longer published/);
    assert.equal(
      recordedPromote({ functionVersion: '3', weights: {}, description: 'mesh: promoted v2 over v1 at x' }),
      undefined,
      'a record of an older promote does not count',
    );
  });

  it('promote moves an alias on $LATEST to the newest published version', () => {
    const c = planPromote('inventory', 'f', { functionVersion: '$LATEST', weights: {} }, ['1', '3', '2']);
    assert.equal(c.after.functionVersion, '3');
  });
});

describe('removing an item (planDelete)', () => {
  const existing = [
    { pk: 'payments', sk: 'route', managedBy: 'operator' },
    { pk: 'payments', sk: 'allow#orders', managedBy: 'deploy' },
    { pk: 'breaker#payments', sk: 'breaker#2' },
  ];
  it('removes an operator item, and shared breaker state from its own partition', () => {
    assert.deepEqual(planDelete(existing, 'payments', 'route', false).deletes, [{ pk: 'payments', sk: 'route' }]);
    assert.deepEqual(planDelete(existing, 'payments', 'breaker#2', false).deletes, [
      { pk: 'breaker#payments', sk: 'breaker#2' },
    ]);
  });
  it('a deploy item needs --force and the plan says the next deploy writes it again', () => {
    assert.throws(() => planDelete(existing, 'payments', 'allow#orders', false), /--force` \(nothing was deleted\)/);
    assert.match(planDelete(existing, 'payments', 'allow#orders', true).warnings![0]!, /declared at deploy/);
  });
});

describe('a route names only published versions', () => {
  const route = {
    pk: 'payments',
    sk: 'route',
    weights: { '1': 0.5, '7': 0.5 },
    matches: [{ header: 'x', exact: 'y', version: '2' }],
    mirror: { version: '$LATEST', percent: 1 },
  };
  it('finds every version a route names, by field', () => {
    assert.deepEqual(
      versionRefs(route).map((r) => r.field),
      ['weights.1', 'weights.7', 'matches.0.version', 'mirror.version'],
    );
    assert.deepEqual(versionRefs({ pk: 'payments', sk: 'traffic' }), []);
  });
  it('names those not published, with the published ones', () => {
    assert.equal(
      unpublishedVersions(route, ['1', '2'], 'shop-payments'),
      'payments/route: weights.7 names version "7", mirror.version names version "$LATEST", which are not published; published versions of shop-payments: 1, 2 (never $LATEST)',
    );
    assert.equal(unpublishedVersions(route, ['1', '2', '7', '$LATEST'], 'f'), undefined);
  });
});
