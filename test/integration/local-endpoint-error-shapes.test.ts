/**
 * Error bodies byte for byte, as AWS writes them: the message under the one member the service's model
 * names for that error (Lambda: `Message` or `message` by error; Secrets Manager: `Message`; DynamoDB:
 * `message` but for a few), never both. The real AWS SDK sends each request; a request handler keeps the
 * answer's bytes before the SDK parses them, and the SDK must still read the error as AWS's.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DynamoDBClient,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Endpoint, SecretStore, startEndpoint } from '../../local/endpoint';
import { loopbackClientConfig } from '../support/loopback-client';
import { type Answer, recordAnswers } from '../support/record-answers';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: error bodies as AWS writes them', () => {
  let endpoint: Endpoint;
  let registry: TestRegistry;
  const recorder: { last?: Answer } = {};
  let lambda: LambdaClient;
  let sm: SecretsManagerClient;
  let db: DynamoDBClient;

  before(async () => {
    registry = new TestRegistry();
    registry.add('echo', (event) => event);
    registry.add('busy', (event) => event);
    registry.setThrottled('busy', true, 3);
    const secrets = new SecretStore();
    secrets.set('orders/identity', { secretString: 'pem' });
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), secrets });
    lambda = recordAnswers(new LambdaClient(loopbackClientConfig(endpoint.url)), recorder);
    sm = recordAnswers(new SecretsManagerClient(loopbackClientConfig(endpoint.url)), recorder);
    db = recordAnswers(new DynamoDBClient(loopbackClientConfig(endpoint.url)), recorder);
    await endpoint.dynamo.createPolicyTable('shapes');
    await endpoint.dynamo.seedItems('shapes', [{ pk: 'payments', sk: 'service', weight: 1 }]);
  });
  after(async () => {
    lambda.destroy();
    sm.destroy();
    db.destroy();
    await endpoint.close();
  });

  it('Lambda ResourceNotFoundException: Type and Message, as its model names them', async () => {
    // Act
    const err = await rejection(() => lambda.send(new InvokeCommand({ FunctionName: 'missing' })));

    // Assess
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing:$LATEST');
    assert.equal(recorder.last?.status, 404);
    assert.equal(recorder.last?.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    assert.equal(recorder.last?.headers['content-type'], 'application/json');
    assert.equal(
      recorder.last?.body,
      '{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing:$LATEST"}',
    );
  });

  it('Lambda InvalidRequestContentException: lowercase message, as its model names it', async () => {
    // Act
    const err = await rejection(() =>
      lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') })),
    );

    // Assess
    assert.equal(err.name, 'InvalidRequestContentException');
    assert.equal(recorder.last?.status, 400);
    assert.deepEqual(Object.keys(JSON.parse(recorder.last?.body ?? '{}')), ['Type', 'message']);
  });

  it('Lambda TooManyRequestsException: Type, message and Reason, with Retry-After', async () => {
    // Act
    const err = await rejection(() => lambda.send(new InvokeCommand({ FunctionName: 'busy' })));

    // Assess
    assert.equal(err.name, 'TooManyRequestsException');
    assert.equal((err as Error & { Reason?: string }).Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(recorder.last?.status, 429);
    assert.equal(recorder.last?.headers['retry-after'], '3');
    assert.equal(
      recorder.last?.body,
      '{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}',
    );
  });

  it('Secrets Manager ResourceNotFoundException: __type and Message only', async () => {
    // Act
    const missing = await rejection(() => sm.send(new GetSecretValueCommand({ SecretId: 'orders/missing' })));
    const missingBody = recorder.last?.body;
    const noStage = await rejection(() =>
      sm.send(new GetSecretValueCommand({ SecretId: 'orders/identity', VersionStage: 'AWSPREVIOUS' })),
    );

    // Assess
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, "Secrets Manager can't find the specified secret.");
    assert.equal(
      missingBody,
      '{"__type":"ResourceNotFoundException","Message":"Secrets Manager can\'t find the specified secret."}',
    );
    assert.equal(
      noStage.message,
      "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    );
    assert.equal(recorder.last?.status, 400);
    assert.equal(recorder.last?.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(Object.keys(JSON.parse(recorder.last?.body ?? '{}')), ['__type', 'Message']);
  });

  it('DynamoDB ConditionalCheckFailedException: message alone, Message beside the item returned', async () => {
    // Prepare
    const put = (extra: object) =>
      db.send(
        new PutItemCommand({
          TableName: 'shapes',
          Item: { pk: { S: 'payments' }, sk: { S: 'service' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ...extra,
        }),
      );

    // Act
    const plain = await rejection(() => put({}));
    const plainBody = JSON.parse(recorder.last?.body ?? '{}');
    const withItem = await rejection(() => put({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
    const withItemBody = JSON.parse(recorder.last?.body ?? '{}');

    // Assess
    assert.equal(plain.message, 'The conditional request failed');
    assert.deepEqual(plainBody, {
      __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
      message: 'The conditional request failed',
    });
    assert.equal(withItem.message, 'The conditional request failed');
    assert.deepEqual(withItemBody, {
      __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
      Message: 'The conditional request failed',
      Item: { pk: { S: 'payments' }, sk: { S: 'service' }, weight: { N: '1' } },
    });
  });

  it('DynamoDB TransactionCanceledException: Message and CancellationReasons', async () => {
    // Act
    const err = await rejection(() =>
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: 'shapes',
                Key: { pk: { S: 'payments' }, sk: { S: 'service' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );

    // Assess
    assert.equal(err.name, 'TransactionCanceledException');
    assert.deepEqual(JSON.parse(recorder.last?.body ?? '{}'), {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }],
    });
  });

  it('DynamoDB TransactWriteItems naming a missing table: ResourceNotFoundException without the name', async () => {
    // Act
    const err = await rejection(() =>
      db.send(
        new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'non-existing-table', Item: {} } }] }),
      ),
    );

    // Assess
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.deepEqual(JSON.parse(recorder.last?.body ?? '{}'), {
      __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
      message: 'Requested resource not found',
    });
  });

  it('DynamoDB ValidationException: the validation framework’s __type and message', async () => {
    // Act
    const err = await rejection(() => db.send(new TransactGetItemsCommand({ TransactItems: [] })));

    // Assess
    assert.equal(err.name, 'ValidationException');
    const body = JSON.parse(recorder.last?.body ?? '{}');
    assert.equal(body.__type, 'com.amazon.coral.validate#ValidationException');
    assert.deepEqual(Object.keys(body), ['__type', 'message']);
  });
});
