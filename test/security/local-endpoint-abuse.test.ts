/**
 * Attack: the local mesh's AWS endpoint fed what no AWS client sends, on 127.0.0.1, with the real
 * endpoint over an in-process backend (test/integration/local-endpoint-fixture.ts):
 * - Invoke bodies far past Lambda's 6 MB: answered 413, and nothing past the limit is kept, so a few
 *   such requests cannot fill the mesh's memory;
 * - request smuggling shapes (Content-Length with Transfer-Encoding, two Content-Lengths): refused, and
 *   the request hidden behind them runs nothing;
 * - slow clients holding hundreds of connections do not keep an Invoke from being answered;
 * - Invoke bodies of the full 6 MB, each sent but for its last byte over a connection of its own: each was
 *   kept until Node's requestTimeout (300 s), so 60 of them held 362 MB and a few thousand would end the
 *   local mesh. The endpoint holds request bodies up to a budget and throttles the rest;
 * - a ClientContext that is not base64 (text around valid base64, which Node's lenient decoder skips):
 *   refused as Lambda refuses it, not handed to the function as if it were clean;
 * - a page of another local web server (http://localhost:3000, a different origin) cannot make it run
 *   anything with a "simple" cross-origin POST, which a browser sends without asking first;
 * - requests signed for made-up regions: each region's stores come to life on its first request, so a
 *   client naming a new region every time grew the mesh's memory without bound (5,000 such DynamoDB
 *   requests: 129 MB). Refused as AWS refuses a credential scoped to no region it has;
 * - an item nested a thousand levels deep, which overflowed dynalite's stack outside any handler and
 *   ended the local mesh: DynamoDB's ValidationException past its 32 levels;
 * - deeply nested values where the APIs' models take strings: Lambda AddPermission's StatementId
 *   (answered 500 "Maximum call stack size exceeded") and Secrets Manager CreateSecret's Tags (kept
 *   and answered 200): each refused with a 400, nothing kept.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { SYNC_PAYLOAD_LIMIT } from '../../local/endpoint/invoke';
import { LocalRegions } from '../../local/registry/regions';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';
import { clientConfig } from '../support/example-assembly';

const INVOKE = '/2015-03-31/functions/hello/invocations';

/** Opens a connection, writes `head` (and `body`, if any), and resolves with everything read until `until` matches. */
function exchange(port: number, head: string, body: Buffer | undefined, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      if (body) socket.write(body);
    });
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (until.test(seen)) {
        socket.destroy();
        resolve(seen);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
  });
}

