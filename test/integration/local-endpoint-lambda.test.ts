/**
 * The local endpoint's Lambda API, driven by the real @aws-sdk/client-lambda on loopback.
 * Prepare: an endpoint on port 0 over the in-test registry/invoker. Act: SDK calls. Assess: what the SDK reads.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  paginateListFunctions,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { type TestContext, TestInvoker, TestRegistry } from './local-endpoint-fixture';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('local endpoint: Lambda', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  const registry = new TestRegistry();
  const invoker = new TestInvoker(registry);
  const events: { event: unknown; context: TestContext }[] = [];
  const backgroundErrors: string[] = [];
  let eventSeen: (v: unknown) => void;
  const eventDelivered = new Promise((r) => {
    eventSeen = r;
  });

  before(async () => {
    registry.add(
      'hello',
      async (event, context) => {
        events.push({ event, context });
        context.log('hello ran');
        if ((event as { async?: boolean })?.async) eventSeen({ event, clientContext: context.clientContext });
        return { hello: 'world', version: context.functionVersion };
      },
      { MESH_NAME: 'demo', MESH_SERVICE: 'hello' },
    );
    registry.add('broken', async () => {
      throw new TypeError('cannot read x of undefined');
    });
    registry.add('busy', async () => 'never');
    registry.setThrottled('busy', true);
    registry.add('payments', async (_e, c) => ({ version: c.functionVersion }));
    for (let i = 0; i < 7; i++) registry.add(`filler-${i}`, async () => i);
    endpoint = await startEndpoint({ port: 0, registry, invoker, log: (l) => backgroundErrors.push(l) });
    lambda = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    lambda.destroy();
    await endpoint.close();
  });

  const payloadOf = (p: Uint8Array | undefined) => JSON.parse(Buffer.from(p ?? []).toString('utf8'));

  it('invokes synchronously: 200, payload, executed version', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"n":1}') }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(payloadOf(out.Payload), { hello: 'world', version: '$LATEST' });
    assert.deepEqual(events.at(-1)!.event, { n: 1 });
  });

  it('delivers the client context decoded on sync invokes', async () => {
    const cc = { custom: { mesh: { v: 1, src: 'orders' } } };
    await lambda.send(
      new InvokeCommand({
        FunctionName: 'hello',
        Payload: Buffer.from('{}'),
        ClientContext: Buffer.from(JSON.stringify(cc)).toString('base64'),
      }),
    );
    assert.deepEqual(events.at(-1)!.context.clientContext, cc);
  });

  it('rejects a client context over 3,583 bytes of base64', async () => {
    const big = Buffer.from(JSON.stringify({ custom: { pad: 'x'.repeat(3000) } })).toString('base64');
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', ClientContext: big })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'InvalidParameterValueException' && /3583/.test(e.message) && e.$metadata.httpStatusCode === 400,
    );
  });

  it('queues Event invokes: 202 at once, runs in the background, no client context', async () => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'hello',
        InvocationType: 'Event',
        Payload: Buffer.from('{"async":true}'),
        ClientContext: Buffer.from('{"custom":{"x":1}}').toString('base64'),
      }),
    );
    assert.equal(out.StatusCode, 202);
    assert.equal(Buffer.from(out.Payload ?? []).length, 0);
    const seen = (await eventDelivered) as { event: unknown; clientContext: unknown };
    assert.deepEqual(seen.event, { async: true });
    assert.equal(seen.clientContext, undefined);
  });

  it('answers DryRun with 204 and runs nothing', async () => {
    const before = invoker.calls.length;
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello', InvocationType: 'DryRun' }));
    assert.equal(out.StatusCode, 204);
    assert.equal(invoker.calls.length, before);
  });

  it('returns the log tail (X-Amz-Log-Result) when asked', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello', LogType: 'Tail' }));
    const log = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    assert.match(log, /hello ran/);
    assert.match(log, /^START RequestId: /);
  });

  it('reports a function error as 200 + FunctionError Unhandled + error body', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'broken' }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const body = payloadOf(out.Payload);
    assert.equal(body.errorType, 'TypeError');
    assert.equal(body.errorMessage, 'cannot read x of undefined');
    assert.ok(Array.isArray(body.trace));
  });

  it('accepts names as name:qualifier, full ARN, partial ARN and Qualifier', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'hello' }));
    for (const [FunctionName, Qualifier] of [
      ['hello:1', undefined],
      ['arn:aws:lambda:us-east-1:000000000000:function:hello:1', undefined],
      ['000000000000:function:hello:1', undefined],
      ['arn:aws:lambda:us-east-1:000000000000:function:hello', '1'],
    ] as const) {
      const out = await lambda.send(new InvokeCommand({ FunctionName, Qualifier }));
      assert.equal(out.ExecutedVersion, '1', FunctionName);
      assert.equal(events.at(-1)!.context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:hello:1');
    }
  });

  it('rejects a payload that is not JSON with InvalidRequestContentException', async () => {
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('not json') })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'InvalidRequestContentException' &&
        /Could not parse request body into json/.test(e.message) &&
        e.$metadata.httpStatusCode === 400,
    );
  });

  // AWS API reference, "Invoke": 6 MB synchronous, 1 MB asynchronous; 413 RequestEntityTooLargeException.
  it('enforces 6 MB sync and 1 MB async payloads with 413 RequestEntityTooLargeException', async () => {
    const json = (n: number) => Buffer.from(JSON.stringify('x'.repeat(n)));
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: json(6 * 1024 * 1024) })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'RequestEntityTooLargeException' &&
        e.message === 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' &&
        e.$metadata.httpStatusCode === 413,
    );
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', InvocationType: 'Event', Payload: json(1024 * 1024) })),
      (e: Error) => e.name === 'RequestEntityTooLargeException' && /1048576 bytes/.test(e.message),
    );
    // Just under the async limit is fine.
    const ok = await lambda.send(
      new InvokeCommand({ FunctionName: 'hello', InvocationType: 'DryRun', Payload: json(1000 * 1024) }),
    );
    assert.equal(ok.StatusCode, 204);
  });

  it('turns a response over 6 MB and 100 bytes into Function.ResponseSizeTooLarge', async () => {
    registry.add('huge', async () => 'x'.repeat(6 * 1024 * 1024 + 100));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'huge' }));
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(payloadOf(out.Payload).errorType, 'Function.ResponseSizeTooLarge');
    registry.remove('huge');
  });

  it('throttles with 429 TooManyRequestsException, Reason and Retry-After', async () => {
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'busy' })),
      (e: Error & { Reason?: string; retryAfterSeconds?: string; $metadata: { httpStatusCode?: number } }) =>
        e.name === 'TooManyRequestsException' &&
        e.$metadata.httpStatusCode === 429 &&
        e.Reason === 'ReservedFunctionConcurrentInvocationLimitExceeded' &&
        e.retryAfterSeconds === '2',
    );
  });

  it('keeps a throttled Event queued and runs it once the function has room', async () => {
    let ran: (v: unknown) => void;
    const done = new Promise((r) => {
      ran = r;
    });
    registry.add('queued', async (event) => {
      ran(event);
      return null;
    });
    registry.setThrottled('queued', true, 0.1);
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'queued', InvocationType: 'Event', Payload: Buffer.from('{"q":1}') }),
    );
    assert.equal(out.StatusCode, 202);
    // Retries come every 0.1 s; on busy cores a timer fires late, so wait for the second attempt itself.
    const attempts = () => invoker.calls.filter((c) => c.functionName === 'queued').length;
    for (const until = Date.now() + 10_000; attempts() < 2 && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(attempts() >= 2, `retried while throttled (${attempts()} attempts)`);
    registry.setThrottled('queued', false);
    assert.deepEqual(await done, { q: 1 });
    registry.remove('queued');
  });

  // AWS API reference, "Invoke" / "GetFunction" / "GetAlias": ResourceNotFoundException (404); an
  // unqualified Invoke names $LATEST in its message, GetFunction does not.
  it('answers unknown functions and qualifiers with 404 and AWS’s message', async () => {
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'nope' })), {
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST',
    });
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: 'canary' })), {
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:hello:canary',
    });
    await assert.rejects(lambda.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'nope' })), {
      name: 'ResourceNotFoundException',
      message: 'Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:hello:nope',
    });
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })), {
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    });
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: '$latest' })), {
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:hello:$latest',
    });
  });

  it('rejects a bad function name with ValidationException', async () => {
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'bad name!' })), {
      name: 'ValidationException',
    });
  });

  it('lists functions with their environment, paginated, with FunctionVersion=ALL', async () => {
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: lambda, pageSize: 4 }, {})) {
      assert.ok((page.Functions ?? []).length <= 4);
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName!));
    }
    assert.equal(names.length, 11);
    assert.equal(new Set(names).size, 11);
    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    const hello = all.Functions!.filter((f) => f.FunctionName === 'hello');
    assert.deepEqual(
      hello.map((f) => f.Version),
      ['$LATEST', '1'],
    );
    assert.deepEqual(hello[0].Environment?.Variables, { MESH_NAME: 'demo', MESH_SERVICE: 'hello' });
  });

  it('serves ListFunctions on the path with and without the trailing slash', async () => {
    for (const path of ['/2015-03-31/functions', '/2015-03-31/functions/']) {
      const res = await fetch(endpoint.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(((await res.json()) as { Functions: unknown[] }).Functions.length, 11);
    }
  });

  it('gets a function and lists its versions', async () => {
    const f = await lambda.send(new GetFunctionCommand({ FunctionName: 'hello', Qualifier: '1' }));
    assert.equal(f.Configuration?.Version, '1');
    assert.equal(f.Configuration?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:hello:1');
    await lambda.send(new CreateAliasCommand({ FunctionName: 'hello', Name: 'stable', FunctionVersion: '1' }));
    const viaAlias = await lambda.send(new GetFunctionCommand({ FunctionName: 'hello:stable' }));
    assert.equal(viaAlias.Configuration?.Version, '1');
    assert.equal(viaAlias.Configuration?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:hello:stable');
    const v = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'hello' }));
    assert.deepEqual(
      v.Versions?.map((x) => x.Version),
      ['$LATEST', '1'],
    );
  });

  it('shifts traffic when an alias gets weights: the next invocations follow them', async () => {
    registry.setCode('payments', async (_e, c) => ({ version: c.functionVersion, release: 1 }));
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'payments' }));
    registry.setCode('payments', async (_e, c) => ({ version: c.functionVersion, release: 2 }));
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'payments' }));
    assert.deepEqual([v1.Version, v2.Version], ['1', '2']);
    const created = await lambda.send(
      new CreateAliasCommand({ FunctionName: 'payments', Name: 'live', FunctionVersion: '1' }),
    );
    assert.equal(created.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:payments:live');

    const count = async (n: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const out = await lambda.send(new InvokeCommand({ FunctionName: 'payments:live' }));
        seen[out.ExecutedVersion!] = (seen[out.ExecutedVersion!] ?? 0) + 1;
      }
      return seen;
    };
    assert.deepEqual(await count(20), { 1: 20 });

    const updated = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'payments',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } },
        RevisionId: created.RevisionId,
      }),
    );
    assert.deepEqual(updated.RoutingConfig?.AdditionalVersionWeights, { 2: 0.5 });
    const seen = await count(400);
    // Binomial(400, 0.5): sd 10; +-50 is 5 sd, so only a broken split fails.
    assert.equal((seen['1'] ?? 0) + (seen['2'] ?? 0), 400);
    assert.ok(seen['2'] > 150 && seen['2'] < 250, `version 2 ran ${seen['2']} of 400 times`);

    const listed = await lambda.send(new ListAliasesCommand({ FunctionName: 'payments', FunctionVersion: '2' }));
    assert.deepEqual(
      listed.Aliases?.map((a) => a.Name),
      ['live'],
    );
  });

  // AWS API reference, "AliasRoutingConfiguration" / "UpdateAlias": a weight outside 0-1 or a key that
  // is not a version number is ValidationException, two extra versions / the alias's own version /
  // a $LATEST alias InvalidParameterValueException, an unpublished version ResourceNotFoundException.
  it('validates alias routing with AWS’s error codes', async () => {
    const update = (weights: Record<string, number>, FunctionVersion?: string) =>
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'payments',
          Name: 'live',
          FunctionVersion,
          RoutingConfig: { AdditionalVersionWeights: weights },
        }),
      );
    const rejects = async (p: Promise<unknown>, code: string, status: number, message: RegExp) =>
      assert.rejects(p, (e: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.equal(e.name, code);
        assert.equal(e.$metadata.httpStatusCode, status);
        assert.match(e.message, message);
        return true;
      });
    await rejects(update({ 2: 1.5 }), 'ValidationException', 400, /Value '\{2=1\.5\}' .* Map value must satisfy/);
    await rejects(update({ 2: -1 }), 'ValidationException', 400, /Value '\{2=-1\.0\}'/);
    await rejects(update({ $LATEST: 0.1 }), 'ValidationException', 400, /Map keys must satisfy .*\[0-9\]\+/);
    await rejects(update({ 2: 0.1, 3: 0.1 }), 'InvalidParameterValueException', 400, /cannot be greater than 1/);
    await rejects(update({ 2: 0.1 }, '$LATEST'), 'InvalidParameterValueException', 400, /\$LATEST is not supported/);
    await rejects(update({ 1: 0.1 }), 'InvalidParameterValueException', 400, /already included/);
    await rejects(
      update({ 9: 0.1 }),
      'ResourceNotFoundException',
      404,
      /^Function not found: arn:aws:lambda:us-east-1:000000000000:function:payments:9$/,
    );
    await rejects(
      lambda.send(new UpdateAliasCommand({ FunctionName: 'payments', Name: 'nope', FunctionVersion: '1' })),
      'ResourceNotFoundException',
      404,
      /^Alias not found: arn:aws:lambda:us-east-1:000000000000:function:payments:nope$/,
    );
    // Nothing above changed the alias.
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'payments', Name: 'live' }));
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { 2: 0.5 });
  });

  it('refuses a stale RevisionId with 412 PreconditionFailedException', async () => {
    await assert.rejects(
      lambda.send(
        new UpdateAliasCommand({ FunctionName: 'payments', Name: 'live', FunctionVersion: '2', RevisionId: 'stale' }),
      ),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'PreconditionFailedException' && e.$metadata.httpStatusCode === 412 && /Revision Id/.test(e.message),
    );
  });

  it('refuses a duplicate alias with 409 and an unknown version with 404', async () => {
    await assert.rejects(
      lambda.send(new CreateAliasCommand({ FunctionName: 'payments', Name: 'live', FunctionVersion: '1' })),
      {
        name: 'ResourceConflictException',
      },
    );
    await assert.rejects(
      lambda.send(new CreateAliasCommand({ FunctionName: 'payments', Name: 'beta', FunctionVersion: '7' })),
      {
        name: 'ResourceNotFoundException',
        message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:payments:7',
      },
    );
  });

  it('names an unsupported operation in AWS’s error shape', async () => {
    await assert.rejects(
      lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'hello' })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'UnknownOperationException' &&
        e.message === 'lambda-mesh local endpoint does not support Lambda.GetFunctionUrlConfig' &&
        e.$metadata.httpStatusCode === 501,
    );
  });

  it('survives malformed requests and keeps serving', async () => {
    const bad = [
      fetch(`${endpoint.url}/2015-03-31/functions/%E0%A4%A/invocations`, { method: 'POST', body: '{}' }),
      fetch(`${endpoint.url}/2015-03-31/functions/hello/aliases`, { method: 'POST', body: '{not json' }),
      fetch(`${endpoint.url}/2015-03-31/functions/hello/aliases/live`, { method: 'PUT', body: '[1,2]' }),
      fetch(`${endpoint.url}/`, {
        method: 'POST',
        headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
        body: '{"SecretId":',
      }),
      fetch(`${endpoint.url}/`, {
        method: 'POST',
        headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
        body: 'garbage',
      }),
      fetch(`${endpoint.url}/`, {
        method: 'POST',
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=a/b' },
        body: '',
      }),
      fetch(`${endpoint.url}/2015-03-31/functions/hello/invocations`, {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'Bogus' },
        body: '{}',
      }),
    ];
    for (const res of await Promise.all(bad)) {
      assert.ok(res.status >= 400 && res.status < 600, `status ${res.status}`);
      await res.arrayBuffer();
    }
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello' }));
    assert.equal(out.StatusCode, 200);
    assert.deepEqual(backgroundErrors, []);
  });
});
