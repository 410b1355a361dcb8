/**
 * The local endpoint replays requests whose answers were recorded from real AWS (LocalStack's parity
 * tests, `tests/aws/services/<service>/*.snapshot.json`, "recorded-content") and must answer as the
 * recording shows: status, error code, message text word for word, and the keys and defaults of a
 * success. Only what a recording fixes is compared; what it transforms (ARNs' accounts, ids, dates) is
 * not. Each test names the recorded test it follows. The real AWS SDK sends every request.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Endpoint, SecretStore } from '../../local/endpoint';
import { AsyncDestinations } from '../../local/sqs/async-destinations';
import { GET_FUNCTION_FIELDS } from '../support/function-configuration-fields';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { startSecretsEndpoint, startSqsEndpoint, TestRegistry } from './local-endpoint-fixture';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

interface AwsFailure extends Error {
  $metadata: { httpStatusCode?: number };
  Code?: string;
}

/** The status, code and message a rejected call failed with. */
async function failure(call: () => Promise<unknown>): Promise<{ status?: number; code: string; message: string }> {
  const err = await rejection<AwsFailure>(call);
  return { status: err.$metadata.httpStatusCode, code: err.name, message: err.message };
}

/**
 * An SQS error as the recordings show it: botocore's `Error.Code` is the query code, which the SDK
 * reports as `Code`; its `QueryErrorCode` the shape's name, which the SDK names a modelled error after
 * (an error the model lacks it names by its query code).
 */
async function sqsFailure(call: () => Promise<unknown>) {
  const err = await rejection<AwsFailure>(call);
  return { Code: err.Code, name: err.name, Message: err.message };
}

