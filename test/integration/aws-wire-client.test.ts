/**
 * The AWS wire client's connections (functions/mesh/aws/aws-wire-client.ts), against a loopback server
 * over real sockets: kept alive between requests, opened anew after the client was idle (a frozen
 * sandbox's sockets may have been closed by the server), never closed under a request in flight.
 * The clock is injected: nothing here depends on how fast the machine is.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AwsWireClient, IDLE_RESET_MS } from '../../functions/mesh/aws';

describe('AWS wire client connections', () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hold') setTimeout(() => res.end('held'), 50);
      else res.end(req.headers.authorization ? 'signed' : 'unsigned');
    });
  });
  let url: URL;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = (now: () => number) =>
    new AwsWireClient({
      url,
      region: 'us-east-1',
      service: 'lambda',
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      purpose: 'test',
      now,
    });
  const get = (c: AwsWireClient, path = '/') => c.send({ method: 'POST', path, headers: {}, body: '{}' });

  it('keeps one connection while busy, opens a new one after an idle spell', async () => {
    // Prepare
    let t = 1_000_000;
    const c = client(() => t);
    // Act
    const first = await get(c);
    await get(c);
    t += IDLE_RESET_MS - 1;
    await get(c);
    const beforeIdle = c.connections;
    t += IDLE_RESET_MS + 1;
    await get(c);
    // Assess
    assert.equal(first.body.toString(), 'signed');
    assert.equal(beforeIdle, 1, 'reused within the idle limit');
    assert.equal(c.connections, 2, 'a new connection after the idle limit');
    c.close();
  });

  it('does not drop connections under a request in flight', async () => {
    let t = 1_000_000;
    const c = client(() => t);
    await get(c);
    t += IDLE_RESET_MS + 1;
    const held = get(c, '/hold'); // opens the second connection (idle reset), stays in flight
    t += IDLE_RESET_MS + 1;
    const other = await get(c); // idle by the clock, but a request is in flight: no reset
    assert.equal((await held).body.toString(), 'held');
    assert.equal(other.body.toString(), 'signed');
    assert.equal(c.connections, 3, 'one per request in parallel, none destroyed under the held one');
    c.close();
  });
});
