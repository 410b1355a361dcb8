/**
 * The local mesh evaluates a resource's own policy with the caller's role, as IAM does within one
 * account ("Policy evaluation logic", IAM User Guide): an Allow in either allows, a Deny in either wins.
 * GIVEN a template whose grants live only in resource policies (a function's AWS::Lambda::Permission, a
 * queue's AWS::SQS::QueuePolicy, a table's ResourcePolicy) and a secret whose resource policy denies every reader but its owner,
 * WHEN a sandbox calls with the real SDK signed as its role's session, THEN the grants serve it and the
 * Deny refuses it, in AWS's words; an Allow to the account alone leaves the decision to the role.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { clientConfig } from '../support/example-assembly';
import { arnOf, failureOf, fn, role } from '../support/iam-template';
import { oneStackAssembly } from '../support/one-stack-assembly';

const ACCOUNT = '000000000000';
const ORDER_KEY = { id: { S: 'order-1' } };

/** A table; with its ResourcePolicy, the caller's role may read its items. */
function table(withPolicy: boolean) {
  const grant = { Effect: 'Allow', Principal: { AWS: arnOf('CallerRole') }, Action: 'dynamodb:GetItem', Resource: '*' };
  return {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      TableName: 'app-orders',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      ...(withPolicy ? { ResourcePolicy: { PolicyDocument: { Statement: [grant] } } } : {}),
    },
  };
}

/** The caller's role reads any secret; everything else it may do is granted by the resources. */
function template(withResourcePolicies: boolean): Record<string, unknown> {
  const base = {
    CallerRole: role('caller-role', [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }]),
    OwnerRole: role('owner-role'),
    Caller: fn('app-caller', 'CallerRole'),
    Target: fn('app-target', 'OwnerRole'),
    AccountTarget: fn('app-account-target', 'OwnerRole'),
    Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'app-jobs' } },
    Identity: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/identity/owner', SecretString: 'key' } },
    Orders: table(withResourcePolicies),
  };
  if (!withResourcePolicies) return base;
  return {
    ...base,
    // fn.addPermission('CallerInvokes', { principal: new iam.ArnPrincipal(callerRole.roleArn) })
    TargetInvoke: {
      Type: 'AWS::Lambda::Permission',
      Properties: { Action: 'lambda:InvokeFunction', FunctionName: arnOf('Target'), Principal: arnOf('CallerRole') },
    },
    // The account as principal: IAM leaves it to the caller's own policies, which grant no Invoke.
    AccountInvoke: {
      Type: 'AWS::Lambda::Permission',
      Properties: { Action: 'lambda:InvokeFunction', FunctionName: arnOf('AccountTarget'), Principal: ACCOUNT },
    },
    // queue.addToResourcePolicy(...), beside the Deny of plain HTTP the CDK's queues carry.
    JobsPolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Jobs' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: arnOf('CallerRole') },
              Action: 'sqs:SendMessage',
              Resource: arnOf('Jobs'),
            },
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Resource: arnOf('Jobs'),
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    // As the mesh protects an identity secret: every reader but its owner is denied.
    IdentityPolicy: {
      Type: 'AWS::SecretsManager::ResourcePolicy',
      Properties: {
        SecretId: { Ref: 'Identity' },
        ResourcePolicy: {
          Statement: [
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'secretsmanager:GetSecretValue',
              Resource: '*',
              Condition: { StringNotEquals: { 'aws:PrincipalArn': [arnOf('OwnerRole')] } },
            },
          ],
        },
      },
    },
  };
}

describe('IAM on the local mesh: resource-based policies', () => {
  const dirs = [template(false), template(true)].map((t) => oneStackAssembly('resource-policies', t));
  let mesh: LocalMesh;
  const lines: string[] = [];
  let lambda: LambdaClient;
  let sqs: SQSClient;
  let secrets: SecretsManagerClient;
  let dynamo: DynamoDBClient;
  let queueUrl: string;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [dirs[0]!], port: 0, quiet: true, log: (l) => lines.push(l) });
    const spec = mesh.registry.getSpec('app-caller', '$LATEST')!;
    const keys = new SandboxCredentials().issue('app-caller', spec.role, ACCOUNT)!;
    const asCaller = { ...clientConfig(mesh.url), credentials: keys };
    lambda = new LambdaClient(asCaller);
    sqs = new SQSClient(asCaller);
    secrets = new SecretsManagerClient(asCaller);
    dynamo = new DynamoDBClient(asCaller);
    // The caller's sandbox, started once, holds the keys its session signs with.
    const operator = new LambdaClient(clientConfig(mesh.url));
    await operator.send(new InvokeCommand({ FunctionName: 'app-caller' }));
    operator.destroy();
    const operatorSqs = new SQSClient(clientConfig(mesh.url));
    queueUrl = (await operatorSqs.send(new GetQueueUrlCommand({ QueueName: 'app-jobs' }))).QueueUrl!;
    operatorSqs.destroy();
  });
  after(async () => {
    for (const c of [lambda, sqs, secrets, dynamo]) c?.destroy();
    await mesh?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('without the resource policies: the role alone grants no Invoke, no send and no GetItem, and reads the secret', async () => {
    const invoke = await failureOf(lambda.send(new InvokeCommand({ FunctionName: 'app-target' })));
    assert.equal(invoke.name, 'AccessDeniedException');
    const send = await failureOf(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'job' })));
    assert.equal(send.$metadata.httpStatusCode, 403);
    const read = await secrets.send(new GetSecretValueCommand({ SecretId: 'app/identity/owner' }));
    assert.equal(read.SecretString, 'key');
    const get = await failureOf(dynamo.send(new GetItemCommand({ TableName: 'app-orders', Key: ORDER_KEY })));
    assert.equal(get.name, 'AccessDeniedException');
  });

  it("with them: the function's AWS::Lambda::Permission to the caller's role serves its Invoke", async () => {
    await mesh.apply(dirs[1]!);
    const invoke = await lambda.send(new InvokeCommand({ FunctionName: 'app-target' }));
    assert.equal(invoke.FunctionError, undefined);
    assert.equal(Buffer.from(invoke.Payload!).toString('utf8'), '"ok"');
  });

  it("with them: the queue's policy serves the send, its Deny of plain HTTP not applying", async () => {
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'job' }));
    assert.ok(sent.MessageId);
  });

  it("with them: the table's ResourcePolicy serves the role's GetItem", async () => {
    const got = await dynamo.send(new GetItemCommand({ TableName: 'app-orders', Key: ORDER_KEY }));
    assert.equal(got.Item, undefined);
  });

  it("with them: the secret's Deny refuses the role its own policy lets read every secret (named as the request named it)", async () => {
    const read = await failureOf(secrets.send(new GetSecretValueCommand({ SecretId: 'app/identity/owner' })));
    assert.equal(read.name, 'AccessDeniedException');
    assert.match(
      read.message,
      /^User: arn:aws:sts::000000000000:assumed-role\/caller-role\/app-caller is not authorized to perform: secretsmanager:GetSecretValue on resource: app\/identity\/owner with an explicit deny in a resource-based policy$/,
    );
    assert.ok(
      lines.some((l) => /^IAM refused app-caller .*GetSecretValue.*denied explicitly; .*resource's own policy/.test(l)),
      lines.join('\n'),
    );
  });

  it('an Allow to the account alone does not serve a role whose own policies grant nothing', async () => {
    const invoke = await failureOf(lambda.send(new InvokeCommand({ FunctionName: 'app-account-target' })));
    assert.equal(invoke.name, 'AccessDeniedException');
    assert.equal(invoke.$metadata.httpStatusCode, 403);
  });
});
