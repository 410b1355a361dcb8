/**
 * A sandbox's requests held to its role's identity policies on the local endpoint, through the real
 * AWS SDK (GIVEN a role's policies and a sandbox's keys, WHEN it calls, THEN): what the role allows is
 * served; what it does not is AccessDeniedException as each service writes it, in AWS's words, with one
 * line in the log naming the function, action, resource and the grant; the operator's `test` key is
 * never evaluated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Endpoint, RolePolicies, SecretStore, startEndpoint } from '../../local/endpoint';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { QueueStore } from '../../local/sqs/queue-store';
import { sqsJsonServices } from '../../local/sqs/sqs-api';
import { sqsQueryService } from '../../local/sqs/sqs-query';
import { loopbackClientConfig } from '../support/loopback-client';
import { queryRequest, xmlValues } from '../support/query-client';
import { type Answer, recordAnswers } from '../support/record-answers';

const ACCOUNT = '000000000000';
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/shop-policy`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/OrdersRole`;
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/OrdersRole/shop-orders`;

interface Failure extends Error {
  $metadata: { httpStatusCode?: number };
  $response?: { headers: Record<string, string>; body: unknown };
}

describe('local endpoint: IAM enforcement of sandboxes', () => {
  let ep: Endpoint;
  const lines: string[] = [];
  const credentials = new SandboxCredentials();
  const keys = credentials.issue('shop-orders', ROLE, ACCOUNT)!;
  const sandbox = (url: string) => ({
    ...loopbackClientConfig(url),
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      sessionToken: keys.sessionToken,
    },
  });
  const policies = new RolePolicies();
  policies.put('OrdersRole', 'Default', {
    Statement: [
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `${FN}:shop-payments:*` },
      { Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: `${FN}:shop-payments:$LATEST` },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: TABLE,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders', 'payments'] } },
      },
    ],
  });
  policies.attachManaged('OrdersRole', ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
  const queues = new QueueStore({ region: 'us-east-1', accountId: ACCOUNT, endpointUrl: () => ep.url });
  let lambda: LambdaClient;
  const answers: { last?: Answer } = {};
  let dynamo: DynamoDBClient;
  let operatorDynamo: DynamoDBClient;
  let secrets: SecretsManagerClient;
  let sqs: SQSClient;

  before(async () => {
    const store = new SecretStore();
    store.set('shop/identity/payments', { secretString: 'pem' });
    ep = await startEndpoint({
      port: 0,
      registry: new FunctionRegistry(),
      invoker: { invoke: async () => ({ payload: Buffer.from('{"ok":true}'), executedVersion: '1' }) },
      secrets: store,
      iam: policies,
      sandboxes: credentials,
      jsonServices: sqsJsonServices(queues),
      queryServices: { sqs: sqsQueryService(queues) },
      log: (line) => lines.push(line),
    });
    await ep.dynamo.createPolicyTable('shop-policy');
    lambda = recordAnswers(new LambdaClient(sandbox(ep.url)), answers);
    dynamo = new DynamoDBClient(sandbox(ep.url));
    operatorDynamo = new DynamoDBClient(loopbackClientConfig(ep.url));
    secrets = new SecretsManagerClient(sandbox(ep.url));
    sqs = new SQSClient(sandbox(ep.url));
  });
  after(async () => {
    for (const c of [lambda, dynamo, operatorDynamo, secrets, sqs]) c?.destroy();
    await ep?.close();
  });

  const refused = async (call: Promise<unknown>): Promise<Failure> => {
    try {
      await call;
    } catch (err) {
      return err as Failure;
    }
    assert.fail('the call was served');
  };

  it('Invoke of an edge the role holds passes IAM; another function is refused, 403, in AWS words', async () => {
    // Past IAM: the registry has no such function, so Lambda's own 404 answers.
    const allowed = await refused(lambda.send(new InvokeCommand({ FunctionName: 'shop-payments', Qualifier: 'live' })));
    assert.equal(allowed.name, 'ResourceNotFoundException');
    const err = await refused(lambda.send(new InvokeCommand({ FunctionName: 'shop-inventory', Qualifier: 'live' })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    const words = `User: ${CALLER} is not authorized to perform: lambda:InvokeFunction on resource: ${FN}:shop-inventory:live because no identity-based policy allows the lambda:InvokeFunction action`;
    assert.equal(err.message, words);
    // Lambda's refusal carries its words under `Message`, as recorded answers of Lambda show.
    assert.equal(answers.last?.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.equal(JSON.parse(answers.last?.body ?? '{}').Message, words);
    assert.ok(
      lines.some(
        (l) => l.includes('shop-orders') && l.includes(`${FN}:shop-inventory:live`) && l.includes('allowCallsTo'),
      ),
      lines.join('\n'),
    );
  });

  it("an explicit Deny wins: $LATEST of an edge's target is refused, by name or by ARN", async () => {
    const err = await refused(lambda.send(new InvokeCommand({ FunctionName: `${FN}:shop-payments:$LATEST` })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /with an explicit deny in an identity-based policy$/);
  });

  it("DynamoDB: the role's partitions are read; another partition is refused as DynamoDB writes it", async () => {
    await dynamo.send(new GetItemCommand({ TableName: 'shop-policy', Key: { pk: { S: 'payments' }, sk: { S: 'x' } } }));
    await dynamo.send(
      new QueryCommand({
        TableName: 'shop-policy',
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: 'orders' } },
      }),
    );
    const err = await refused(
      dynamo.send(new GetItemCommand({ TableName: 'shop-policy', Key: { pk: { S: 'frontend' }, sk: { S: 'x' } } })),
    );
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(
      err.message,
      `User: ${CALLER} is not authorized to perform: dynamodb:GetItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:GetItem action`,
    );
    const write = await refused(
      dynamo.send(
        new UpdateItemCommand({
          TableName: 'shop-policy',
          Key: { pk: { S: 'orders' }, sk: { S: 'x' } },
          UpdateExpression: 'SET a = :a',
          ExpressionAttributeValues: { ':a': { S: '1' } },
        }),
      ),
    );
    assert.equal(write.name, 'AccessDeniedException');
    assert.ok(lines.some((l) => l.includes('dynamodb:UpdateItem') && l.includes('grantWriteData')));
  });

  it('Secrets Manager and SQS refuse what the role was not granted, each in its own shape', async () => {
    const secret = await refused(secrets.send(new GetSecretValueCommand({ SecretId: 'shop/identity/payments' })));
    assert.equal(secret.name, 'AccessDeniedException');
    assert.equal(secret.$metadata.httpStatusCode, 400);
    // Secrets Manager names the secret as the request did: by name here, by ARN when called by ARN.
    assert.equal(
      secret.message,
      `User: ${CALLER} is not authorized to perform: secretsmanager:GetSecretValue on resource: shop/identity/payments because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    const queueUrl = queues.put('order-events').url;
    const sent = await refused(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' })));
    assert.equal(sent.$metadata.httpStatusCode, 403);
    assert.match(
      sent.message,
      /is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:0+:order-events /,
    );
  });

  it("SQS's query protocol is held to the same IAM: a sandbox's SendMessage refused in that protocol's XML", async () => {
    const queue = queues.put('query-events');
    const signed = { endpoint: ep.url, service: 'sqs', credentials: keys };
    const send = { Action: 'SendMessage', Version: '2012-11-05', MessageBody: 'x' };
    // Named by the QueueUrl parameter, and by the queue URL the request is sent to.
    const answers = [
      await queryRequest(signed, { ...send, QueueUrl: queue.url }),
      await queryRequest(signed, send, new URL(queue.url).pathname),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 403, answer.body);
      assert.deepEqual(xmlValues(answer.body, 'Code'), ['AccessDenied']);
      assert.deepEqual(xmlValues(answer.body, 'Message'), [
        `User: ${CALLER} is not authorized to perform: sqs:sendmessage on resource: ${queue.arn} because no identity-based policy allows the sqs:SendMessage action`,
      ]);
      assert.ok(answer.body.includes('<Type>Sender</Type>') && answer.body.includes('<Detail/>'), answer.body);
    }
    assert.equal(queue.counts().visible, 0);
  });

  it('a managed policy the local mesh does not carry leaves a refusal undecided: served, with one warning naming it', async () => {
    const managed = 'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess';
    policies.addRole('ReportsRole');
    policies.attachManaged('ReportsRole', [managed]);
    const reports = credentials.issue('shop-reports', `arn:aws:iam::${ACCOUNT}:role/ReportsRole`, ACCOUNT)!;
    const client = new DynamoDBClient({ ...loopbackClientConfig(ep.url), credentials: reports });
    try {
      const get = new GetItemCommand({ TableName: 'shop-policy', Key: { pk: { S: 'frontend' }, sk: { S: 'x' } } });
      await client.send(get);
      await client.send(get);
      const warnings = lines.filter((l) => l.startsWith('warning: IAM not evaluated for shop-reports'));
      assert.equal(warnings.length, 1, lines.join('\n'));
      assert.match(
        warnings[0]!,
        /dynamodb:GetItem .* the managed policy arn:aws:iam::aws:policy\/AmazonDynamoDBReadOnlyAccess/,
      );
    } finally {
      client.destroy();
    }
  });

  it("the operator's key is not evaluated, as an administrator's request would pass", async () => {
    await operatorDynamo.send(
      new GetItemCommand({ TableName: 'shop-policy', Key: { pk: { S: 'frontend' }, sk: { S: 'x' } } }),
    );
  });
});
