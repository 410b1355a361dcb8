/**
 * The Invoke test server (test/support/lambda-invoke-server.ts) holds the runtime's wire tests to
 * Lambda's rules: checked here with the real @aws-sdk/client-lambda, as the runtime talks to it.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { CLIENT_CONTEXT_LIMIT, SYNC_PAYLOAD_LIMIT, SYNC_RESPONSE_LIMIT } from '../../local/endpoint/invoke';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';

describe('Lambda Invoke test server', () => {
  let server: LambdaInvokeServer;
  let lambda: LambdaClient;
  const ran: unknown[] = [];
  /** Lets the running `busy` invocation finish. */
  const gate: { release?: () => void } = {};

  before(async () => {
    server = await startLambdaInvokeServer({
      echo: {
        versions: {
          $LATEST: (event: unknown, ctx) => {
            ran.push(event);
            return { event, cc: ctx.clientContext ?? null };
          },
        },
      },
      big: { versions: { $LATEST: () => 'x'.repeat(SYNC_RESPONSE_LIMIT) } },
      size: { versions: { $LATEST: (event: unknown) => JSON.stringify(event).length } },
      busy: {
        reservedConcurrency: 1,
        versions: {
          $LATEST: () =>
            new Promise<string>((r) => {
              gate.release = () => r('done');
            }),
        },
      },
    });
    lambda = new LambdaClient(lambdaClientConfig(server.url));
  });
  after(async () => {
    lambda?.destroy();
    await server?.close();
  });

  const send = (input: Partial<InvokeCommandInput>) =>
    lambda.send(new InvokeCommand({ FunctionName: 'echo', ...input }));
  const rejects = (input: Partial<InvokeCommandInput>, name: string, message: RegExp) =>
    assert.rejects(send(input), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, name);
      assert.match(e.message, message);
      return true;
    });
  const releaseBusy = () => gate.release?.();
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise((r) => setTimeout(r, 5));
  };
  /** Base64 client context of exactly `n` characters. */
  const clientContext = (n: number) => {
    const json = (pad: string) => Buffer.from(JSON.stringify({ custom: { pad } })).toString('base64');
    let pad = 'x'.repeat(Math.floor((n * 3) / 4) - 20);
    while (json(pad).length < n) pad += 'x';
    while (json(pad).length > n) pad = pad.slice(0, -1);
    return json(pad);
  };

  it('takes a client context up to 3,583 bytes of base64 and refuses a longer one', async () => {
    // Padded base64 comes in fours: 3,580 characters is the longest that fits.
    const at = clientContext(CLIENT_CONTEXT_LIMIT - 3);
    assert.equal(at.length, CLIENT_CONTEXT_LIMIT - 3);
    const ok = await send({ ClientContext: at, Payload: Buffer.from('{}') });
    const body = JSON.parse(Buffer.from(ok.Payload!).toString()) as { cc: { custom: { pad: string } } };
    assert.ok(body.cc.custom.pad.length > 2000, 'the handler got the client context');
    const over = clientContext(CLIENT_CONTEXT_LIMIT + 1);
    assert.equal(over.length, CLIENT_CONTEXT_LIMIT + 1);
    await rejects(
      { ClientContext: over },
      'InvalidParameterValueException',
      /Client context must be at most 3583 bytes/,
    );
    await rejects(
      { ClientContext: Buffer.from('not json').toString('base64') },
      'InvalidRequestContentException',
      /Base64-encoded JSON object/,
    );
  });

  it('takes a 6 MB payload and refuses a larger one (413); answers a larger result as a function error', async () => {
    const json = (n: number) => Buffer.from(JSON.stringify('y'.repeat(n - 2)));
    const at = await send({ FunctionName: 'size', Payload: json(SYNC_PAYLOAD_LIMIT) });
    assert.equal(at.FunctionError, undefined);
    assert.equal(Buffer.from(at.Payload!).toString(), String(SYNC_PAYLOAD_LIMIT));
    await rejects(
      { FunctionName: 'size', Payload: json(SYNC_PAYLOAD_LIMIT + 1) },
      'RequestTooLargeException',
      /smaller than 6291456 bytes/,
    );
    const big = await send({ FunctionName: 'big' });
    assert.equal(big.FunctionError, 'Unhandled');
    assert.match(Buffer.from(big.Payload!).toString(), /Function.ResponseSizeTooLarge/);
  });

  it('Event: 202 at once, runs in the background without the client context, 1 MB limit; DryRun runs nothing', async () => {
    const before = ran.length;
    const ev = await send({
      InvocationType: 'Event',
      Payload: Buffer.from('{"n":1}'),
      ClientContext: clientContext(100),
    });
    assert.equal(ev.StatusCode, 202);
    for (let i = 0; i < 100 && server.invocations.at(-1)?.invocationType !== 'Event'; i++)
      await new Promise((r) => setTimeout(r, 10));
    const rec = server.invocations.at(-1)!;
    assert.deepEqual([rec.invocationType, rec.clientContext], ['Event', undefined]);
    assert.deepEqual(ran.slice(before), [{ n: 1 }]);
    await rejects(
      { InvocationType: 'Event', Payload: Buffer.from(JSON.stringify('z'.repeat(1024 * 1024))) },
      'RequestTooLargeException',
      /too large for the Event invocation type/,
    );
    const dry = await send({ InvocationType: 'DryRun', Payload: Buffer.from('{"n":2}') });
    assert.equal(dry.StatusCode, 204);
    assert.equal(ran.length, before + 1, 'DryRun ran nothing');
    await rejects({ InvocationType: 'Later' as never }, 'ValidationException', /invocationType/);
  });

  it('LogType Tail answers the log in X-Amz-Log-Result; other log types are refused', async () => {
    const none = await send({ Payload: Buffer.from('{}') });
    assert.equal(none.LogResult, undefined);
    const tail = await send({ Payload: Buffer.from('{}'), LogType: 'Tail' });
    const log = Buffer.from(tail.LogResult!, 'base64').toString();
    assert.match(log, /^START RequestId: \S+ Version: \$LATEST\nEND RequestId: \S+\nREPORT RequestId: /);
    await rejects({ LogType: 'Full' as never }, 'ValidationException', /logType/);
  });

  it('reserved concurrency: one more invocation than it allows is throttled, and the slot frees after', async () => {
    const first = lambda.send(new InvokeCommand({ FunctionName: 'busy' }));
    await until(() => gate.release !== undefined);
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'busy' })), (e: Error & { Reason?: string }) => {
      assert.equal(e.name, 'TooManyRequestsException');
      assert.equal(e.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      return true;
    });
    releaseBusy();
    assert.equal(Buffer.from((await first).Payload!).toString(), '"done"');
    delete gate.release;
    const again = lambda.send(new InvokeCommand({ FunctionName: 'busy' }));
    await until(() => gate.release !== undefined);
    releaseBusy();
    assert.equal((await again).StatusCode, 200);
  });
});
