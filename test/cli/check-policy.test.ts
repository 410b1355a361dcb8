/**
 * The rows of `mesh check` over the whole mesh (cli/commands/check-policy.ts) and the IAM reading
 * they rest on (check-iam.ts): a compliant and a non-compliant case each, and the commands each
 * failure prints.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invokeGrants, roleNameOf } from '../../cli/commands/check-iam';
import {
  checkAllowedEdges,
  checkDeclaredEdges,
  checkItems,
  checkSplitSource,
  type MeshFacts,
} from '../../cli/commands/check-policy';
import { commandWith } from '../../cli/pasteable-command';
import type { RawItem } from '../../cli/policy-plan';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

function facts(items: RawItem[], grants: Record<string, string[]> = { orders: ['shop-payments'] }): MeshFacts {
  return {
    items,
    functions: new Map([
      ['orders', 'shop-orders'],
      ['payments', 'shop-payments'],
    ]),
    versions: new Map([
      ['orders', ['1']],
      ['payments', ['1', '2']],
    ]),
    grants: new Map(Object.entries(grants).map(([s, fns]) => [s, { functions: new Set(fns), any: false }])),
    command: commandWith({ endpointUrl: 'http://127.0.0.1:4566' }),
  };
}

const allow = { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' };

describe('mesh check: policy items', () => {
  it('passes valid items that name published versions', () => {
    const v = checkItems({
      service: 'payments',
      mesh: facts([allow, { pk: 'payments', sk: 'route', weights: { '2': 1 } }]),
    });
    assert.equal(v.status, 'pass');
  });

  it('fails an item the schema refuses, and one naming a version that is not published, with the command that removes each', () => {
    const v = checkItems({
      service: 'payments',
      mesh: facts([
        { pk: 'payments', sk: 'route', weights: { '1': 0.8, '7': 0.2 }, managedBy: 'operator' },
        { pk: 'payments', sk: 'traffic', timeoutMs: -1, managedBy: 'deploy' },
      ]),
    });
    assert.equal(v.status, 'fail');
    assert.match(
      v.detail!,
      /weights\.7 names version "7", which is not published; published versions of shop-payments: 1, 2/,
    );
    assert.match(v.detail!, /payments\/traffic: timeoutMs = -1 must be between 1 and 900000/);
    assert.deepEqual(v.commands, [
      'mesh policy delete payments route --endpoint-url http://127.0.0.1:4566',
      'mesh policy delete payments traffic --force --endpoint-url http://127.0.0.1:4566',
    ]);
  });

  it('skips when the table could not be read', () => {
    assert.equal(
      checkItems({ service: 'payments', mesh: { ...facts([]), items: undefined, itemsError: 'gone' } }).status,
      'skip',
    );
  });
});

describe('mesh check: the two walls of each edge', () => {
  it('passes an edge granted in IAM and allowed by the table', () => {
    assert.equal(checkDeclaredEdges({ service: 'orders', mesh: facts([allow]) }).status, 'pass');
    assert.equal(checkAllowedEdges({ service: 'orders', mesh: facts([allow]) }).status, 'pass');
  });

  it('fails an edge IAM grants that the table denies (allow item deleted, or a deny), with the allow command', () => {
    for (const items of [[], [allow, { pk: 'payments', sk: 'deny#orders', source: 'orders', managedBy: 'operator' }]]) {
      const v = checkDeclaredEdges({ service: 'orders', mesh: facts(items) });
      assert.equal(v.status, 'fail');
      assert.match(v.detail!, /IAM lets orders invoke payments, but the table denies it .*every call is refused/);
      assert.deepEqual(v.commands, ['mesh policy allow orders payments --endpoint-url http://127.0.0.1:4566']);
    }
  });

  it('a malformed deny still denies (the runtime fails closed)', () => {
    const v = checkDeclaredEdges({
      service: 'orders',
      mesh: facts([allow, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 3 }]),
    });
    assert.equal(v.status, 'fail');
  });

  it('fails an edge the table allows that IAM does not grant, with the command that removes the allow', () => {
    const v = checkAllowedEdges({ service: 'orders', mesh: facts([allow], { orders: [] }) });
    assert.equal(v.status, 'fail');
    assert.match(v.detail!, /the table allows orders -> payments, but IAM does not let orders invoke payments/);
    assert.deepEqual(v.commands, [
      'mesh policy delete payments allow#orders --force --endpoint-url http://127.0.0.1:4566',
    ]);
  });

  it('passes an edge through a channel: the consumer allows a sender it is not invoked by', () => {
    // payments consumes the `charges` queue orders sends to; orders may not invoke payments.
    const channels = new Map<string, { out: string[]; in: string[] }>([['orders', { out: ['charges'], in: [] }]]);
    const m = { ...facts([allow], { orders: [] }), channels };
    assert.equal(checkAllowedEdges({ service: 'orders', mesh: m }).status, 'fail', 'no consumer: still an Invoke edge');
    channels.set('payments', { out: [], in: ['charges'] });
    assert.equal(checkAllowedEdges({ service: 'orders', mesh: m }).status, 'pass');
  });

  it('warns, without failing, when IAM cannot be read', () => {
    const m = { ...facts([allow]), grants: new Map([['orders', new Error('AccessDenied')]]) };
    assert.equal(checkDeclaredEdges({ service: 'orders', mesh: m }).status, 'warn');
  });
});

describe('mesh check: who decides the split', () => {
  const route = { pk: 'payments', sk: 'route', weights: { '1': 1 }, managedBy: 'operator' };
  it('passes a route without a canary on the alias, and an alias without a route', () => {
    assert.equal(
      checkSplitSource({ service: 'payments', alias: { functionVersion: '1', weights: {} }, mesh: facts([route]) })
        .status,
      'pass',
    );
    assert.equal(
      checkSplitSource({ service: 'payments', alias: { functionVersion: '1', weights: { '2': 0.5 } }, mesh: facts([]) })
        .status,
      'pass',
    );
  });

  it('warns when a route item overrides a canary weight on the alias, with the command that removes it', () => {
    const v = checkSplitSource({
      service: 'payments',
      alias: { functionVersion: '1', weights: { '2': 0.5 } },
      mesh: facts([route]),
    });
    assert.equal(v.status, 'warn');
    assert.match(v.detail!, /reaches only callers outside the mesh/);
    assert.deepEqual(v.commands, ['mesh policy delete payments route --endpoint-url http://127.0.0.1:4566']);
  });
});

describe('reading IAM grants', () => {
  it('counts Allow statements that cover lambda:InvokeFunction, by function name, any qualifier', () => {
    const g = invokeGrants([
      {
        Statement: [
          { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [`${fn('shop-payments')}:*`] },
          { Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: `${fn('shop-payments')}:$LATEST` },
          { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: fn('shop-audit') },
          { Effect: 'Allow', Action: 'lambda:Invoke*', Resource: fn('shop-inventory') },
        ],
      },
    ]);
    assert.deepEqual([...g.functions].sort(), ['shop-inventory', 'shop-payments']);
    assert.equal(g.any, false);
    assert.equal(invokeGrants([{ Statement: { Effect: 'Allow', Action: 'lambda:*', Resource: '*' } }]).any, true);
  });

  it('names the role of a role ARN, with or without a path', () => {
    assert.equal(roleNameOf('arn:aws:iam::1:role/shop-orders-role'), 'shop-orders-role');
    assert.equal(roleNameOf('arn:aws:iam::1:role/service/x/r1'), 'r1');
    assert.equal(roleNameOf('nope'), undefined);
  });
});
