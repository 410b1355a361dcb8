/**
 * Event invokes on the local endpoint as Lambda's asynchronous event queue treats them (AWS Lambda
 * Developer Guide, "Asynchronous invocation", "Configuring error handling settings for Lambda
 * asynchronous invocations"), through the real @aws-sdk/client-lambda and client-sqs: the maximum event
 * age bounds both the retries of a function error and the waits of a throttled event, and an event that
 * outlives it reaches the on-failure destination with the condition EventAgeExceeded.
 *
 * The local event queue runs Lambda's clock scaled: `retryBaseMs` stands for Lambda's one minute before
 * the first retry, so here 200 ms is a minute and 500 ms is 150 seconds.
 */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { AsyncDestinations } from '../../local/sqs/async-destinations';
import { QueueStore } from '../../local/sqs/queue-store';
import { sqsJsonServices } from '../../local/sqs/sqs-api';
import { clientConfig } from '../support/example-assembly';
import { oneStackAssembly } from '../support/one-stack-assembly';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

interface InvocationRecord {
  requestContext: { condition: string; approximateInvokeCount: number; functionArn: string };
  requestPayload: unknown;
  responseContext?: { functionError?: string };
  responsePayload?: unknown;
}

describe('local endpoint: the asynchronous event queue', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  let queues: QueueStore;
  let destinations: AsyncDestinations;
  const registry = new TestRegistry();
  const attempts = new Map<string, number>();

  before(async () => {
    queues = new QueueStore({ region: 'us-east-1', accountId: '000000000000', endpointUrl: () => endpoint.url });
    destinations = new AsyncDestinations({ queues, retryBaseMs: 200, invokeAsync: async () => undefined });
    endpoint = await startEndpoint({
      port: 0,
      registry,
      invoker: new TestInvoker(registry),
      jsonServices: sqsJsonServices(queues),
      asyncInvokes: destinations,
      log: () => undefined,
    });
    queues.put('failures');
    lambda = new LambdaClient(clientConfig(endpoint.url));
    sqs = new SQSClient(clientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    sqs.destroy();
    await endpoint.close();
  });

  /** A function that always throws, counting its runs. */
  const failing = (name: string) =>
    registry.add(name, () => {
      attempts.set(name, (attempts.get(name) ?? 0) + 1);
      throw new Error('boom');
    });
  const invokeEvent = async (name: string, payload: unknown) => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    assert.equal(out.StatusCode, 202);
  };
  /** The next invocation record in the on-failure queue (waits up to `ms`). */
  const nextRecord = async (ms = 10_000): Promise<InvocationRecord> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.get('failures')!.url, WaitTimeSeconds: 1 }),
      );
      const body = got.Messages?.[0]?.Body;
      if (body) return JSON.parse(body) as InvocationRecord;
    }
    assert.fail(`no invocation record within ${ms} ms`);
  };

  it('a throttled event is retried until its maximum age, then recorded as EventAgeExceeded', async () => {
    // Prepare: throttled all along; 60 s of age is 200 ms here.
    failing('busy');
    registry.setThrottled('busy', true, 0);
    destinations.put('busy', undefined, { maximumEventAgeInSeconds: 60, onFailure: queues.arnOf('failures') });

    // Act
    await invokeEvent('busy', { order: 't-1' });
    const record = await nextRecord();

    // Assess: never ran, so no response; the request as sent.
    assert.equal(record.requestContext.condition, 'EventAgeExceeded');
    assert.equal(record.requestContext.approximateInvokeCount, 0);
    assert.deepEqual(record.requestPayload, { order: 't-1' });
    assert.equal(record.responseContext, undefined);
    assert.equal(attempts.get('busy'), undefined);
  });

  it('a failing event is not retried past its maximum age: EventAgeExceeded before the retries run out', async () => {
    // Prepare: 150 s of age holds the retry a minute after the first attempt, not the one two minutes later.
    failing('aging');
    destinations.put('aging', undefined, { maximumEventAgeInSeconds: 150, onFailure: queues.arnOf('failures') });

    // Act
    await invokeEvent('aging', { order: 'a-1' });
    const record = await nextRecord();

    // Assess
    assert.equal(record.requestContext.condition, 'EventAgeExceeded');
    assert.equal(record.requestContext.approximateInvokeCount, 2);
    assert.equal(record.responseContext?.functionError, 'Unhandled');
    assert.equal(attempts.get('aging'), 2);
  });

  it("a template's AWS::Lambda::EventInvokeConfig sets the maximum event age with the retries", async () => {
    // Prepare: an assembly of one stack holding only the config.
    const config = { FunctionName: 'aged', Qualifier: 'live', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 120 };
    const dir = oneStackAssembly('event-invoke-config', {
      Cfg: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: config },
    });

    try {
      // Act
      await applyAssembly(
        dir,
        { registry, asyncSettings: destinations, workDir: dir, log: () => undefined },
        newDeploymentState(),
      );

      // Assess
      assert.deepEqual(destinations.settings('aged', 'live'), {
        maximumRetryAttempts: 1,
        maximumEventAgeInSeconds: 120,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PutFunctionEventInvokeConfig on the wire sets what the next Event invoke follows; Get, Update, Delete', async () => {
    // Prepare
    failing('configured');
    const onFailure = queues.arnOf('failures');

    // Act: no retries, a destination; then one retry, the destination kept; then gone.
    const put = await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'configured',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: onFailure } },
      }),
    );
    await invokeEvent('configured', { order: 'c-1' });
    const record = await nextRecord();
    await lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'configured', MaximumRetryAttempts: 1 }),
    );
    const updated = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }));
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }));
    const gone = await rejection(() =>
      lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' })),
    );
    const tooMany = await rejection(() =>
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', MaximumRetryAttempts: 3 })),
    );

    // Assess
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:configured:$LATEST';
    assert.equal(put.FunctionArn, arn);
    assert.ok(put.LastModified instanceof Date);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: { Destination: onFailure } });
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.equal(attempts.get('configured'), 1);
    assert.equal(updated.MaximumRetryAttempts, 1);
    assert.deepEqual(updated.DestinationConfig?.OnFailure, { Destination: onFailure });
    assert.equal(gone.name, 'ResourceNotFoundException');
    assert.equal(gone.message, `The function ${arn} doesn't have an EventInvokeConfig`);
    assert.equal(tooMany.name, 'ValidationException');
    assert.match(
      tooMany.message,
      /'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2/,
    );
  });

  it('with zero reserved concurrency an event goes to the on-failure destination at once, never run', async () => {
    // Prepare: 6 hours of age would keep a throttled event for minutes here; zero concurrency does not wait.
    failing('off');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'off', ReservedConcurrentExecutions: 0 }));
    registry.setThrottled('off', true, 0); // what the local invoker answers at zero
    destinations.put('off', undefined, { onFailure: queues.arnOf('failures') });

    // Act
    await invokeEvent('off', { order: 'z-1' });
    const record = await nextRecord(3000);

    // Assess
    assert.equal(record.requestContext.condition, 'ZeroReservedConcurrency');
    assert.equal(record.requestContext.approximateInvokeCount, 0);
    assert.equal(record.responseContext, undefined);
    assert.equal(attempts.get('off'), undefined);
  });

  it("a function's dead-letter queue gets the event as sent, with RequestID, ErrorCode and ErrorMessage", async () => {
    // Prepare: DeadLetterConfig on the function, no retries.
    queues.put('dead-letters');
    registry.add(
      'lettered',
      () => {
        throw new Error('boom');
      },
      {},
      { deadLetterTargetArn: queues.arnOf('dead-letters') },
    );
    destinations.put('lettered', undefined, { maximumRetryAttempts: 0 });

    // Act
    const sent = '{"order":"d-1",  "spaced":true}';
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'lettered', InvocationType: 'Event', Payload: Buffer.from(sent) }),
    );
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'lettered' }));
    let letter: Message[] | undefined;
    for (let i = 0; i < 10 && !letter; i++) {
      letter = (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.get('dead-letters')!.url,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
          }),
        )
      ).Messages;
    }

    // Assess
    assert.deepEqual(config.DeadLetterConfig, { TargetArn: queues.arnOf('dead-letters') });
    assert.equal(letter?.[0]?.Body, sent);
    assert.deepEqual(letter?.[0]?.MessageAttributes, {
      RequestID: { DataType: 'String', StringValue: out.$metadata.requestId },
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: 'boom' },
    });
  });

  it('ListFunctionEventInvokeConfigs lists the settings of each qualifier of a function', async () => {
    // Prepare
    registry.add('listed', () => null);
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'listed', MaximumRetryAttempts: 1 }));

    // Act
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'listed' }));
    const busy = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'busy' }));

    // Assess
    assert.deepEqual(
      listed.FunctionEventInvokeConfigs?.map((c) => [c.FunctionArn, c.MaximumRetryAttempts]),
      [['arn:aws:lambda:us-east-1:000000000000:function:listed:$LATEST', 1]],
    );
    assert.equal(listed.NextMarker, undefined);
    assert.equal(busy.FunctionEventInvokeConfigs?.length, 1, 'busy has the settings its test put');
  });

  it('ListFunctionEventInvokeConfigs refuses a MaxItems over 50 (its range, 1 to 50), as Lambda does', async () => {
    // Prepare
    registry.add('paged', () => null);

    // Act
    const over = await rejection<Error & { $metadata: { httpStatusCode?: number } }>(() =>
      lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'paged', MaxItems: 51 })),
    );
    const fifty = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'paged', MaxItems: 50 }));

    // Assess
    assert.equal(over.name, 'ValidationException');
    assert.equal(over.$metadata.httpStatusCode, 400);
    assert.equal(
      over.message,
      "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
    assert.deepEqual(fifty.FunctionEventInvokeConfigs, []);
  });
});
