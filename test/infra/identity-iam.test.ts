/**
 * IAM is the outer wall (GIVEN the example shop, WHEN synthesized, THEN): every role may invoke exactly
 * the targets its edges declare, read as IAM reads a policy (wildcard actions and resources, NotAction,
 * inline and managed policies: see invoke-grants.ts), the identity grants add no invoke right, and a perfectly valid
 * identity token for an undeclared edge (frontend -> payments) is not enough: IAM does not grant the
 * Invoke and no policy item allows it, so the token never even reaches the callee's check.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { attachMeshIdentity } from '../../infra/private/identity';
import { ShopStack } from '../../infra/shop-stack';
import { SORT_KEY } from '../../shared/names';
import { identityOf } from '../support/identity-fixture';
import { tempDir } from '../support/temp-dir';
import { type IamStatement, logicalIdOf } from './infra-fixture';
import {
  functionNamesOf,
  type InvokeGrants,
  invokeGrants,
  statementsForRole,
  unknownManagedPolicies,
} from './invoke-grants';

describe('identity cannot widen IAM', () => {
  let stack: ShopStack;
  let t: Template;
  /** service -> what its role may invoke */
  const grants = new Map<string, InvokeGrants & { managed: string[] }>();

  before(() => {
    const app = new App({
      outdir: tempDir('identity-iam-'),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    stack = new ShopStack(app, 'Shop', { release: 2, env: { account: '123456789012', region: 'us-east-1' } });
    attachMeshIdentity(stack.mesh);
    t = Template.fromStack(stack);
    const names = functionNamesOf(t);
    for (const fn of stack.mesh.functions) {
      const role = logicalIdOf(fn.role!);
      grants.set(fn.service, {
        ...invokeGrants(statementsForRole(t, role), names),
        managed: unknownManagedPolicies(t, role),
      });
    }
  });

  it('each role may invoke exactly its declared targets, by exact name, and nothing through a wildcard', () => {
    for (const fn of stack.mesh.functions) {
      const g = grants.get(fn.service)!;
      assert.deepEqual(g.problems, [], `${fn.service}'s invoke grants name exact functions`);
      assert.deepEqual(g.managed, [], `${fn.service}'s managed policies grant no invoke`);
      const declared = fn.targets.map((x) => `shop-${x.service}`).sort();
      assert.deepEqual(g.functions, declared, `${fn.service}'s invoke grants`);
    }
    assert.deepEqual(grants.get('frontend')!.functions, ['shop-orders']);
  });

  it('identity adds secrets access only, never an invoke right', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as IamStatement[],
    );
    const secretStatements = statements.filter((s) =>
      [s.Action ?? []].flat().some((a) => a.startsWith('secretsmanager:')),
    );
    assert.ok(secretStatements.length > 0, 'identity is attached');
    for (const s of secretStatements) {
      assert.ok(
        [s.Action ?? []].flat().every((a) => a.startsWith('secretsmanager:')),
        JSON.stringify(s.Action),
      );
    }
  });

  it('a valid token for frontend -> payments is not enough: no IAM grant, no policy item', async () => {
    // The identities are genuine: payments would accept frontend's token on its own.
    const ca = await rotateCa('shop', undefined);
    const frontend = await identityOf(await issueIdentity({ mesh: 'shop', service: 'frontend', ca }));
    const payments = await identityOf(await issueIdentity({ mesh: 'shop', service: 'payments', ca }));
    const token = frontend.sign({ target: 'payments', payload: '{"amountCents":1}' });
    assert.deepEqual(payments.verify({ token, source: 'frontend', payload: '{"amountCents":1}' }), { ok: true });
    // But the outer wall stops the call before it: IAM grants frontend no Invoke on payments...
    assert.ok(!grants.get('frontend')!.functions.includes('shop-payments'), 'frontend must not invoke payments');
    // ...and the deploy-time policy does not allow it either (run-time policy can only narrow).
    const items = stack.mesh.policyItems();
    assert.ok(!items.some((i) => i.pk === 'payments' && i.sk === SORT_KEY.allow('frontend')));
    assert.ok(
      items.some((i) => i.pk === 'payments' && i.sk === SORT_KEY.allow('orders')),
      'the declared edge is there (the test can fail)',
    );
  });
});