describe('attack: the local endpoint fed what no AWS client sends', () => {
  const registry = new TestRegistry();
  const invoker = new TestInvoker(registry);
  let ep: Endpoint;
  let lambda: LambdaClient;

  before(async () => {
    registry.add('hello', () => ({ ok: true }));
    ep = await startEndpoint({ port: 0, registry, invoker, log: () => undefined });
    lambda = new LambdaClient(clientConfig(ep.url));
  });

  after(async () => {
    lambda?.destroy();
    await ep?.close();
  });

  it('keeps at most one payload limit of an oversized Invoke, however much is sent', async () => {
    // Prepare: eight clients at once, each sending 60 MB (under Lambda's 70 MB request cap, 10 times its
    // 6 MB payload). The same buffer goes out on every socket: what grows is what the endpoint keeps.
    const sent = Buffer.alloc(60 * 1024 * 1024, 0x20);
    const head = `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${sent.length}\r\n\r\n`;
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 5);
    // Act
    let answers: string[];
    try {
      answers = await Promise.all(Array.from({ length: 8 }, () => exchange(ep.port, head, sent, /\r\n\r\n\{.*\}$/s)));
    } finally {
      clearInterval(sample);
    }
    // Assess: Lambda's code and wording; kept: well under the 480 MB sent (storing it all, then joining
    // it, held twice that)
    for (const answer of answers) {
      assert.match(answer, /^HTTP\/1\.1 413 /);
      assert.match(answer, /x-amzn-errortype: RequestEntityTooLargeException/i);
      assert.match(
        answer,
        new RegExp(`Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction`),
      );
    }
    const keptMb = (peak - base) / 2 ** 20;
    assert.ok(keptMb < 200, `the endpoint held ${keptMb.toFixed(0)} MB for 8 oversized Invokes`);
    assert.equal(invoker.calls.length, 0);
  });

  it('the AWS SDK reads that 413 for an 8 MB payload, and the next Invoke is served', async () => {
    const big = Buffer.from(JSON.stringify('x'.repeat(8 * 1024 * 1024)));
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: big })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'RequestEntityTooLargeException' && e.$metadata.httpStatusCode === 413,
    );
    const ok = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    assert.equal(Buffer.from(ok.Payload!).toString(), '{"ok":true}');
  });

  it('refuses smuggling shapes, and runs nothing hidden behind them', async () => {
    const before = invoker.calls.length;
    const hidden = `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}`;
    const shapes = [
      `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${5 + hidden.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
      `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: ${2 + hidden.length}\r\n\r\n{}${hidden}`,
      `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n${hidden}`,
    ];
    for (const shape of shapes) {
      const answer = await exchange(ep.port, shape, undefined, /$^/);
      assert.match(answer, /^HTTP\/1\.1 400 /, shape.split('\r\n').slice(2, 4).join(' | '));
      assert.doesNotMatch(answer, /HTTP\/1\.1 200/);
    }
    assert.equal(invoker.calls.length, before);
  });

  it('serves an Invoke while 300 slow clients hold connections with half-sent requests', async () => {
    const slow: Socket[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const s = connect(ep.port, '127.0.0.1', () =>
          s.write(
            i % 2
              ? `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `
              : `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{`,
          ),
        );
        s.on('error', () => undefined);
        slow.push(s);
      }
      await Promise.all(slow.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r) : r(undefined)))));
      const ok = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
      assert.equal(Buffer.from(ok.Payload!).toString(), '{"ok":true}');
    } finally {
      for (const s of slow) s.destroy();
    }
  });

  it('refuses a write a page on another loopback port sent; its own origin is served', async () => {
    const before = invoker.calls.length;
    const send = (origin: string) =>
      exchange(
        ep.port,
        `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1:${ep.port}\r\nOrigin: ${origin}\r\n` +
          'Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        undefined,
        /$^/,
      );
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://127.0.0.1', 'https://[::1]']) {
      const answer = await send(origin);
      assert.match(answer, /^HTTP\/1\.1 403 /, origin);
      assert.match(answer, /AccessDeniedException/, origin);
    }
    assert.equal(invoker.calls.length, before);
    for (const origin of [`http://127.0.0.1:${ep.port}`, `http://localhost:${ep.port}`]) {
      assert.match(await send(origin), /^HTTP\/1\.1 200 /, origin);
    }
  });

  it('refuses a ClientContext with characters outside base64, as Lambda does', async () => {
    const before = invoker.calls.length;
    for (const cc of ['e30=@@@', '<e30=>', 'e3 0=', 'e30=e30=']) {
      await assert.rejects(
        lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}'), ClientContext: cc })),
        (e: Error & { $metadata: { httpStatusCode?: number } }) =>
          e.name === 'InvalidRequestContentException' &&
          e.message === 'Client context must be a valid Base64-encoded JSON object.' &&
          e.$metadata.httpStatusCode === 400,
        cc,
      );
    }
    assert.equal(invoker.calls.length, before);
    const ok = await lambda.send(
      new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}'), ClientContext: 'e30=' }),
    );
    assert.equal(ok.FunctionError, undefined);
  });

  it('refuses a credential scoped to a region AWS does not have, and brings no such region to life', async () => {
    // Prepare: an endpoint with per-region backends, as the local mesh runs it, in the stacks' regions.
    const regions = new LocalRegions({ accountId: '000000000000', home: 'us-east-1' });
    regions.get('local-west-1');
    const regional = await startEndpoint({
      port: 0,
      registry,
      invoker,
      log: () => undefined,
      regions: (r) => regions.get(r),
      servedRegions: ['local-west-1'],
    });
    const clients: { destroy(): void }[] = [];
    const client = <C extends { destroy(): void }>(c: C) => {
      clients.push(c);
      return c;
    };
    const at = (region: string) => ({ ...clientConfig(regional.url), region });
    const invalidRegion = (region: string) => (e: Error & { $metadata: { httpStatusCode?: number } }) =>
      e.name === 'InvalidSignatureException' &&
      e.message === `Credential should be scoped to a valid region, not '${region}'. ` &&
      [400, 403].includes(e.$metadata.httpStatusCode ?? 0);
    try {
      // Act: a client making up a region per request, on each service that keeps state per region.
      const made = Array.from({ length: 40 }, (_, i) => `made-up-${i}`);
      for (const region of made) {
        await assert.rejects(
          client(new LambdaClient(at(region))).send(new ListFunctionsCommand({})),
          invalidRegion(region),
        );
        await assert.rejects(
          client(new DynamoDBClient(at(region))).send(new ListTablesCommand({})),
          invalidRegion(region),
        );
        await assert.rejects(
          client(new SecretsManagerClient(at(region))).send(new ListSecretsCommand({})),
          invalidRegion(region),
        );
      }
      // A secret ARN naming a made-up region is looked up where the request was signed: nowhere.
      await assert.rejects(
        client(new SecretsManagerClient(at('us-east-1'))).send(
          new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:made-up-1:000000000000:secret:x-AbCdEf' }),
        ),
        (e: Error) => e.name === 'ResourceNotFoundException',
      );
      // AWS's regions and the stacks' own still answer, empty where nothing was deployed.
      for (const region of ['eu-west-3', 'local-west-1']) {
        const tables = await client(new DynamoDBClient(at(region))).send(new ListTablesCommand({}));
        assert.deepEqual(tables.TableNames, [], region);
        const fns = await client(new LambdaClient(at(region))).send(new ListFunctionsCommand({}));
        assert.deepEqual(fns.Functions, [], region);
      }

      // Assess: no made-up region got a registry or a secret store.
      assert.deepEqual(regions.regions(), ['us-east-1', 'eu-west-3', 'local-west-1']);
    } finally {
      for (const c of clients) c.destroy();
      await regional.close();
    }
  });

  it('answers an item nested past DynamoDB’s 32 levels with its ValidationException, and keeps serving', async () => {
    // Prepare: dynalite checked types by recursion in a callback; a PutItem nested a thousand levels
    // deep overflowed the stack there, outside any handler, and ended the process the mesh runs in.
    await ep.dynamo.createPolicyTable('nesting');
    const db = new DynamoDBClient(clientConfig(ep.url));
    const nested = (levels: number, list = false): AttributeValue => {
      let av: AttributeValue = { N: '1' };
      for (let i = 1; i < levels; i++) av = list && i % 2 ? { L: [av] } : { M: { a: av } };
      return av;
    };
    const put = (sk: string, x: AttributeValue) =>
      new PutItemCommand({ TableName: 'nesting', Item: { pk: { S: 'p' }, sk: { S: sk }, x } });
    try {
      // Act and assess: past the limit, maps and lists alike, refused as DynamoDB refuses them.
      for (const [levels, list] of [
        [1_000, false],
        [1_000, true],
      ] as const) {
        await assert.rejects(
          db.send(put(`deep-${levels}-${list}`, nested(levels, list))),
          (e: Error & { $metadata: { httpStatusCode?: number } }) =>
            e.name === 'ValidationException' &&
            e.message === 'Nesting Levels have exceeded supported limits' &&
            e.$metadata.httpStatusCode === 400,
          `${levels} levels`,
        );
      }
      // Deeper than the SDK itself can write: a million levels sent by hand.
      const body = `{"TableName":"nesting","Item":{"pk":{"S":"p"},"sk":{"S":"raw"},"x":${'{"L":['.repeat(1e6)}${']}'.repeat(1e6)}}}`;
      const head =
        'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n' +
        `Content-Type: application/x-amz-json-1.0\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const answer = await exchange(ep.port, head, Buffer.from(body), /\r\n\r\n\{.*\}$/s);
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.match(answer, /Nesting Levels have exceeded supported limits/);
      // The deepest item DynamoDB takes is written, in a plain PutItem and in a transaction.
      await db.send(put('deepest', nested(32, true)));
      await db.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'nesting', Item: { pk: { S: 'p' }, sk: { S: 't' }, x: nested(32) } } }],
        }),
      );
      const got = await db.send(new GetItemCommand({ TableName: 'nesting', Key: { pk: { S: 'p' }, sk: { S: 't' } } }));
      assert.deepEqual(got.Item?.x, nested(32));
      const refused = await db.send(
        new GetItemCommand({ TableName: 'nesting', Key: { pk: { S: 'p' }, sk: { S: 'deep-1000-false' } } }),
      );
      assert.equal(refused.Item, undefined);
    } finally {
      db.destroy();
    }
  });

  /** A raw request with a JSON body, as no AWS client would send it; resolves with the whole answer. */
  const post = (path: string, headers: string, body: string) =>
    exchange(
      ep.port,
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      Buffer.from(body),
      /\r\n\r\n\{.*\}$/s,
    );
  const deep = (levels: number) => `${'['.repeat(levels)}"x"${']'.repeat(levels)}`;

  it('answers AddPermission with a deeply nested StatementId with a ValidationException, and adds nothing', async () => {
    // Lambda's model constrains StatementId to a string matching ([a-zA-Z0-9-_]+).
    const policy = '/2015-03-31/functions/hello/policy';
    for (const levels of [1, 100_000]) {
      const body = `{"StatementId":${deep(levels)},"Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com"}`;
      const answer = await post(policy, 'Content-Type: application/json\r\n', body);
      assert.match(answer, /^HTTP\/1\.1 400 /, `${levels} levels`);
      assert.match(answer, /ValidationException/, `${levels} levels`);
      assert.match(answer, /'statementId' failed to satisfy constraint/, `${levels} levels`);
      assert.doesNotMatch(answer, /call stack/, `${levels} levels`);
    }
    // Another field nested as deep: refused too, and no stack overflow in its message.
    const action = `{"StatementId":"s1","Action":${deep(100_000)},"Principal":"s3.amazonaws.com"}`;
    const answer = await post(policy, 'Content-Type: application/json\r\n', action);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(answer, /call stack/);
    const stored = await exchange(
      ep.port,
      `GET ${policy} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      undefined,
      /\r\n\r\n\{.*\}$/s,
    );
    assert.match(stored, /^HTTP\/1\.1 404 /, 'no policy was made');
  });

  it('refuses CreateSecret Tags that are not a list of {Key, Value} strings, and creates no secret', async () => {
    const headers = 'X-Amz-Target: secretsmanager.CreateSecret\r\nContent-Type: application/x-amz-json-1.1\r\n';
    const shapes = [
      deep(100_000),
      `[{"Key":${deep(100_000)},"Value":"v"}]`,
      '[{"Key":"k","Value":{"a":1}}]',
      '[{"Key":"k"}]',
      '["k"]',
      '{"Key":"k","Value":"v"}',
    ];
    for (const [i, tags] of shapes.entries()) {
      const answer = await post('/', headers, `{"Name":"nested-tags-${i}","SecretString":"s","Tags":${tags}}`);
      assert.match(answer, /^HTTP\/1\.1 400 /, tags.slice(0, 40));
      assert.match(answer, /Tags must be a list of/, tags.slice(0, 40));
    }
    const sm = new SecretsManagerClient(clientConfig(ep.url));
    try {
      const listed = await sm.send(new ListSecretsCommand({}));
      assert.deepEqual(
        (listed.SecretList ?? []).filter((s) => s.Name?.startsWith('nested-tags-')),
        [],
      );
      // Tags as the model has them are kept.
      const ok = await post('/', headers, '{"Name":"tagged","SecretString":"s","Tags":[{"Key":"k","Value":"v"}]}');
      assert.match(ok, /^HTTP\/1\.1 200 /);
    } finally {
      sm.destroy();
    }
  });
});

