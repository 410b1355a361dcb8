/**
 * Lambda's AddPermission, RemovePermission and GetPolicy on the local endpoint, replaying LocalStack's
 * parity tests recorded from AWS (`tests/aws/services/lambda_/test_lambda_api.snapshot.json`): status,
 * error code and message word for word, and GetPolicy's document and keys. The real AWS SDK sends every
 * request; each test names the recorded test it follows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  GetPolicyCommand,
  LambdaClient,
  PublishVersionCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import type { Endpoint } from '../../local/endpoint';
import { AsyncDestinations } from '../../local/sqs/async-destinations';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { startSqsEndpoint, TestRegistry } from './local-endpoint-fixture';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

async function failure(call: () => Promise<unknown>) {
  const err = await rejection<Error & { $metadata: { httpStatusCode?: number } }>(call);
  return { status: err.$metadata.httpStatusCode, code: err.name, message: err.message };
}

describe('local endpoint: Lambda permissions answer as recorded from AWS', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  const registry = new TestRegistry();

  before(async () => {
    ({ endpoint } = await startSqsEndpoint(registry, (queues) => ({
      asyncInvokes: new AsyncDestinations({ queues, retryBaseMs: 200, invokeAsync: async () => undefined }),
    })));
    lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    await endpoint.close();
  });

  const s3 = { Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: 'arn:aws:s3:::test-bucket' };
  const notFound = (message: string) => ({ status: 404, code: 'ResourceNotFoundException', message });

  // test_lambda_api.py::TestLambdaPermissions::test_permission_exceptions
  it('refuses as Lambda does: a missing function, version, alias, policy or statement, a Sid in use', async () => {
    registry.add('perm', (e) => e);
    const fn = (FunctionName = 'perm') => ({ FunctionName, StatementId: 's3', ...s3 });
    assert.deepEqual(
      await failure(() => lambda.send(new GetPolicyCommand({ FunctionName: 'doesnotexist' }))),
      notFound('The resource you requested does not exist.'),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new GetPolicyCommand({ FunctionName: 'perm', Qualifier: '77' }))),
      notFound('The resource you requested does not exist.'),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new AddPermissionCommand(fn('doesnotexist')))),
      notFound(`Function not found: ${ARN}:doesnotexist`),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new RemovePermissionCommand({ FunctionName: 'perm', StatementId: 's3' }))),
      notFound('No policy is associated with the given resource.'),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new AddPermissionCommand(fn('perm:alias-doesnotexist')))),
      notFound(`Cannot find alias arn: ${ARN}:perm:alias-doesnotexist`),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new AddPermissionCommand({ ...fn(), Qualifier: '42' }))),
      notFound(`Function not found: ${ARN}:perm:42`),
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(new AddPermissionCommand({ ...fn(), Qualifier: 'valid-with-$-but-doesnotexist' })),
      ),
      notFound(`Function not found: ${ARN}:perm:valid-with-$-but-doesnotexist`),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new AddPermissionCommand({ ...fn(), StatementId: 'example.com' }))),
      {
        status: 400,
        code: 'ValidationException',
        message:
          "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
      },
    );
    await lambda.send(new AddPermissionCommand(fn()));
    assert.deepEqual(await failure(() => lambda.send(new AddPermissionCommand(fn()))), {
      status: 409,
      code: 'ResourceConflictException',
      message:
        'The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.',
    });
    assert.deepEqual(
      await failure(() =>
        lambda.send(new RemovePermissionCommand({ FunctionName: 'doesnotexist', StatementId: 's3' })),
      ),
      notFound(`No policy found for: ${ARN}:doesnotexist`),
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(
          new RemovePermissionCommand({ FunctionName: 'perm', StatementId: 's3', Qualifier: 'alias-doesnotexist' }),
        ),
      ),
      notFound(`Cannot find alias arn: ${ARN}:perm:alias-doesnotexist`),
    );
  });

  // test_lambda_api.py::TestLambdaPermissions::test_remove_multi_permissions, ::test_lambda_permission_fn_versioning
  it("GetPolicy: the document as Lambda writes it, a statement's removal, a version with none, and none left", async () => {
    registry.add('multi', (e) => e);
    await lambda.send(
      new AddPermissionCommand({ FunctionName: 'multi', StatementId: 's3', ...s3, SourceArn: undefined }),
    );
    await lambda.send(
      new AddPermissionCommand({ FunctionName: 'multi', StatementId: 'sqs', ...s3, Principal: 'sqs.amazonaws.com' }),
    );
    const got = await lambda.send(new GetPolicyCommand({ FunctionName: 'multi' }));
    assert.deepEqual(
      Object.keys(got)
        .filter((k) => k !== '$metadata')
        .sort(),
      ['Policy', 'RevisionId'],
    );
    const statement = (Sid: string, Service: string) => ({
      Sid,
      Effect: 'Allow',
      Principal: { Service },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}:multi`,
    });
    assert.deepEqual(JSON.parse(got.Policy ?? ''), {
      Version: '2012-10-17',
      Id: 'default',
      Statement: [
        statement('s3', 's3.amazonaws.com'),
        { ...statement('sqs', 'sqs.amazonaws.com'), Condition: { ArnLike: { 'AWS:SourceArn': s3.SourceArn } } },
      ],
    });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'multi' }));
    assert.deepEqual(
      await failure(() => lambda.send(new GetPolicyCommand({ FunctionName: 'multi', Qualifier: '1' }))),
      notFound('The resource you requested does not exist.'),
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(new RemovePermissionCommand({ FunctionName: 'multi', StatementId: 'non-existent' })),
      ),
      notFound('Statement non-existent is not found in resource policy.'),
    );
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'multi', StatementId: 'sqs' }));
    const after = await lambda.send(new GetPolicyCommand({ FunctionName: 'multi' }));
    assert.notEqual(after.RevisionId, got.RevisionId);
    assert.deepEqual(JSON.parse(after.Policy ?? '').Statement, [statement('s3', 's3.amazonaws.com')]);
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'multi', StatementId: 's3' }));
    assert.deepEqual(
      await failure(() => lambda.send(new GetPolicyCommand({ FunctionName: 'multi' }))),
      notFound('The resource you requested does not exist.'),
    );
  });
});
