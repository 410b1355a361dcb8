/**
 * The SDK client settings the local-mesh tests share (`clientConfig`, test/support/example-assembly.ts):
 * a call the endpoint never answers fails once its bound passes, instead of waiting on.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { clientConfig } from '../support/example-assembly';

describe('clientConfig: a call the endpoint never answers', () => {
  // Reads each request and never answers it.
  const server = createServer(() => undefined);
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('fails once its request timeout passes', { timeout: 20_000 }, async () => {
    const lambda = new LambdaClient(clientConfig(url, 1_000));
    const started = Date.now();
    try {
      await assert.rejects(lambda.send(new ListFunctionsCommand({})), { name: 'TimeoutError' });
    } finally {
      lambda.destroy();
    }
    assert.ok(Date.now() - started < 15_000, `failed after ${Date.now() - started} ms`);
  });
});
