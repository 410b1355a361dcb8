/** The endpoint's server: /_mesh/ hand-off, a busy port, close. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: server', () => {
  const registry = new TestRegistry();
  const invoker = new TestInvoker(registry);

  it('hands /_mesh/ paths to extraRoutes before AWS dispatch, 404 when it declines', async () => {
    const seen: string[] = [];
    const ep = await startEndpoint({
      port: 0, registry, invoker,
      extraRoutes: (req, res) => {
        seen.push(req.url!);
        if (req.url !== '/_mesh/stats') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return true;
      },
    });
    try {
      const ok = await fetch(`${ep.url}/_mesh/stats`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/lambda/aws4_request' } });
      assert.deepEqual(await ok.json(), { ok: true });
      const declined = await fetch(`${ep.url}/_mesh/other`);
      assert.equal(declined.status, 404);
      await declined.arrayBuffer();
      assert.deepEqual(seen, ['/_mesh/stats', '/_mesh/other']);
    } finally {
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
