/**
 * A mesh function in a VPC (`vpc` on MeshFunction): it reaches DynamoDB, Secrets Manager, Lambda and its
 * channels only through a NAT gateway or VPC endpoints. Synth warns, naming each endpoint it lacks and
 * why, once every edge is declared; a VPC of the app with NAT gateways on the function's subnets, or
 * the endpoints declared, warn of nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { neededEndpoints } from '../../infra/private/vpc-endpoints';
import { addNagPacks, nagFindings } from '../support/nag-findings';
import { meshStack } from './infra-fixture';

/** The text of the mesh's VPC warnings on the stack's functions, by construct path. */
function vpcWarnings(stack: Stack): Record<string, string> {
  const found = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('lambda-mesh:vpcEndpoints'));
  return Object.fromEntries(found.map((m) => [m.id, String(m.entry.data)]));
}

/** orders -> payments, orders sends to a queue, both in `vpc`'s isolated subnets. */
function shopInVpc(natGateways: number, subnetType: ec2.SubnetType, env?: { region?: string }) {
  const { stack, fn } = meshStack('shop', env);
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType },
    ],
  });
  const vpcSubnets = { subnetType };
  const orders = fn('Orders', 'orders', { vpc, vpcSubnets });
  const payments = fn('Payments', 'payments', { vpc, vpcSubnets });
  return { stack, vpc, orders, payments };
}

describe('a mesh function in a VPC', () => {
  it('needs DynamoDB always, Secrets Manager with identity, Lambda for its targets and each kind of channel', () => {
    const none = { identity: false, invokes: false, channels: new Set<never>(), http: false };
    assert.deepEqual(
      neededEndpoints(none).map((e) => `${e.service} ${e.type}`),
      ['dynamodb Gateway'],
    );
    const all = { identity: true, invokes: true, channels: new Set(['events', 'sqs'] as const), http: true };
    assert.deepEqual(
      neededEndpoints(all).map((e) => `${e.service} ${e.type}`),
      ['dynamodb Gateway', 'secretsmanager Interface', 'lambda Interface', 'sqs Interface', 'events Interface'],
    );
  });

  it('warns at synth of the endpoints an isolated subnet lacks, with the edges declared after the functions', () => {
    // GIVEN orders and payments in isolated subnets, the edge and the queue declared after both exist
    const { stack, orders, payments } = shopInVpc(0, ec2.SubnetType.PRIVATE_ISOLATED);
    orders.allowCallsTo(payments);
    orders.allowSendTo(new sqs.Queue(stack, 'Events'), { channel: 'order-events' });
    // WHEN synthesized THEN each warns of what it calls: orders Lambda and SQS too, payments not
    const warnings = vpcWarnings(stack);
    const ordersWarning = warnings['/Test/Orders'] ?? '';
    const paymentsWarning = warnings['/Test/Payments'] ?? '';
    for (const service of ['dynamodb (Gateway', 'secretsmanager (Interface', 'lambda (Interface', 'sqs (Interface']) {
      assert.ok(ordersWarning.includes(`com.amazonaws.us-east-1.${service}`), `orders: ${service} in ${ordersWarning}`);
    }
    assert.match(ordersWarning, /the function is in VPC Test\/Vpc without a NAT gateway of this app on its subnets/);
    assert.match(
      ordersWarning,
      /vpc\.addGatewayEndpoint\(\.\.\., \{ service: ec2\.GatewayVpcEndpointAwsService\.DYNAMODB \}\)/,
    );
    assert.match(paymentsWarning, /com\.amazonaws\.us-east-1\.dynamodb .*com\.amazonaws\.us-east-1\.secretsmanager/);
    assert.doesNotMatch(paymentsWarning, /\.lambda|\.sqs/);
  });

  it('warns of nothing once the endpoints are declared, and names only those still missing', () => {
    const { stack, vpc, orders, payments } = shopInVpc(0, ec2.SubnetType.PRIVATE_ISOLATED);
    orders.allowCallsTo(payments);
    vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    vpc.addInterfaceEndpoint('Secrets', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });
    const warnings = vpcWarnings(stack);
    assert.deepEqual(Object.keys(warnings), ['/Test/Orders']);
    assert.match(warnings['/Test/Orders'], /this app does not declare: com\.amazonaws\.us-east-1\.lambda \(Interface/);
    assert.doesNotMatch(warnings['/Test/Orders'], /dynamodb|secretsmanager/);
  });

  it('names the endpoints with a placeholder region when the stack is environment-agnostic', () => {
    const { stack, orders, payments } = shopInVpc(0, ec2.SubnetType.PRIVATE_ISOLATED, {});
    orders.allowCallsTo(payments);
    assert.match(vpcWarnings(stack)['/Test/Orders'] ?? '', /com\.amazonaws\.<region>\.lambda \(Interface/);
  });

  it('warns of nothing in private subnets behind the VPC’s NAT gateways', () => {
    const { stack, orders, payments } = shopInVpc(1, ec2.SubnetType.PRIVATE_WITH_EGRESS);
    orders.allowCallsTo(payments);
    assert.deepEqual(vpcWarnings(stack), {});
  });

  it('stays cdk-nag (AwsSolutions) clean in cdk-nag 3 and 2: the network interfaces and channels it adds are acknowledged', () => {
    const { app, stack, orders, payments } = shopInVpcWithNag();
    orders.allowCallsTo(payments);
    orders.allowSendTo(new sqs.Queue(stack, 'Events', { enforceSSL: true }), { channel: 'order-events' });
    // The VPC's and the queue's own findings fail the synth; the report is written first.
    assert.throws(() => app.synth(), /Validation failed/);
    const { open, acknowledged, open2, suppressed2 } = nagFindings(app, stack);
    assert.ok(acknowledged.length > 0 && suppressed2.length > 0, 'the packs ran (the test can fail)');
    // The VPC and the queue are this test's, not the mesh's: only findings on mesh constructs count.
    const mesh = (f: string) => /at \/?Test\/(Orders|Payments|Mesh)\//.test(f);
    assert.deepEqual([...open, ...open2].filter(mesh), []);
  });
});

/** `shopInVpc` with private subnets behind a NAT gateway, both cdk-nag packs added before the functions exist. */
function shopInVpcWithNag() {
  const { app, stack, fn } = meshStack();
  addNagPacks(app);
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
  const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  return {
    app,
    stack,
    orders: fn('Orders', 'orders', { vpc, vpcSubnets }),
    payments: fn('Payments', 'payments', { vpc, vpcSubnets }),
  };
}
