/**
 * Where the wire path does not go, the runtime's AWS operations go through the AWS SDK (docs/aws-wire.md,
 * functions/mesh/aws/wire-or-sdk.ts): here credentials that come from a container credentials endpoint,
 * not from the environment. A loopback server hands out those credentials as the Lambda container
 * endpoint does; another stands in for Lambda, Secrets Manager and DynamoDB, and a third for SQS, SNS
 * and EventBridge (test/support/channel-services.ts), each checking that requests are signed with them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { IDLE_RESET_MS } from '../../functions/mesh/aws';
import { secretsManagerReader } from '../../functions/mesh/identity/secret-reader';
import { PolicyTableQuery } from '../../functions/mesh/policy/policy-table-query';
import { TableLeaser } from '../../functions/mesh/resilience/rate-limit-table';
import { channelTransport } from '../../functions/mesh/transport/channel-transport';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import type { ChannelTarget } from '../../shared/channel';
import { META } from '../../shared/names';
import { type ChannelServices, startChannelServices } from '../support/channel-services';
import { checkSigV4 } from '../support/sigv4-check';

const CONTAINER_CREDS = { accessKeyId: 'ASIACONTAINER', secretAccessKey: 'container-secret' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('the SDK path, for credentials from a container endpoint', () => {
  const signed: { ok: boolean; service?: string; token?: string }[] = [];
  let updates = 0;
  const creds = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        AccessKeyId: CONTAINER_CREDS.accessKeyId,
        SecretAccessKey: CONTAINER_CREDS.secretAccessKey,
        Token: 'container-token',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
  });
  const aws = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const check = await checkSigV4(req, Buffer.concat(chunks), CONTAINER_CREDS);
    signed.push({ ok: check.ok, service: check.service, token: check.sessionToken });
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = (body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (target === 'secretsmanager.GetSecretValue') return json({ SecretString: 'the-secret' });
    if (target === 'DynamoDB_20120810.Query') return json({ Items: [{ pk: { S: 'payments' } }], Count: 1 });
    if (target === 'DynamoDB_20120810.UpdateItem') {
      updates++;
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      return res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'x' }));
    }
    json({ paid: true }, { 'x-amz-executed-version': '4' });
  });
  let connections = 0;
  aws.on('connection', () => connections++);
  let env: Record<string, string>;
  let channels: ChannelServices;
  const saved = { ...process.env };
  before(async () => {
    channels = await startChannelServices(CONTAINER_CREDS);
    env = {
      AWS_ENDPOINT_URL: await listen(aws),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${await listen(creds)}/creds`,
      AWS_REGION: 'eu-west-1',
    };
    // The SDK's credential providers read the process's environment.
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete process.env[k];
    Object.assign(process.env, env);
  });
  after(async () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await close(aws);
    await close(creds);
    await channels.close();
  });

  it('Invoke, GetSecretValue and Query go through the SDK, signed with the container credentials', async () => {
    // Act
    const transport = new LambdaInvokeTransport({ env });
    const invoked = await transport.invoke({
      functionName: 'shop-payments',
      qualifier: 'live',
      payload: Buffer.from('{}'),
      clientContext: Buffer.from('{}').toString('base64'),
      signal: new AbortController().signal,
    });
    const secret = await secretsManagerReader('shop/identity/orders', env)();
    const items = await new PolicyTableQuery({ env }).query({
      TableName: 'shop-policy',
      KeyConditionExpression: '#pk = :pk',
    });
    // Assess
    assert.equal(transport.path, 'sdk');
    assert.equal(invoked.executedVersion, '4');
    assert.deepEqual(JSON.parse(Buffer.from(invoked.payload).toString()), { paid: true });
    assert.equal(secret, 'the-secret');
    assert.deepEqual(items.Items, [{ pk: { S: 'payments' } }]);
    assert.deepEqual(
      signed.map((s) => [s.ok, s.service, s.token]),
      [
        [true, 'lambda', 'container-token'],
        [true, 'secretsmanager', 'container-token'],
        [true, 'dynamodb', 'container-token'],
      ],
    );
  });

  it('a channel send goes through the SDK too: SendMessage, Publish and PutEvents, as the services read them', async () => {
    // Prepare: each service at its own configured endpoint, as AWS_ENDPOINT_URL_<SERVICE> names it.
    const chEnv = {
      ...env,
      AWS_ENDPOINT_URL_SQS: channels.url,
      AWS_ENDPOINT_URL_SNS: channels.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: channels.url,
    };
    const targets: Record<string, ChannelTarget> = {
      'order-events': {
        kind: 'sqs',
        arn: 'arn:aws:sqs:eu-west-1:123456789012:order-events',
        url: `${channels.url}/123456789012/order-events`,
      },
      'order-news': { kind: 'sns', arn: 'arn:aws:sns:eu-west-1:123456789012:order-news' },
      'shop-bus': { kind: 'events', arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/shop' },
    };
    const payload = '{"type":"order-placed","orderId":"o-3"}';
    const trace = 'Root=1-6a000000-0123456789abcdef01234567;Parent=a1b2c3d4e5f60718;Sampled=1';
    // Act
    const answers: unknown[] = [];
    for (const [channel, target] of Object.entries(targets)) {
      const meta = { v: 1 as const, src: 'orders', ch: channel, idk: 'k-3', tok: 'm2.a.b.c' };
      const out = await channelTransport(channel, target, chEnv).invoke({
        functionName: target.arn,
        qualifier: '',
        payload: Buffer.from(payload),
        clientContext: '',
        metadata: meta,
        traceHeader: trace,
        signal: new AbortController().signal,
      });
      answers.push(JSON.parse(Buffer.from(out.payload).toString('utf8')));
    }
    // Assess: signed with the container's credentials, read by each service as the wire path's message.
    const [sqs, sns, events] = channels.received;
    assert.deepEqual(
      channels.received.map((r) => [r.signature.ok, r.signature.service, r.signature.sessionToken]),
      [
        [true, 'sqs', 'container-token'],
        [true, 'sns', 'container-token'],
        [true, 'events', 'container-token'],
      ],
    );
    const attribute = (ch: string) => ({
      [META.messageAttribute]: {
        DataType: 'String',
        StringValue: JSON.stringify({ v: 1, src: 'orders', ch, idk: 'k-3', tok: 'm2.a.b.c' }),
      },
    });
    assert.deepEqual(sqs?.accepted, {
      kind: 'sqs',
      input: {
        QueueUrl: targets['order-events']!.url,
        MessageBody: payload,
        MessageAttributes: attribute('order-events'),
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } },
      },
    });
    assert.deepEqual(sns?.accepted, {
      kind: 'sns',
      TopicArn: targets['order-news']!.arn,
      Message: payload,
      attributes: attribute('order-news'),
    });
    const entry = (events?.accepted as { entries: Record<string, unknown>[] } | undefined)?.entries[0];
    assert.deepEqual(
      [entry?.EventBusName, entry?.Source, entry?.DetailType],
      [targets['shop-bus']!.arn, 'lambda-mesh', 'shop-bus'],
    );
    // The answers carry the ids `mesh.send` resolves with, without the SDK's own fields.
    const [sent, published, put] = answers as Record<string, unknown>[];
    assert.match(String(sent?.MessageId), /^[0-9a-f-]{36}$/);
    assert.match(String(published?.MessageId), /^[0-9a-f-]{36}$/);
    assert.equal(put?.FailedEntryCount, 0);
    assert.equal(sent?.$metadata, undefined);
  });

  it('an SDK client opens a new connection after an idle spell, as the wire client does', async () => {
    // Prepare
    const transport = new LambdaInvokeTransport({ env });
    const invoke = () =>
      transport.invoke({
        functionName: 'shop-payments',
        qualifier: 'live',
        payload: Buffer.from('{}'),
        clientContext: '',
        signal: new AbortController().signal,
      });
    await invoke();
    const first = connections;
    // Act
    await invoke();
    const whileFresh = connections - first;
    await new Promise((r) => setTimeout(r, IDLE_RESET_MS + 100));
    await invoke();
    // Assess: the SDK's own agent would have reused the idle connection.
    assert.equal(whileFresh, 0, 'reused while fresh');
    assert.equal(connections - first, 1, 'a new connection after the idle spell');
  });

  it('a rate-limit lease through the SDK is one attempt, as on the wire: a lost write is not repeated', async () => {
    const leaser = new TableLeaser('shop-policy', env);
    const limits = { perSecond: 10, burst: 10 };
    await assert.rejects(
      leaser.lease({ target: 'payments', scope: 'traffic', limits, want: 5, minGrant: 1, now: Date.now() }),
      { name: 'InternalServerError' },
    );
    assert.equal(updates, 1, 'UpdateItem requests');
  });
});
