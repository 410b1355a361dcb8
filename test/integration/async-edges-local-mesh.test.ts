/**
 * Asynchronous edges on the local mesh (test/support/async-app), the real constructs, layer and
 * runtime, driven through the AWS SDK on the wire: an Event invoke and an SQS hop are authorized,
 * traced across the hop and counted on both sides; a forged or unsigned record is refused and reported
 * without failing the rest of its batch (and ends in the dead-letter queue); an Event invoke whose
 * handler throws is retried twice and lands in its on-failure destination.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { LIVE_ALIAS, META } from '../../shared/names';
import { withTraceHeader } from '../../shared/sdk-trace-header';
import { newTraceId } from '../../shared/trace-header';
import { eventuallyValue } from '../support/eventually-value';
import { asyncFixtureAssembly, clientConfig } from '../support/example-assembly';

describe('local mesh: asynchronous edges', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  const logs: { fn: string; line: string }[] = [];
  const queueUrl = (name: string) => `${mesh.url}/000000000000/${name}`;

  before(async () => {
    const assembly = asyncFixtureAssembly();
    mesh = await startLocalMesh({
      assemblies: [assembly],
      port: 0,
      quiet: true,
      asyncRetryBaseMs: 100,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    sqs = new SQSClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    sqs?.destroy();
    await mesh?.stop();
  });

  /** Sends `payload` to `to` through the sender; `traceHeader` puts the sender's run in that trace. */
  const send = async (to: string, payload: unknown, traceHeader?: string) => {
    const out = await lambda.send(
      withTraceHeader(
        new InvokeCommand({
          FunctionName: 'asy-sender',
          Qualifier: LIVE_ALIAS,
          Payload: Buffer.from(JSON.stringify({ to, payload })),
        }),
        traceHeader,
      ),
    );
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(out.FunctionError, undefined, text);
    return JSON.parse(text) as { idempotencyKey: string; messageId?: string };
  };
  /** What the worker and the consumer logged they received (`received {from, payload}`). */
  const received = (fn: string) =>
    logs
      .filter((l) => l.fn === fn && l.line.includes('received {'))
      .map(
        (l) =>
          JSON.parse(l.line.slice(l.line.indexOf('received ') + 9)) as {
            from: string;
            payload: unknown;
            attributes: string[];
            request: string;
          },
      );
  const eventually = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 15_000) =>
    eventuallyValue(what, get, ms);
  const edge = (source: string, destination: string, reporter: string) =>
    mesh.store
      .stats({ windowMs: 600_000 })
      .edges.find((e) => e.source === source && e.destination === destination && e.reporter === reporter);

  test('an Event invoke is authorized, reaches the handler as sent, is traced across and counted on both sides', async () => {
    const payload = { order: 'o-1', note: 'ü \u2028', n: [1, 2.5] };
    const receipt = await send('worker', payload);
    assert.ok(receipt.idempotencyKey);
    const got = await eventually('the worker run', () =>
      received('asy-worker').find((r) => (r.payload as { order?: string }).order === 'o-1'),
    );
    assert.deepEqual(
      { from: got.from, payload: got.payload, attributes: got.attributes },
      { from: 'sender', payload, attributes: [] },
    );
    await eventually('both sides counted', () => (edge('sender', 'worker', 'destination') ? true : undefined));
    assert.ok(edge('sender', 'worker', 'source'), 'the sender counts the send');
    // One trace holds the sender's send and the worker's run.
    const trace = await eventually('one trace across the hop', () =>
      mesh.store.traces(50).find((t) => t.services.includes('asy-sender') && t.services.includes('asy-worker')),
    );
    assert.ok(trace);
  });

  test('an SQS hop: the record is verified, handed on without the mesh attribute, traced and counted', async () => {
    const receipt = await send('jobs', { job: 'j-1' });
    assert.ok(receipt.messageId, 'SQS gave the message an id');
    const got = await eventually('the consumer run', () =>
      received('asy-consumer').find((r) => (r.payload as { job?: string }).job === 'j-1'),
    );
    assert.equal(got.from, 'sender');
    assert.deepEqual(got.attributes, [], 'the mesh attribute is taken off before the handler');
    await eventually('the consumer counts the record', () =>
      edge('sender', 'consumer', 'destination') ? true : undefined,
    );
    assert.ok(edge('sender', 'jobs', 'source'), 'the sender counts its send to the channel');
    const trace = await eventually('the consumer in the sender trace', () => {
      return mesh.store
        .traces(50)
        .find((s) => s.services.includes('asy-sender') && s.services.includes('asy-consumer'));
    });
    assert.ok(trace);
  });

  test('a batch of several records: each message trace holds its handling, no invocation traced apart', async () => {
    // Prepare: each message is sent in a trace of its own (its order, in the example shop).
    const t0 = Date.now();
    const traces = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, root: newTraceId() }));
    const header = (root: string) => `Root=${root};Sampled=1`;
    const got = (name: string) =>
      received('asy-consumer').find((r) => (r.payload as { batch?: string }).batch === name);
    // Act: sent one after another, within the mapping's 5-second batching window of the first.
    for (const t of traces) await send('events', { batch: t.name }, header(t.root));
    const runs = await eventually('every message in the consumer', () => {
      const all = traces.map((t) => got(t.name));
      return all.every((r) => r) ? all.map((r) => r!.request) : undefined;
    });
    // Assess: the messages came in batches of more than one record...
    const perRun = new Map<string, number>();
    for (const r of runs) perRun.set(r, (perRun.get(r) ?? 0) + 1);
    assert.ok(Math.max(...perRun.values()) > 1, `records per invocation: ${[...perRun.values()].join(', ')}`);
    // ...each message's trace holds the sender and the consumer (segments come over UDP: polled)...
    const missing = () =>
      traces.filter((t) => !mesh.store.trace(t.root)?.services.includes('asy-consumer')).map((t) => t.name);
    await eventually('the consumer in every message trace', () => (missing().length === 0 ? true : undefined));
    for (const t of traces) assert.ok(mesh.store.trace(t.root)?.services.includes('asy-sender'), t.name);
    // ...and no invocation of the consumer started a trace of its own.
    const apart = mesh.store
      .traces(500)
      .filter((t) => t.start >= t0 && t.services.length === 1 && t.services[0] === 'asy-consumer');
    assert.deepEqual(
      apart.map((t) => t.id),
      [],
      'consumer invocations traced apart from the messages they handled',
    );
  });

  test('forged and unsigned records are refused and kept apart; the good record of the batch goes through', async () => {
    // A copy of a real message whose payload was changed, and a record that only claims to be `sender`.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('asy-jobs'),
        MessageBody: JSON.stringify({ job: 'forged' }),
        MessageAttributes: {
          [META.messageAttribute]: {
            DataType: 'String',
            StringValue: JSON.stringify({ v: 1, src: 'sender', ch: 'jobs', idk: 'k-forged', tok: 'm2.a.b.c' }),
          },
        },
      }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('asy-jobs'),
        MessageBody: JSON.stringify({ job: 'unsigned' }),
        MessageAttributes: {
          [META.messageAttribute]: {
            DataType: 'String',
            StringValue: JSON.stringify({ v: 1, src: 'sender', ch: 'jobs' }),
          },
        },
      }),
    );
    await send('jobs', { job: 'j-2' });
    await eventually('the good record', () =>
      received('asy-consumer').find((r) => (r.payload as { job?: string }).job === 'j-2'),
    );
    // Refused twice (maxReceiveCount 2), both move to the dead-letter queue; the handler never saw them.
    const bodies: string[] = [];
    const dead = await eventually(
      'both refused records in the dead-letter queue',
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl('asy-jobs-dead'),
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        bodies.push(...(out.Messages ?? []).map((m) => JSON.parse(m.Body!).job));
        return bodies.length === 2 ? bodies.sort() : undefined;
      },
      20_000,
    );
    assert.deepEqual(dead, ['forged', 'unsigned']);
    assert.ok(
      !received('asy-consumer').some((r) => ['forged', 'unsigned'].includes((r.payload as { job: string }).job)),
    );
    const refused = mesh.store
      .stats({ windowMs: 600_000 })
      .edges.filter((e) => e.destination === 'consumer' && e.source === 'unknown');
    assert.ok(refused.length > 0, 'refused records are counted from `unknown`, never as the claimed sender');
  });

  test('an Event invoke whose handler throws is retried twice, then lands in its on-failure destination', async () => {
    await send('worker', { order: 'bad', fail: true });
    const out = await eventually('the invocation record', async () => {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl('asy-failures'), WaitTimeSeconds: 1 }));
      return r.Messages?.[0];
    });
    const record = JSON.parse(out.Body!);
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.equal(record.requestContext.approximateInvokeCount, 3);
    assert.equal(record.responseContext.functionError, 'Unhandled');
    assert.equal(received('asy-worker').filter((r) => (r.payload as { order?: string }).order === 'bad').length, 3);
  });

  test('the SQS wire the SDK speaks: batches, attributes (their digests checked by the SDK), errors', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'wire-check' }));
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'wire-check' }))).QueueUrl, QueueUrl);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'première', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
          { Id: 'b', MessageBody: '{"n":2}', MessageAttributes: { n: { DataType: 'Number', StringValue: '2' } } },
        ],
      }),
    );
    assert.deepEqual(sent.Successful?.map((e) => e.Id).sort(), ['a', 'b']);
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    assert.deepEqual(got.Messages?.map((m) => m.Body).sort(), ['première', '{"n":2}'].sort());
    assert.equal(got.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '1');
    const attrs = got.Messages?.find((m) => m.Body === 'première')?.MessageAttributes;
    assert.deepEqual(attrs, { k: { DataType: 'String', StringValue: 'v' } });
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: got.Messages!.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    assert.equal(deleted.Successful?.length, 2);
    const counts = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    assert.equal(counts.Attributes?.ApproximateNumberOfMessages, '0');
    assert.equal(counts.Attributes?.ApproximateNumberOfMessagesNotVisible, '0');
    await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })), (e: Error) => {
      assert.match(e.name, /QueueDoesNotExist/);
      return true;
    });
  });
});
