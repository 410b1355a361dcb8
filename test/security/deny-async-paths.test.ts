/**
 * Attack: a deny the operator wrote, reached by the paths that are not a synchronous `mesh.call`. On the
 * local mesh running test/support/async-app (identity on, policy TTL 1 s), with the real `mesh policy
 * deny`, messages signed with sender's own identity (as its runtime signs them, or as anyone holding its
 * role and secret would), and Lambda Invoke, SQS and DynamoDB on the wire:
 * - a deny of sender on the `jobs` channel: sender's own sends are refused, and so must be a message it
 *   sent before the deny that is still waiting in the queue (or one sent past its runtime): the consumer
 *   asks the channel too;
 * - a deny of sender on the consumer: a record sent through sender's runtime (whose check is the
 *   channel's) is refused at each receive, never handled, and ends in the queue's dead-letter queue
 *   after its `maxReceiveCount` (2);
 * - a deny of sender on worker: sender's own Event invoke is refused before it is sent; one signed as
 *   its runtime signs is refused on Lambda's try and on both of its retries (a refusal is a function
 *   error to Lambda), the handler never runs, and the event ends in the on-failure destination with
 *   `MeshDeniedError` and nothing of the reason;
 * - a plain Invoke from outside the mesh (no metadata) is `external`: refused where no `allow#external`
 *   admits it, and refused where one does once `external` is denied.
 * Each path refuses within TTL + 1 s of the command (with slack); the times are printed (`[timing]`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvocationType, InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
import { eventuallyValue } from '../support/eventually-value';
import { asyncFixtureAssembly, clientConfig } from '../support/example-assembly';
import { runMesh } from '../support/mesh-cli';

/**
 * How long after the deny's command returned each path must refuse: the fixture's policy TTL (1 s) and
 * the 1 s of grace (docs/safety.md, "A deny wins within TTL + 1 s"), with 8 s of slack for a busy machine.
 * The times measured are printed, not asserted.
 */
