/**
 * Least privilege of the data plane (GIVEN the example shop, WHEN synthesized, THEN): every action a
 * mesh function's role holds, and the pre-traffic check's secret grant, is one its code or its event
 * source mapping uses. The runtime reads its identity with GetSecretValue only (identity/secret-reader.ts)
 * and sends to a queue with SendMessage only (transport/channel-sdk.ts); Lambda's poller of a queue needs
 * ReceiveMessage, DeleteMessage and GetQueueAttributes ("Using Lambda with Amazon SQS", Lambda Developer
 * Guide). An encrypted queue still gets the KMS actions Amazon SQS documents for producers and consumers.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { ShopStack } from '../../infra/shop-stack';
import {
  constructStatements,
  type IamStatement,
  logicalIdOf,
  meshStack,
  roleStatements,
  shopApp,
} from './infra-fixture';

/** What a mesh function does with AWS: the only actions its role may hold. */
const DATA_PLANE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem', // rate-limit buckets
  'dynamodb:PutItem', // shared breakers
  'lambda:InvokeFunction',
  'lambda:InvokeFunctionUrl',
  'secretsmanager:GetSecretValue',
  'sqs:SendMessage',
  'sns:Publish',
  'events:PutEvents',
  // the event source mapping of a consumed queue
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
]);

const actionsOf = (statements: IamStatement[]) =>
  [...new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action ?? []].flat()))].sort();

describe('least privilege: the data plane holds only what it uses', () => {
  let stack: ShopStack;
  let t: Template;
  before(() => {
    ({ stack, template: t } = shopApp(2));
  });

  it('each mesh function role holds only actions the runtime or its event source mapping calls', () => {
    for (const fn of stack.mesh.functions) {
      const actions = actionsOf(roleStatements(t, logicalIdOf(fn.role!)));
      assert.ok(
        actions.includes('secretsmanager:GetSecretValue'),
        `${fn.service} reads its identity (the test can fail)`,
      );
      const unused = actions.filter((a) => !DATA_PLANE_ACTIONS.has(a));
      assert.deepEqual(unused, [], `${fn.service}'s role holds actions nothing of it calls`);
    }
  });

  it("the queue's producer may only send, its consumer's poller only receive, delete and read attributes", () => {
    const queueActions = (service: string) =>
      actionsOf(roleStatements(t, logicalIdOf(stack.mesh.functions.find((f) => f.service === service)!.role!))).filter(
        (a) => a.startsWith('sqs:'),
      );
    assert.deepEqual(queueActions('orders'), ['sqs:SendMessage']);
    assert.deepEqual(queueActions('notifications'), [
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
  });

  it("the pre-traffic check reads its identity secret's value, nothing more of it", () => {
    const secretActions = actionsOf(constructStatements(t, 'LambdaMeshShop/Mesh/PreTrafficHook/')).filter((a) =>
      a.startsWith('secretsmanager:'),
    );
    assert.deepEqual(secretActions, ['secretsmanager:GetSecretValue']);
  });

  it('an encrypted queue: the producer may encrypt to its key, the consumer decrypt, and no more', () => {
    // GIVEN
    const { stack: s, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const notifications = fn('Notifications', 'notifications');
    const key = new kms.Key(s, 'Key');
    const queue = new sqs.Queue(s, 'Q', { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key });
    // WHEN
    orders.allowSendTo(queue);
    notifications.receiveFrom(queue, { from: [orders] });
    // THEN
    const tt = Template.fromStack(s);
    const kmsOf = (f: typeof orders) =>
      actionsOf(roleStatements(tt, logicalIdOf(f.role!))).filter((a) => a.startsWith('kms:'));
    assert.deepEqual(kmsOf(orders), ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(kmsOf(notifications), ['kms:Decrypt']);
  });
});
