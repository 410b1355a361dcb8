/** The endpoint's server: /_mesh/ hand-off, idle connections, a busy port, close. */

import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: server', () => {
  const registry = new TestRegistry();
  const invoker = new TestInvoker(registry);

  it('hands /_mesh/ paths to extraRoutes before AWS dispatch, 404 when it declines', async () => {
    const seen: string[] = [];
    const ep = await startEndpoint({
      port: 0,
      registry,
      invoker,
      extraRoutes: (req, res) => {
        seen.push(req.url!);
        if (req.url !== '/_mesh/stats') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return true;
      },
    });
    try {
      const ok = await fetch(`${ep.url}/_mesh/stats`, {
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/lambda/aws4_request' },
      });
      assert.deepEqual(await ok.json(), { ok: true });
      const declined = await fetch(`${ep.url}/_mesh/other`);
      assert.equal(declined.status, 404);
      await declined.arrayBuffer();
      assert.deepEqual(seen, ['/_mesh/stats', '/_mesh/other']);
    } finally {
      await ep.close();
    }
  });

  it('survives clients that hang up mid-body or send garbage, for every service', async () => {
    const ep = await startEndpoint({ port: 0, registry, invoker });
    try {
      const raw = (text: string) =>
        new Promise<void>((resolve) => {
          const socket = connect(ep.port, '127.0.0.1', () => {
            socket.write(text);
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 20);
          });
          socket.on('error', () => resolve());
        });
      const partial = (headers: string) =>
        `POST / HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: 1000\r\n\r\n{"half":`;
      await raw(partial('X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\n'));
      await raw(partial('X-Amz-Target: secretsmanager.ListSecrets\r\n'));
      await raw('POST /2015-03-31/functions/hello/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{');
      await raw('GARBAGE\r\n\r\n');
      await raw(`GET /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${'X-Big: y\r\n'.repeat(2000)}\r\n`);
      const res = await fetch(`${ep.url}/2015-03-31/functions`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      await ep.close();
    }
  });

  it('leaves an idle connection to its client: no idle deadline announced, reused after a stalled loop', async () => {
    const ep = await startEndpoint({ port: 0, registry, invoker });
    const agent = new Agent({ keepAlive: true });
    const get = () =>
      new Promise<{ reused: boolean; keepAlive: string | undefined }>((resolve, reject) => {
        const req = request(`${ep.url}/2015-03-31/functions`, { agent }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ reused: req.reusedSocket, keepAlive: res.headers['keep-alive'] as string | undefined }),
          );
        });
        req.on('error', reject).end();
      });
    try {
      // A server that announces `Keep-Alive: timeout=N` closes the connection about then, whatever the
      // client is doing: a request written as that deadline passes in a stalled loop is reset unread.
      assert.deepEqual(await get(), { reused: false, keepAlive: undefined });
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          const until = Date.now() + 300;
          while (Date.now() < until);
          resolve();
        }),
      );
      assert.deepEqual(await get(), { reused: true, keepAlive: undefined });
    } finally {
      agent.destroy();
      await ep.close();
    }
  });

  it('rejects a port in use, and frees its port on close', async () => {
    const a = await startEndpoint({ port: 0, registry, invoker });
    await assert.rejects(startEndpoint({ port: a.port, registry, invoker }), { code: 'EADDRINUSE' });
    await a.close();
    await assert.rejects(fetch(`${a.url}/2015-03-31/functions`));
    const b = await startEndpoint({ port: a.port, registry, invoker });
    await b.close();
  });
});