describe('attack: Invoke bodies of Lambda’s full 6 MB, each held one byte short of its end', () => {
  const MiB = 1024 * 1024;
  const registry = new TestRegistry();
  const invoker = new TestInvoker(registry);
  let ep: Endpoint;
  let lambda: LambdaClient;

  before(async () => {
    registry.add('hello', (event) => ({ ok: true, bytes: JSON.stringify(event).length }));
    // A small budget, so a test moves tens of megabytes rather than hundreds: 5 such bodies fit, 2 MiB more.
    ep = await startEndpoint({ port: 0, registry, invoker, log: () => undefined, bodyBudgetBytes: 32 * MiB });
    lambda = new LambdaClient(clientConfig(ep.url));
  });

  after(async () => {
    lambda?.destroy();
    await ep?.close();
  });

  it('holds no more than its budget of them: the rest are throttled at once, and the others are served', async () => {
    const body = Buffer.alloc(6 * MiB, 0x20);
    const buffersBefore = liveArrayBuffers();
    const held: { socket: Socket; answer: string }[] = [];
    for (let i = 0; i < 10; i++) {
      const socket = connect(ep.port, '127.0.0.1');
      const conn = { socket, answer: '' };
      socket.on('data', (d: Buffer) => {
        conn.answer += d.toString('latin1');
      });
      socket.on('error', () => undefined);
      socket.write(`POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
      await new Promise<void>((resolve) => socket.write(body.subarray(1), () => resolve()));
      held.push(conn);
    }
    try {
      const throttled = () => held.filter((c) => /^HTTP\/1\.1 429 /.test(c.answer));
      for (let waited = 0; throttled().length < 5 && waited < 10_000; waited += 50) await sleep(50);
      // Five are held (30 MiB of 32), five throttled as Lambda throttles, with its Reason.
      assert.equal(throttled().length, 5, held.map((c) => c.answer.slice(0, 20)).join('|'));
      assert.equal(held.filter((c) => c.answer === '').length, 5);
      assert.match(throttled()[0]!.answer, /x-amzn-errortype: TooManyRequestsException/i);
      assert.match(throttled()[0]!.answer, /"Reason":"CallerRateLimitExceeded"/);
      // What the endpoint keeps is bounded by its budget (the ten bodies are 60 MiB). What it keeps stays
      // through every sample; what is in flight at one moment (the throttled bodies it reads to drop them,
      // socket reads not yet handed on) does not: the least of a few samples is what is kept.
      const samples: number[] = [];
      for (let i = 0; i < 5; i++, await sleep(100)) samples.push(liveArrayBuffers());
      const grew = (Math.min(...samples) - buffersBefore) / MiB;
      assert.ok(grew < 45, `array buffers grew ${grew.toFixed(0)} MiB`);
      // A small Invoke fits in what is left.
      const small = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
      assert.equal(small.StatusCode, 200);
    } finally {
      for (const c of held) c.socket.destroy();
    }
    // Their connections gone, the budget is whole again: a 5 MB payload is served.
    const payload = Buffer.from(JSON.stringify({ pad: 'x'.repeat(5 * 1_000_000) }));
    for (let attempt = 0; ; attempt++) {
      const big = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: payload })).catch((e) => e);
      if (big.StatusCode === 200) break;
      assert.ok(attempt < 20, String(big));
      await sleep(50);
    }
  });
});

/** Bytes of array buffers still reachable: garbage collected first (the bodies read and dropped are garbage). */
function liveArrayBuffers(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().arrayBuffers;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
