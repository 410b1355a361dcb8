/**
 * Attack: a deny the operator wrote, reached by the paths that are not a synchronous `mesh.call`. On the
 * local mesh running test/support/async-app (identity on, policy TTL 1 s), with the real `mesh policy
 * deny`, messages signed with sender's own identity (as its runtime signs them, or as anyone holding its
 * role and secret would), and Lambda Invoke, SQS and DynamoDB on the wire:
 * - a deny of sender on the `jobs` channel: sender's own sends are refused, and so must be a message it
 *   sent before the deny that is still waiting in the queue (or one sent past its runtime): the consumer
 *   asks the channel too.
 * Each test prints how long after the deny's command returned each path refused (`[timing]`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Identity } from '../../functions/mesh/identity';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import {
  ASYNC_TOKEN_LIFETIME_S,
  channelSpiffeId,
  ENV,
  LIVE_ALIAS,
  META,
  type MeshMetadata,
  SORT_KEY,
  TABLE,
} from '../../shared/names';
import { asyncFixtureAssembly, clientConfig } from '../support/example-assembly';
import { runMesh } from '../support/mesh-cli';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('security: a deny on the paths into a function that are not a call', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  let db: DynamoDBClient;
  let table = '';
  let sender: Identity;
  const logs: { fn: string; line: string }[] = [];
  const queueUrl = (name: string) => `${mesh.url}/000000000000/${name}`;

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [asyncFixtureAssembly()],
      port: 0,
      quiet: true,
      asyncRetryBaseMs: 300,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    sqs = new SQSClient(clientConfig(mesh.url));
    db = new DynamoDBClient(clientConfig(mesh.url));
    const sm = new SecretsManagerClient(clientConfig(mesh.url));
    let secret = '';
    for (const f of (await lambda.send(new ListFunctionsCommand({}))).Functions ?? []) {
      const v = f.Environment?.Variables ?? {};
      if (v[ENV.policyTable]) table = v[ENV.policyTable]!;
      if (v[ENV.service] === 'sender') secret = v[ENV.identitySecret]!;
    }
    sender = await Identity.create({
      read: async () => (await sm.send(new GetSecretValueCommand({ SecretId: secret }))).SecretString!,
    });
    sm.destroy();
  });
  after(async () => {
    lambda?.destroy();
    sqs?.destroy();
    db?.destroy();
    await mesh?.stop();
  });

  /** `mesh policy deny <from> <to>`; resolves when the command has returned (the deny's clock starts). */
  const deny = async (from: string, to: string) => {
    const r = await runMesh(mesh.url, ['policy', 'deny', from, to, '--reason', 'drill']);
    assert.equal(r.code, 0, r.stderr);
    return Date.now();
  };
  /** Lifts a deny, the item removed outright (the next test starts from the deployed policy). */
  const lift = (from: string, to: string) =>
    db.send(
      new DeleteItemCommand({
        TableName: table,
        Key: { [TABLE.partitionKey]: { S: to }, [TABLE.sortKey]: { S: SORT_KEY.deny(from) } },
      }),
    );
  /** What a consumer logged it received, by a field of the payload. */
  const handled = (fn: string, mark: string) =>
    logs.filter((l) => l.fn === fn && l.line.includes('received {') && l.line.includes(mark)).length;
  /** The consumer's refusals of records carrying `idk`, as its access log records them. */
  const refusals = (fn: string, idk: string) =>
    logs.filter((l) => l.fn === fn && l.line.includes(idk) && /"outcome":"denied"/.test(l.line)).length;
  const eventually = async <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 30_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (v !== undefined) return v;
      if (Date.now() > until) assert.fail(`${what} did not happen within ${ms} ms`);
      await sleep(100);
    }
  };
  /** A channel message's metadata as sender's runtime signs it (pipeline/sign.ts `signAsync`). */
  const channelMeta = (channel: string, body: string, idk: string): MeshMetadata => ({
    v: 1,
    src: 'sender',
    att: 1,
    idk,
    ch: channel,
    tok: sender.sign({
      target: channelSpiffeId('asy', channel),
      payload: body,
      idempotencyKey: idk,
      lifetimeS: ASYNC_TOKEN_LIFETIME_S,
      context: { att: 1 },
    }),
  });
  const sendSigned = (channel: string, payload: object, idk: string, delaySeconds = 0) => {
    const body = JSON.stringify(payload);
    return sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl(`asy-${channel}`),
        MessageBody: body,
        DelaySeconds: delaySeconds,
        MessageAttributes: {
          [META.messageAttribute]: { DataType: 'String', StringValue: JSON.stringify(channelMeta(channel, body, idk)) },
        },
      }),
    );
  };
  const invokeSender = async (to: string, payload: object) => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'asy-sender',
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ to, payload })),
      }),
    );
    return { error: out.FunctionError, body: Buffer.from(out.Payload ?? new Uint8Array()).toString() };
  };

  it('a deny of sender on the jobs channel refuses its queued message at the consumer, not only its next send', async () => {
    // The message is sent (signed by sender, as its runtime signs) before the deny and waits in the queue.
    await sendSigned('jobs', { mark: 'queued-before-channel-deny' }, 'k-channel-1', 4);
    const denied = await deny('sender', 'jobs');
    try {
      // sender's own runtime refuses its next send to the channel.
      const refusedAfter = await eventually('the sender refusing its send', async () => {
        const r = await invokeSender('jobs', { mark: 'sent-after-channel-deny' });
        return r.error ? Date.now() - denied : undefined;
      });
      console.log(`[timing] channel deny: sender refuses its send ${refusedAfter} ms after the command returned`);
      // The queued message is delivered to the consumer: it must be refused too.
      await eventually('the queued record judged', () =>
        refusals('asy-consumer', 'k-channel-1') + handled('asy-consumer', 'queued-before-channel-deny') > 0
          ? true
          : undefined,
      );
      assert.equal(handled('asy-consumer', 'queued-before-channel-deny'), 0, 'the consumer handled a denied sender');
    } finally {
      await lift('sender', 'jobs');
    }
  });
});