const DENY_BOUND_MS = 1_000 + 1_000 + 8_000;

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
  const eventually = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 30_000) =>
    eventuallyValue(what, get, ms);
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
  /** The messages `queue` holds now (received once, left to come back). */
  const drain = async (queue: string) => {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    return (out.Messages ?? []).map((m) => m.Body ?? '');
  };
  /** An Event invoke of worker as sender's `mesh.send` makes it: the envelope, its token for worker. */
  const sendEvent = (payload: object, idk: string) => {
    const bytes = JSON.stringify(payload);
    const meta: MeshMetadata = {
      v: 1,
      src: 'sender',
      att: 1,
      idk,
      tok: sender.sign({
        target: 'worker',
        payload: bytes,
        idempotencyKey: idk,
        lifetimeS: ASYNC_TOKEN_LIFETIME_S,
        context: { att: 1 },
      }),
    };
    return lambda.send(
      new InvokeCommand({
        FunctionName: 'asy-worker',
        Qualifier: LIVE_ALIAS,
        InvocationType: InvocationType.Event,
        Payload: Buffer.from(JSON.stringify({ [META.messageAttribute]: meta, payload })),
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
      assert.ok(refusedAfter <= DENY_BOUND_MS, `${refusedAfter} ms`);
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

  it('a deny of sender on the consumer refuses each receive of its queued record, which ends in the dead-letter queue', async () => {
    const denied = await deny('sender', 'consumer');
    try {
      // Sent through sender's runtime: its check is the channel's, which still allows it.
      let n = 0;
      const refusedAfter = await eventually('a record of sender refused by the consumer', async () => {
        n += 1;
        const r = await invokeSender('jobs', { mark: `after-consumer-deny-${n}` });
        assert.equal(r.error, undefined, r.body);
        const idk = (JSON.parse(r.body) as { idempotencyKey: string }).idempotencyKey;
        const seen = await eventually('the record judged', () =>
          refusals('asy-consumer', idk) + handled('asy-consumer', `after-consumer-deny-${n}"`) > 0 ? idk : undefined,
        );
        return refusals('asy-consumer', seen) > 0
          ? { at: Date.now() - denied, idk: seen, mark: `after-consumer-deny-${n}"` }
          : undefined;
      });
      console.log(`[timing] consumer deny: a record sent ${refusedAfter.at} ms after the command returned was refused`);
      assert.ok(refusedAfter.at <= DENY_BOUND_MS, `${refusedAfter.at} ms`);
      // Received twice (the queue's maxReceiveCount), refused twice, then in the dead-letter queue.
      const dead: string[] = [];
      await eventually('the refused record in the dead-letter queue', async () => {
        dead.push(...(await drain('asy-jobs-dead')));
        return dead.some((b) => b.includes(refusedAfter.mark)) ? true : undefined;
      });
      assert.equal(refusals('asy-consumer', refusedAfter.idk), 2);
      assert.equal(handled('asy-consumer', refusedAfter.mark), 0, 'the handler saw a denied record');
    } finally {
      await lift('sender', 'consumer');
    }
  });

  it("a deny of sender on worker refuses an Event invoke on Lambda's try and both retries, then the on-failure destination keeps it", async () => {
    const denied = await deny('sender', 'worker');
    try {
      // sender's runtime refuses the send itself (the check of worker's policy, fail fast).
      const refusedAfter = await eventually('the sender refusing its send', async () => {
        const r = await invokeSender('worker', { mark: 'send-after-worker-deny' });
        return r.error ? Date.now() - denied : undefined;
      });
      console.log(
        `[timing] worker deny: sender refuses its Event invoke ${refusedAfter} ms after the command returned`,
      );
      // A message signed as sender's runtime signs it (before the deny, or past its runtime) reaches worker.
      await sendEvent({ mark: 'event-after-worker-deny' }, 'k-event-1');
      const record = await eventually('the invocation record in the on-failure destination', async () => {
        const bodies = await drain('asy-failures');
        const found = bodies.find((b) => b.includes('event-after-worker-deny'));
        return found ? (JSON.parse(found) as Record<string, Record<string, unknown>>) : undefined;
      });
      assert.equal(record.requestContext!.condition, 'RetriesExhausted');
      assert.equal(record.requestContext!.approximateInvokeCount, 3);
      assert.match(JSON.stringify(record.responsePayload), /MeshDeniedError/);
      assert.doesNotMatch(JSON.stringify(record.responsePayload), /drill|deny#/, "the reason stays in worker's log");
      assert.equal(refusals('asy-worker', 'k-event-1'), 3);
      assert.equal(handled('asy-worker', 'event-after-worker-deny'), 0, 'the handler saw a denied event');
    } finally {
      await lift('sender', 'worker');
    }
  });

  it('a plain Invoke from outside the mesh is `external`, which worker does not admit', async () => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'asy-worker',
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ mark: 'outsider' })),
      }),
    );
    assert.equal(out.FunctionError, 'Unhandled');
    assert.match(Buffer.from(out.Payload!).toString(), /MeshDeniedError/);
    assert.equal(handled('asy-worker', 'outsider'), 0);
  });

  it('a deny of `external` on sender refuses a plain Invoke, which sender admitted before', async () => {
    assert.equal((await invokeSender('events', { mark: 'before-external-deny' })).error, undefined);
    const denied = await deny('external', 'sender');
    try {
      const refusedAfter = await eventually('a plain Invoke refused', async () => {
        const r = await invokeSender('events', { mark: 'after-external-deny' });
        return r.error ? { at: Date.now() - denied, body: r.body } : undefined;
      });
      console.log(`[timing] external deny: a plain Invoke refused ${refusedAfter.at} ms after the command returned`);
      assert.ok(refusedAfter.at <= DENY_BOUND_MS, `${refusedAfter.at} ms`);
      assert.match(refusedAfter.body, /MeshDeniedError/);
    } finally {
      await lift('external', 'sender');
    }
  });

  it('`mesh policy allow` lifts each deny: every path that refused comes back within TTL + 1 s, no deny left', async () => {
    const edges = [
      ['sender', 'jobs'],
      ['sender', 'consumer'],
      ['sender', 'worker'],
      ['external', 'sender'],
    ] as const;
    for (const [from, to] of edges) await deny(from, to);
    await eventually('a plain Invoke refused', async () =>
      (await invokeSender('events', { mark: 'during-deny' })).error ? true : undefined,
    );
    for (const [from, to] of edges) {
      const r = await runMesh(mesh.url, ['policy', 'allow', from, to]);
      assert.equal(r.code, 0, r.stderr);
    }
    const allowed = Date.now();
    const denies = await db.send(new ScanCommand({ TableName: table }));
    assert.deepEqual(
      (denies.Items ?? [])
        .map((i) => `${i[TABLE.partitionKey]!.S}/${i[TABLE.sortKey]!.S}`)
        .filter((k) => k.includes('/deny#')),
      [],
    );
    // The plain Invoke, the send to the queue and the Event invoke each go through sender's runtime...
    const back = await eventually('every send of sender accepted', async () => {
      for (const to of ['jobs', 'worker', 'events']) {
        if ((await invokeSender(to, { mark: `after-allow-${to}` })).error) return undefined;
      }
      return Date.now() - allowed;
    });
    console.log(`[timing] allow: every send of sender accepted ${back} ms after the last command returned`);
    assert.ok(back <= DENY_BOUND_MS, `${back} ms`);
    // ...and each consumer handles what it was sent: nothing of the deny stays.
    await eventually('the queue record handled', () =>
      handled('asy-consumer', 'after-allow-jobs') ? true : undefined,
    );
    await eventually('the Event invoke handled', () =>
      handled('asy-worker', 'after-allow-worker') ? true : undefined,
    );
    await eventually('the second queue record handled', () =>
      handled('asy-consumer', 'after-allow-events') ? true : undefined,
    );
    assert.equal(handled('asy-consumer', 'during-deny'), 0);
  });
});
