/**
 * The constructs' rate limits and fallbacks: the policy item carries them, a fallback in another
 * region gets its invoke grant ($LATEST denied), a fallback service needs its own edge, and a
 * fallback that names none or several targets is refused at synth with the fix.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { MeshErrorCode } from '../../infra';
import { meshStack } from './infra-fixture';

const WEST = 'arn:aws:lambda:us-west-2:123456789012:function:shop-payments';

describe('constructs: rate limits and fallbacks', () => {
  it('writes rateLimit and fallback on the edge item, and grants the other region’s function', () => {
    // GIVEN orders -> payments, limited and failing over to payments in us-west-2
    const { app, mesh, stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    orders.allowCallsTo(payments, { rateLimit: { perSecond: 50 }, fallback: { functionArn: WEST } });
    app.synth();
    // THEN the item carries both, and the role may invoke the fallback's alias and versions, not $LATEST
    const item = mesh.policyItems().find((i) => i.pk === 'payments' && i.sk === 'allow#orders')!;
    assert.deepEqual(
      [(item as never as { rateLimit: unknown }).rateLimit, (item as never as { fallback: unknown }).fallback],
      [{ perSecond: 50 }, { functionArn: WEST }],
    );
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => String(p.Metadata?.['aws:cdk:path']).startsWith('Test/Orders/'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Effect: string; Resource: unknown }[]);
    const resources = (effect: string) =>
      statements
        .filter((s) => s.Effect === effect)
        .flatMap((s) => [s.Resource].flat().filter((r) => typeof r === 'string'));
    assert.ok(resources('Allow').includes(`${WEST}:*`));
    assert.ok(resources('Deny').includes(`${WEST}:$LATEST`));
  });

  it('refuses a fallback that names no target, or several, or a malformed ARN, naming the fix', () => {
    const { fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    for (const fallback of [{}, { version: '2', functionArn: WEST }, { functionArn: 'shop-payments' }]) {
      assert.throws(() => orders.allowCallsTo(payments, { fallback }), { code: MeshErrorCode.INVALID_FALLBACK });
    }
  });

  it('a fallback service needs its own edge, declared before or after', () => {
    const { app, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    const lite = fn('Lite', 'payments-lite');
    orders.allowCallsTo(payments, { fallback: { service: lite } });
    assert.throws(() => app.synth(), /declare the edge too: orders\.allowCallsTo\(payments-lite\)/);
    const again = meshStack();
    const o2 = again.fn('Orders', 'orders');
    o2.allowCallsTo(again.fn('Payments', 'payments'), { fallback: { service: again.fn('Lite', 'payments-lite') } });
    o2.allowCallsTo(o2.mesh.functionOf('payments-lite')!);
    again.app.synth();
  });

  it('allowExternal takes no rateLimit: nothing in the mesh would enforce it', () => {
    const { fn } = meshStack();
    assert.throws(() => fn('Front', 'frontend').allowExternal({ rateLimit: { perSecond: 5 } }), {
      code: MeshErrorCode.INVALID_EDGE,
    });
  });
});