describe('local endpoint: answers as recorded from AWS', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  const registry = new TestRegistry();

  before(async () => {
    ({ endpoint, sqs } = await startSqsEndpoint(registry, (queues) => ({
      asyncInvokes: new AsyncDestinations({ queues, retryBaseMs: 200, invokeAsync: async () => undefined }),
    })));
    lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    sqs.destroy();
    await endpoint.close();
  });

  // test_lambda_api.py::TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions
  it('EventInvokeConfig: refuses as Lambda does a missing function, an empty Put and bad destinations', async () => {
    registry.add('eic', (e) => e);
    registry.add('eic-other', (e) => e);
    await lambda.send(new PublishVersionCommand({ FunctionName: 'eic' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'eic', Name: 'eventinvokealias', FunctionVersion: '1' }));
    const put = (input: Omit<ConstructorParameters<typeof PutFunctionEventInvokeConfigCommand>[0], 'FunctionName'>) =>
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', ...input }));
    const doesNotExist = { status: 404, code: 'ResourceNotFoundException', message: "The function doesn't exist." };
    const noConfig = (qualified: string) => ({
      status: 404,
      code: 'ResourceNotFoundException',
      message: `The function ${ARN}:${qualified} doesn't have an EventInvokeConfig`,
    });
    const invalid = (message: string) => ({ status: 400, code: 'InvalidParameterValueException', message });

    // put_functionname_name_notfound, put_functionname_arn_notfound, put_alias_doesnotexist
    for (const FunctionName of ['doesnotexist', `${ARN}:doesnotexist`]) {
      const answer = await failure(() =>
        lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName, MaximumRetryAttempts: 1 })),
      );
      assert.deepEqual(answer, doesNotExist);
    }
    assert.deepEqual(
      await failure(() => put({ Qualifier: 'eventinvokealiasdoesnotexist', MaximumRetryAttempts: 1 })),
      doesNotExist,
    );
    // put_functionname_nootherargs: checked before the function is looked up
    assert.deepEqual(
      await failure(() => lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))),
      invalid('You must specify at least one of error handling or destination setting.'),
    );
    // put_destination_lambda_doesntexist, put_destination_recursive, put_destination_invalid_service_arn
    assert.deepEqual(
      await failure(() => put({ DestinationConfig: { OnSuccess: { Destination: `${ARN}:doesnotexist` } } })),
      invalid(`The destination ARN ${ARN}:doesnotexist is invalid.`),
    );
    assert.deepEqual(
      await failure(() => put({ DestinationConfig: { OnSuccess: { Destination: `${ARN}:eic` } } })),
      invalid("You can't specify the function as a destination for itself."),
    );
    const iamArn = 'arn:aws:iam:us-east-1:000000000000:function:eic';
    assert.deepEqual(
      await failure(() => put({ DestinationConfig: { OnSuccess: { Destination: iamArn } } })),
      invalid(
        `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iamArn}), onFailure=null) is invalid.`,
      ),
    );
    // put_destination_invalid_arn_pattern
    const badPattern = 'arn:aws:_-/!lambda:us-east-1:000000000000:function:eic';
    assert.deepEqual(await failure(() => put({ DestinationConfig: { OnFailure: { Destination: badPattern } } })), {
      status: 400,
      code: 'ValidationException',
      message: `1 validation error detected: Value '${badPattern}' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)`,
    });
    // put_destination_other_lambda, put_destination_success_no_destination_arn
    const other = await put({ DestinationConfig: { OnSuccess: { Destination: `${ARN}:eic-other` } } });
    assert.deepEqual(other.DestinationConfig, { OnSuccess: { Destination: `${ARN}:eic-other` }, OnFailure: {} });
    const empty = await put({ DestinationConfig: { OnSuccess: {} } });
    assert.deepEqual(empty.DestinationConfig, { OnSuccess: {}, OnFailure: {} });
    assert.equal(empty.MaximumRetryAttempts, undefined);

    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'eic' }));
    // delete_function_not_found, delete_function_doesnotexist
    assert.deepEqual(
      await failure(() => lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'eic' }))),
      noConfig('eic:$LATEST'),
    );
    assert.deepEqual(
      await failure(() => lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))),
      noConfig('doesnotexist:$LATEST'),
    );
    // list_function_doesnotexist, get_function_doesnotexist, get_qualifier_doesnotexist
    assert.deepEqual(
      await failure(() => lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'doesnotexist' }))),
      doesNotExist,
    );
    assert.deepEqual(
      await failure(() => lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))),
      noConfig('doesnotexist:$LATEST'),
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: 'doesnotexist' })),
      ),
      noConfig('eic:doesnotexist'),
    );
    // update_eventinvokeconfig_function_doesnotexist, ..._config_doesnotexist_with(out)_qualifier
    assert.deepEqual(
      await failure(() =>
        lambda.send(
          new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist', MaximumRetryAttempts: 0 }),
        ),
      ),
      doesNotExist,
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(
          new UpdateFunctionEventInvokeConfigCommand({
            FunctionName: `${ARN}:eic:eventinvokealias`,
            MaximumRetryAttempts: 0,
          }),
        ),
      ),
      noConfig('eic:eventinvokealias'),
    );
    assert.deepEqual(
      await failure(() =>
        lambda.send(
          new UpdateFunctionEventInvokeConfigCommand({ FunctionName: `${ARN}:eic`, MaximumRetryAttempts: 0 }),
        ),
      ),
      noConfig('eic:$LATEST'),
    );
  });

  // test_lambda_api.py::TestLambdaTags::test_tag_exceptions and ::test_tag_limits
  it('tags: none to add or remove is refused, and more than 50 in all', async () => {
    registry.add('tagged', (e) => e);
    const Resource = `${ARN}:tagged`;
    assert.deepEqual(await failure(() => lambda.send(new UntagResourceCommand({ Resource, TagKeys: [] }))), {
      status: 400,
      code: 'ValidationException',
      message:
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    });
    assert.deepEqual(await failure(() => lambda.send(new TagResourceCommand({ Resource, Tags: {} }))), {
      status: 400,
      code: 'InvalidParameterValueException',
      message: 'An error occurred and the request cannot be processed.',
    });
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, k) => [`${k}_key`, `${k}_value`]));
    const tooMany = {
      status: 400,
      code: 'InvalidParameterValueException',
      message: 'Number of tags exceeds resource tag limit.',
    };
    assert.deepEqual(await failure(() => lambda.send(new TagResourceCommand({ Resource, Tags: tags(51) }))), tooMany);
    await lambda.send(new TagResourceCommand({ Resource, Tags: tags(50) }));
    assert.deepEqual(
      await failure(() => lambda.send(new TagResourceCommand({ Resource, Tags: { a_key: 'a_value' } }))),
      tooMany,
    );
    // Tags it already carries are replaced, not added: still 50.
    await lambda.send(new TagResourceCommand({ Resource, Tags: { '0_key': 'again' } }));
    const listed = await lambda.send(new ListTagsCommand({ Resource }));
    assert.equal(Object.keys(listed.Tags ?? {}).length, 50);
    assert.equal(listed.Tags?.['0_key'], 'again');
  });

  // test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs (routing_config_exc_fn_doesnotexist)
  it('CreateAlias of a function that does not exist: 404 naming the version the alias would point to', async () => {
    assert.deepEqual(
      await failure(() =>
        lambda.send(
          new CreateAliasCommand({
            FunctionName: 'alias-fn-unknown',
            Name: 'custom',
            FunctionVersion: '1',
            RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
          }),
        ),
      ),
      { status: 404, code: 'ResourceNotFoundException', message: `Function not found: ${ARN}:alias-fn-unknown:1` },
    );
  });

  // test_lambda_api.py::TestLambdaPermissions::test_lambda_permission_fn_versioning (add_permission_alias_revision_exception),
  // ::TestLambdaRevisions::test_function_revisions_permissions (add_permission_revision_exception)
  it('AddPermission with a stale RevisionId: 412 pointing to GetPolicy, for the function and an alias alike', async () => {
    registry.add('permitted', (e) => e);
    await lambda.send(new PublishVersionCommand({ FunctionName: 'permitted' }));
    await lambda.send(
      new CreateAliasCommand({ FunctionName: 'permitted', Name: 'permission-alias', FunctionVersion: '1' }),
    );
    const stale = {
      status: 412,
      code: 'PreconditionFailedException',
      message:
        'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
    };
    for (const Qualifier of [undefined, 'permission-alias']) {
      const add = () =>
        lambda.send(
          new AddPermissionCommand({
            FunctionName: 'permitted',
            Qualifier,
            StatementId: 's3',
            Action: 'lambda:InvokeFunction',
            Principal: 's3.amazonaws.com',
            RevisionId: 'wrong',
          }),
        );
      assert.deepEqual(await failure(add), stale);
    }
  });

  // test_lambda_api.py::TestLambdaPermissions::test_add_lambda_permission_fields (add_permission_optional_fields)
  it('AddPermission answers the statement text as Lambda writes it: its conditions in Lambda’s order', async () => {
    registry.add('url-permitted', (e) => e);
    const { Statement } = await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'url-permitted',
        StatementId: 'urlPermission',
        Action: 'lambda:InvokeFunctionUrl',
        Principal: '*',
        SourceArn: 'arn:aws:s3:::test-bucket',
        SourceAccount: '000000000000',
        PrincipalOrgID: 'o-1234567890',
        FunctionUrlAuthType: 'NONE',
      }),
    );
    assert.equal(
      Statement,
      JSON.stringify({
        Sid: 'urlPermission',
        Effect: 'Allow',
        Principal: '*',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: `${ARN}:url-permitted`,
        Condition: {
          StringEquals: {
            'AWS:SourceAccount': '000000000000',
            'lambda:FunctionUrlAuthType': 'NONE',
            'aws:PrincipalOrgID': 'o-1234567890',
          },
          ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::test-bucket' },
        },
      }),
    );
  });

  // test_lambda_api.py::TestLambdaAlias::test_alias_lifecycle (publish_v1), ::TestLambdaVersions::test_version_lifecycle
  // (first_publish_response): a settled $LATEST publishes a version that is Active at once
  it('PublishVersion answers the new version Active and Successful, with the keys Lambda sends', async () => {
    registry.add('published', (e) => e, { testenv: 'staging' });
    const out = await lambda.send(
      new PublishVersionCommand({ FunctionName: 'published', Description: 'First version' }),
    );
    assert.equal(out.$metadata.httpStatusCode, 201);
    const { $metadata: _, ...answer } = out;
    // PublishVersion answers the version's configuration: the fields GetFunction carries.
    assert.deepEqual(Object.keys(answer).sort(), GET_FUNCTION_FIELDS);
    assert.deepEqual([out.Version, out.State, out.LastUpdateStatus], ['1', 'Active', 'Successful']);
    assert.equal(out.FunctionArn, `${ARN}:published:1`);
    assert.equal(out.Description, 'First version');
  });

  // test_lambda_api.py::TestLambdaVersions::test_version_lifecycle (a function created without Environment:
  // create_response, get_function_result, first_update_response, list_versions_result, first_publish_response),
  // ::TestLambdaFunction::test_function_lifecycle (update_func_conf_response with ENV_A)
  it('a function given no Environment is answered without one, until an update gives it one', async () => {
    registry.add('no-environment', (e) => e);
    const noEnvironment = GET_FUNCTION_FIELDS.filter((k) => k !== 'Environment');
    const settled = async () => {
      for (let i = 0; i < 200; i++) {
        const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'no-environment' }));
        if (c.LastUpdateStatus === 'Successful') return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('the update did not settle');
    };
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'no-environment' }));
    assert.deepEqual(Object.keys(got.Configuration ?? {}).sort(), noEnvironment);
    const { $metadata: _c, ...config } = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'no-environment' }),
    );
    assert.deepEqual(Object.keys(config).sort(), noEnvironment);
    const update = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'no-environment', Description: 'First version :)' }),
    );
    assert.equal(update.Environment, undefined);
    await settled();
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'no-environment' }));
    assert.equal(published.Environment, undefined);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'no-environment' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Environment),
      [undefined, undefined],
    );
    const given = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'no-environment',
        Environment: { Variables: { ENV_A: 'a' } },
      }),
    );
    assert.deepEqual(given.Environment, { Variables: { ENV_A: 'a' } });
    await settled();
    const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'no-environment' }));
    assert.deepEqual(Object.keys(after.Configuration ?? {}).sort(), GET_FUNCTION_FIELDS);
  });

  const createQueue = async (QueueName: string, Attributes?: Record<string, string>) =>
    (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;

  // test_sqs.py::TestSqsProvider::test_create_and_update_queue_attributes, ::test_fifo_set_content_based_deduplication_strategy
  it('SQS GetQueueAttributes All: the encryption default, and a FIFO queue’s throughput settings', async () => {
    const standard = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await createQueue('attrs'), AttributeNames: ['All'] }),
    );
    assert.equal(standard.Attributes?.SqsManagedSseEnabled, 'true');
    assert.equal(standard.Attributes?.DeduplicationScope, undefined);
    const fifoUrl = await createQueue('attrs.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    const fifo = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: fifoUrl, AttributeNames: ['All'] }));
    assert.deepEqual(Object.keys(fifo.Attributes ?? {}).sort(), [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesDelayed',
      'ApproximateNumberOfMessagesNotVisible',
      'ContentBasedDeduplication',
      'CreatedTimestamp',
      'DeduplicationScope',
      'DelaySeconds',
      'FifoQueue',
      'FifoThroughputLimit',
      'LastModifiedTimestamp',
      'MaximumMessageSize',
      'MessageRetentionPeriod',
      'QueueArn',
      'ReceiveMessageWaitTimeSeconds',
      'SqsManagedSseEnabled',
      'VisibilityTimeout',
    ]);
    assert.equal(fifo.Attributes?.DeduplicationScope, 'queue');
    assert.equal(fifo.Attributes?.FifoThroughputLimit, 'perQueue');
  });

  // test_sqs.py::TestSqsProvider::test_create_queue_with_different_attributes_raises_exception
  it('SQS CreateQueue of an existing name: its URL unless an attribute named differs, and nothing changed', async () => {
    const url = await createQueue('again', { ReceiveMessageWaitTimeSeconds: '1', DelaySeconds: '1' });
    assert.equal(await createQueue('again'), url);
    assert.equal(await createQueue('again', { DelaySeconds: '1' }), url);
    assert.deepEqual(
      await sqsFailure(() => createQueue('again', { ReceiveMessageWaitTimeSeconds: '1', DelaySeconds: '2' })),
      {
        Code: 'QueueAlreadyExists',
        name: 'QueueNameExists',
        Message: 'A queue already exists with the same name and a different value for attribute DelaySeconds',
      },
    );
    const kept = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    assert.equal(kept.Attributes?.ReceiveMessageWaitTimeSeconds, '1', 'a CreateQueue without attributes reset none');
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: '2' } }));
    assert.equal(await createQueue('again', { ReceiveMessageWaitTimeSeconds: '1', DelaySeconds: '2' }), url);
  });

  // test_sqs.py::TestSqsProvider::test_create_standard_queue_with_fifo_attribute_raises_error, ::test_set_unsupported_attribute_fifo
  it('SQS: FIFO-only attributes on a standard queue, and a queue type changed, refused in SQS’s words', async () => {
    for (const name of ['DeduplicationScope', 'FifoThroughputLimit']) {
      const value = name === 'DeduplicationScope' ? 'messageGroup' : 'perMessageGroupId';
      assert.deepEqual(await sqsFailure(() => createQueue('standard', { [name]: value })), {
        Code: 'InvalidAttributeName',
        name: 'InvalidAttributeName',
        Message: `You can specify the ${name} only when FifoQueue is set to true.`,
      });
    }
    const standard = await createQueue('standard');
    assert.deepEqual(
      await sqsFailure(() =>
        sqs.send(new SetQueueAttributesCommand({ QueueUrl: standard, Attributes: { FifoQueue: 'true' } })),
      ),
      { Code: 'InvalidAttributeName', name: 'InvalidAttributeName', Message: 'Unknown Attribute FifoQueue.' },
    );
    const fifo = await createQueue('typed.fifo', { FifoQueue: 'true' });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: fifo, Attributes: { FifoQueue: 'true' } }));
    assert.deepEqual(
      await sqsFailure(() =>
        sqs.send(new SetQueueAttributesCommand({ QueueUrl: fifo, Attributes: { FifoQueue: 'false' } })),
      ),
      {
        Code: 'InvalidAttributeValue',
        name: 'InvalidAttributeValue',
        Message: 'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.',
      },
    );
  });

  // test_sqs.py::TestSqsProvider::test_create_standard_queue_with_fifo_attribute_raises_error, ::test_set_unsupported_attribute_standard
  it('SQS: an attribute name the queue does not take is InvalidAttributeName "Unknown Attribute <name>."', async () => {
    const unknown = (Message: string) => ({ Code: 'InvalidAttributeName', name: 'InvalidAttributeName', Message });
    assert.deepEqual(
      await sqsFailure(() => createQueue('not-fifo', { FifoQueue: 'false' })),
      unknown('Unknown Attribute FifoQueue.'),
    );
    const QueueUrl = await createQueue('named');
    const set = (Attributes: Record<string, string>) =>
      sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes }));
    assert.deepEqual(
      await sqsFailure(() => set({ VisibilityTimeout: '5', Visibility: '5' })),
      unknown('Unknown Attribute Visibility.'),
    );
    assert.deepEqual(
      await sqsFailure(() => set({ ContentBasedDeduplication: 'true' })),
      unknown('Unknown Attribute ContentBasedDeduplication.'),
    );
    assert.deepEqual(
      await sqsFailure(() => set({ FifoThroughputLimit: 'perQueue' })),
      unknown('You can specify the FifoThroughputLimit only when FifoQueue is set to true.'),
    );
    await set({ SqsManagedSseEnabled: 'true', MaximumMessageSize: '2048' });
    const kept = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    assert.equal(kept.Attributes?.VisibilityTimeout, '30', 'a refused SetQueueAttributes changes nothing');
    assert.equal(kept.Attributes?.MaximumMessageSize, '2048');
  });

  // test_sqs.py::TestSqsProvider::test_too_many_entries_in_batch_request, ::test_invalid_batch_id,
  // ::test_send_message_with_empty_string_attribute
  it('SQS sends: a batch of 20, a batch entry id with a colon, an attribute without a value', async () => {
    const QueueUrl = await createQueue('sends');
    const entries = (n: number, id = (i: number) => `m${i}`) =>
      Array.from({ length: n }, (_, i) => ({ Id: id(i), MessageBody: 'x' }));
    assert.deepEqual(
      await sqsFailure(() => sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries(20) }))),
      {
        Code: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
        name: 'TooManyEntriesInBatchRequest',
        Message: 'Maximum number of entries per request are 10. You have sent 20.',
      },
    );
    assert.deepEqual(
      await sqsFailure(() =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries(1, () => 'message:1a2b3c') })),
      ),
      {
        Code: 'AWS.SimpleQueueService.InvalidBatchEntryId',
        name: 'InvalidBatchEntryId',
        Message:
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      },
    );
    assert.deepEqual(
      await sqsFailure(() =>
        sqs.send(
          new SendMessageCommand({
            QueueUrl,
            MessageBody: 'x',
            MessageAttributes: { ErrorDetails: { DataType: 'String', StringValue: '' } },
          }),
        ),
      ),
      {
        Code: 'InvalidParameterValue',
        name: 'InvalidParameterValue',
        Message: "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'.",
      },
    );
  });

  // test_sqs.py::test_send_message_to_standard_queue_with_invalid_message_group_id,
  // ::test_message_deduplication_id_invalid (each empty, 129 characters, with a space)
  it('SQS: a group id off its pattern on a standard queue, and a deduplication id off it on a FIFO queue', async () => {
    const standard = await createQueue('group-ids');
    const fifo = (
      await sqs.send(new CreateQueueCommand({ QueueName: 'dedup-ids.fifo', Attributes: { FifoQueue: 'true' } }))
    ).QueueUrl!;
    for (const bad of ['', 'a'.repeat(129), 'group 123']) {
      const reason = (parameter: string) => ({
        Code: 'InvalidParameterValue',
        name: 'InvalidParameterValue',
        Message: `Value ${bad} for parameter ${parameter} is invalid. Reason: ${parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
      });
      assert.deepEqual(
        await sqsFailure(() =>
          sqs.send(new SendMessageCommand({ QueueUrl: standard, MessageBody: 'message', MessageGroupId: bad })),
        ),
        reason('MessageGroupId'),
      );
      const dedup = () =>
        sqs.send(
          new SendMessageCommand({
            QueueUrl: fifo,
            MessageBody: 'Hello World!',
            MessageGroupId: 'test',
            MessageDeduplicationId: bad,
          }),
        );
      assert.deepEqual(await sqsFailure(dedup), reason('MessageDeduplicationId'));
    }
  });

  // test_sqs.py::test_set_empty_redrive_policy (validated against SQS)
  it("SQS: an empty RedrivePolicy removes the queue's redrive policy", async () => {
    const dlq = await createQueue('redrive-dlq');
    const source = await createQueue('redrive-source');
    const all = async (QueueUrl: string) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    const deadLetterTargetArn = (await all(dlq)).QueueArn!;
    const set = (QueueUrl: string, RedrivePolicy: string) =>
      sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { RedrivePolicy } }));
    await set(dlq, '');
    assert.equal((await all(dlq)).RedrivePolicy, undefined);
    await set(source, JSON.stringify({ deadLetterTargetArn, maxReceiveCount: '42' }));
    assert.match((await all(source)).RedrivePolicy ?? '', new RegExp(deadLetterTargetArn));
    await set(source, '');
    assert.equal((await all(source)).RedrivePolicy, undefined);
  });

  // test_sqs.py::test_set_queue_attributes_default_values
  it('SQS: a KMS key replaces SQS-managed encryption, and is shown with its reuse period until it is emptied', async () => {
    const QueueUrl = await createQueue('encryption');
    const all = async () =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    const encryption = (a: Record<string, string>) => ({
      KmsMasterKeyId: a.KmsMasterKeyId,
      KmsDataKeyReusePeriodSeconds: a.KmsDataKeyReusePeriodSeconds,
      SqsManagedSseEnabled: a.SqsManagedSseEnabled,
    });
    const set = (Attributes: Record<string, string>) =>
      sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes }));
    await set({ KmsMasterKeyId: 'testKeyId', KmsDataKeyReusePeriodSeconds: '6000' });
    assert.deepEqual(encryption(await all()), {
      KmsMasterKeyId: 'testKeyId',
      KmsDataKeyReusePeriodSeconds: '6000',
      SqsManagedSseEnabled: 'false',
    });
    await set({ KmsMasterKeyId: '', KmsDataKeyReusePeriodSeconds: '300' });
    assert.deepEqual(encryption(await all()), {
      KmsMasterKeyId: undefined,
      KmsDataKeyReusePeriodSeconds: undefined,
      SqsManagedSseEnabled: 'false',
    });
  });
});

describe('local endpoint: Secrets Manager answers as recorded from AWS', () => {
  let endpoint: Endpoint;
  let sm: SecretsManagerClient;

  before(async () => {
    ({ endpoint, sm } = await startSecretsEndpoint(new SecretStore()));
  });
  after(async () => {
    sm.destroy();
    await endpoint.close();
  });

  /** ListSecretVersionIds as the recordings compare it: each version's number in order of creation, and its stages. */
  const stagesOf = async (SecretId: string, ids: (string | undefined)[], IncludeDeprecated?: boolean) => {
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId, IncludeDeprecated }));
    return (listed.Versions ?? [])
      .map((v) => ({ v: ids.indexOf(v.VersionId) + 1, stages: v.VersionStages && [...v.VersionStages].sort() }))
      .sort((a, b) => a.v - b.v);
  };

  // test_secretsmanager.py::TestSecretsManager::test_rotate_secret_invalid_lambda_arn
  it('RotateSecret naming a function that is not there: AccessDeniedException in AWS’s words, nothing recorded', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'invalid-rotation', SecretString: 'init' }));
    const err = await rejection<AwsFailure>(() =>
      sm.send(
        new RotateSecretCommand({
          SecretId: 'invalid-rotation',
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotate_secret_invalid_lambda_arn',
          RotationRules: { AutomaticallyAfterDays: 1 },
        }),
      ),
    );
    assert.deepEqual(
      [err.$metadata.httpStatusCode, err.name, err.message],
      [
        400,
        'AccessDeniedException',
        'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      ],
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'invalid-rotation' }));
    assert.equal(described.RotationEnabled, undefined);
    assert.equal(described.RotationLambdaARN, undefined);
    assert.equal(described.RotationRules, undefined);
  });

  // test_secretsmanager.py::TestSecretsManager::test_deprecated_secret_version_stage
  it('ListSecretVersionIds: a version without stages only with IncludeDeprecated, and then without VersionStages', async () => {
    const SecretId = 'deprecated-stages';
    const ids = [(await sm.send(new CreateSecretCommand({ Name: SecretId, SecretString: 'original' }))).VersionId];
    for (const value of ['update1', 'update2', 'update3']) {
      ids.push((await sm.send(new PutSecretValueCommand({ SecretId, SecretString: value }))).VersionId);
    }
    assert.deepEqual(await stagesOf(SecretId, ids), [
      { v: 3, stages: ['AWSPREVIOUS'] },
      { v: 4, stages: ['AWSCURRENT'] },
    ]);
    assert.deepEqual(await stagesOf(SecretId, ids, true), [
      { v: 1, stages: undefined },
      { v: 2, stages: undefined },
      { v: 3, stages: ['AWSPREVIOUS'] },
      { v: 4, stages: ['AWSCURRENT'] },
    ]);
  });

  // test_secretsmanager.py::TestSecretsManager::test_update_secret_version_stages_current_pending
  it('PutSecretValue moving AWSCURRENT off a version that also holds AWSPENDING leaves it AWSPREVIOUS alone', async () => {
    const SecretId = 'current-pending';
    const ids = [(await sm.send(new CreateSecretCommand({ Name: SecretId, SecretString: 'Something1' }))).VersionId];
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId, SecretString: 'Something2', VersionStages: ['AWSPENDING'] }),
    );
    ids.push(pending.VersionId);
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId,
        VersionStage: 'AWSCURRENT',
        RemoveFromVersionId: ids[0],
        MoveToVersionId: ids[1],
      }),
    );
    assert.deepEqual(await stagesOf(SecretId, ids), [
      { v: 1, stages: ['AWSPREVIOUS'] },
      { v: 2, stages: ['AWSCURRENT', 'AWSPENDING'] },
    ]);
    ids.push((await sm.send(new PutSecretValueCommand({ SecretId, SecretString: 'SS3' }))).VersionId);
    assert.deepEqual(await stagesOf(SecretId, ids), [
      { v: 2, stages: ['AWSPREVIOUS'] },
      { v: 3, stages: ['AWSCURRENT'] },
    ]);
  });
});
