/**
 * The constructs' rate limits and fallbacks: the policy item carries them, a fallback in another
 * region gets its invoke grant ($LATEST denied), a fallback service needs its own edge, and a
 * fallback that names none or several targets is refused at synth with the fix.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh, MeshErrorCode, MeshFunction } from '../../infra';
import { meshStack } from './infra-fixture';

const ENTRY = join(__dirname, '../../functions/demo/inventory.ts');

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

  it('a fallback in another region may read the caller’s own identity there, which that region opens to its peers', () => {
    // GIVEN orders failing over to us-west-2, and (the us-west-2 stack) a mesh that names its peer region
    const { app, stack, fn } = meshStack();
    fn('Orders', 'orders').allowCallsTo(fn('Payments', 'payments'), { fallback: { functionArn: WEST } });
    const west = new Stack(app, 'West', { env: { account: '123456789012', region: 'us-west-2' } });
    const westMesh = new Mesh(west, 'Mesh', { meshName: 'shop', identity: { peerRegions: [stack.region] } });
    new MeshFunction(west, 'Orders', { mesh: westMesh, service: 'orders', entry: ENTRY });
    app.synth();
    // THEN the caller's role reads exactly orders' identity secret in us-west-2
    const secret = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:shop/identity/orders-??????';
    const reads = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => String(p.Metadata?.['aws:cdk:path']).startsWith('Test/Orders/'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
      .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
    // (besides its own secret here)
    // (CDK may merge both reads into one statement, its Resource then a list)
    const elsewhere = reads
      .flatMap((st) => [st.Resource].flat())
      .filter((r) => typeof r === 'string' && r.includes(':secretsmanager:'));
    assert.deepEqual(elsewhere, [secret]);
    // AND in us-west-2 only the owner, the issuer, or a role tagged with this mesh and this service reads it
    const policies = Object.values(Template.fromStack(west).findResources('AWS::SecretsManager::ResourcePolicy'));
    const statements = policies
      .flatMap((p) => p.Properties.ResourcePolicy.Statement as { Sid?: string; Condition?: unknown }[])
      .filter((st) => st.Sid?.startsWith('OnlyOwnerOrPeer'));
    const tagConditions = statements.map(
      (st) =>
        Object.entries((st.Condition as { StringNotEquals: Record<string, unknown> }).StringNotEquals).find(([k]) =>
          k.startsWith('aws:PrincipalTag/'),
        )!,
    );
    assert.deepEqual(tagConditions, [
      ['aws:PrincipalTag/lambda-mesh:mesh', 'shop'],
      ['aws:PrincipalTag/lambda-mesh:service', 'orders'],
    ]);
    // AND a mesh with no peers keeps the owner-only read
    const home = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::ResourcePolicy'))
      .flatMap((p) => p.Properties.ResourcePolicy.Statement as { Sid?: string }[])
      .map((st) => st.Sid);
    assert.ok(home.includes('OnlyOwnerReads') && !home.some((sid) => sid?.startsWith('OnlyOwnerOrPeer')));
  });

  it('refuses a fallback that names no target, or several, or a malformed ARN, naming the fix', () => {
    const { fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    for (const fallback of [{}, { version: '2', functionArn: WEST }, { functionArn: 'shop-payments' }]) {
      assert.throws(() => orders.allowCallsTo(payments, { fallback }), { code: MeshErrorCode.INVALID_FALLBACK });
    }
    // A service's name where its construct belongs (plain JavaScript, or a cast).
    const byName = { service: 'payments-lite' } as unknown as { service: MeshFunction };
    assert.throws(() => orders.allowCallsTo(payments, { fallback: byName }), {
      code: MeshErrorCode.INVALID_FALLBACK,
      message:
        'MeshFunction Test/Orders: allowCallsTo(payments) fallback: service must be a MeshFunction of mesh "shop" ' +
        '(the construct, not its name), got "payments-lite"',
    });
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
