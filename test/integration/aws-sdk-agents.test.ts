/**
 * The SDK clients' agents (functions/mesh/aws/sdk-agents.ts) with a real @aws-sdk/client-lambda client
 * and a loopback server that counts its connections: a kept-alive socket is reused while fresh, and
 * replaced, the stale one closed, once it sat idle past the limit.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { IDLE_RESET_MS } from '../../functions/mesh/aws';
import { sdkRequestHandler } from '../../functions/mesh/aws/sdk-agents';

describe('the SDK clients’ agents', () => {
  const sockets: Socket[] = [];
  let hold: (() => void) | undefined;
  const server = createServer((req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"Name":"live"}');
    req.resume();
    req.on('end', () => {
      if (req.url?.includes('held')) hold = answer;
      else answer();
    });
  });
  server.on('connection', (s) => sockets.push(s));
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const lambda = (now: () => number) =>
    new LambdaClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
      requestHandler: sdkRequestHandler(now),
    });
  const alias = (c: LambdaClient, name = 'f') => c.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));

  it('reuses a connection within the idle limit and replaces it, closed, after', async () => {
    // Prepare
    let t = 1_000_000;
    const c = lambda(() => t);
    const before = sockets.length;
    // Act
    await alias(c);
    t += IDLE_RESET_MS - 1;
    await alias(c);
    const withinLimit = sockets.length - before;
    t += IDLE_RESET_MS + 1;
    await alias(c);
    // Assess
    assert.equal(withinLimit, 1, 'one connection while fresh');
    assert.equal(sockets.length - before, 2, 'a new connection after the idle spell');
    assert.equal(sockets[before]!.destroyed, true, 'the stale one is closed');
    c.destroy();
  });

  it('leaves a connection under a request in flight alone, however long it takes', async () => {
    // Prepare
    let t = 1_000_000;
    const c = lambda(() => t);
    const before = sockets.length;
    await alias(c);
    // Act: a request held by the server on the kept-alive connection while the clock runs on.
    const held = alias(c, 'held');
    while (!hold) await new Promise((r) => setImmediate(r));
    t += IDLE_RESET_MS * 3;
    const other = alias(c);
    hold();
    await Promise.all([held, other]);
    // Assess
    assert.equal(sockets.length - before, 2, 'the held one and one for the request beside it');
    assert.equal(sockets[before]!.destroyed, false, 'the held connection served its answer');
    c.destroy();
  });
});
