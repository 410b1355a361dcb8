/**
 * The AWS wire client's connections (functions/mesh/aws/aws-wire-client.ts), against a loopback server
 * over real sockets: kept alive between requests, opened anew after the client was idle (a frozen
 * sandbox's sockets may have been closed by the server), never closed under a request in flight; and
 * its HTTP/1.1 exchange (aws/http1-exchange.ts) against node:http's server: chunked answers, a
 * connection the server closed, a reset before or during the answer, a timeout, an abort, and TLS.
 * The clock is injected: nothing here depends on how fast the machine is.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { AwsWireClient, IDLE_RESET_MS } from '../../functions/mesh/aws';
import { exchange, requestBytes } from '../../functions/mesh/aws/http1-exchange';

describe('AWS wire client connections', () => {
  /** What the server does with a request, by its path (the default answers whether it was signed). */
  const answers: Record<string, (res: ServerResponse) => void> = {
    '/hold': (res) => setTimeout(() => res.end('held'), 50),
    // No content-length: node:http answers chunked.
    '/chunked': (res) => {
      res.write('{"part":');
      setTimeout(() => res.end('"two"}'), 5);
    },
    '/reset': (res) => res.socket?.destroy(),
    '/cut': (res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part', () => res.socket?.destroy());
    },
    '/silent': () => undefined,
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = answers[req.url ?? ''];
      if (answer) answer(res);
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

  it('reads a chunked answer and keeps the connection for the next request', async () => {
    // Prepare
    const c = client(() => 1_000_000);
    // Act
    const chunked = await get(c, '/chunked');
    const next = await get(c);
    // Assess
    assert.equal(chunked.status, 200);
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    assert.deepEqual(JSON.parse(chunked.body.toString()), { part: 'two' });
    assert.equal(next.body.toString(), 'signed');
    assert.equal(c.connections, 1);
    c.close();
  });

  it('opens a new connection when the server closed the idle one', async () => {
    // Prepare: one kept-alive connection, which the server then closes.
    const c = client(() => 1_000_000);
    await get(c);
    server.closeIdleConnections();
    // The close reaches the client in a later turn of its event loop; a generous wait for it.
    await new Promise((r) => setTimeout(r, 200));
    // Act
    const again = await get(c);
    // Assess
    assert.equal(again.body.toString(), 'signed');
    assert.equal(c.connections, 2);
    c.close();
  });

  it('a connection lost before the answer is a TimeoutError (outcome unknown), as the AWS SDK names it', async () => {
    const c = client(() => 1_000_000);
    const err = (await get(c, '/reset').catch((e) => e)) as NodeJS.ErrnoException;
    assert.equal(err.name, 'TimeoutError');
    assert.equal(err.code, 'ECONNRESET');
    c.close();
  });

  it('a connection lost in the middle of the answer rejects with ECONNRESET, and is not reused', async () => {
    const c = client(() => 1_000_000);
    const err = (await get(c, '/cut').catch((e) => e)) as NodeJS.ErrnoException;
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.message, 'aborted');
    assert.equal((await get(c)).body.toString(), 'signed');
    assert.equal(c.connections, 2);
    c.close();
  });

  it('times out without a byte of the answer, and aborts when the caller says so', async () => {
    // Prepare
    const c = client(() => 1_000_000);
    const abort = new AbortController();
    // Act
    const late = (await c
      .send({ method: 'POST', path: '/silent', headers: {}, body: '{}', timeoutMs: 50 })
      .catch((e) => e)) as Error;
    const aborted = c.send({ method: 'POST', path: '/silent', headers: {}, body: '{}', signal: abort.signal });
    abort.abort();
    const gone = (await aborted.catch((e) => e)) as NodeJS.ErrnoException;
    const before = (await c
      .send({ method: 'POST', path: '/', headers: {}, body: '{}', signal: AbortSignal.abort() })
      .catch((e) => e)) as Error;
    // Assess
    assert.equal(late.name, 'TimeoutError');
    assert.match(late.message, /lambda request timed out after 50 ms/);
    assert.equal(gone.name, 'AbortError');
    assert.equal(gone.code, 'ABORT_ERR');
    assert.equal(before.name, 'AbortError');
    c.close();
  });

  it('a refused connection rejects with ECONNREFUSED', async () => {
    // Prepare: a port nothing listens on (a server opened, then closed).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = new AwsWireClient({
      url: new URL(`http://127.0.0.1:${port}`),
      region: 'us-east-1',
      service: 'lambda',
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      purpose: 'test',
    });
    // Act
    const err = (await get(c).catch((e) => e)) as NodeJS.ErrnoException;
    // Assess
    assert.equal(err.code, 'ECONNREFUSED');
  });
});

describe('HTTP/1.1 exchange over TLS', () => {
  it('writes the request and reads the answer on a TLS socket', async () => {
    // Prepare: a TLS server answering one HTTP/1.1 response with a certificate of the mesh CA.
    const ca = await rotateCa('wire', undefined);
    const id = await issueIdentity({ mesh: 'wire', service: 'aws', ca });
    let received = '';
    const server = createTlsServer({ cert: id.chain, key: id.privateKey }, (socket) => {
      socket.on('data', (d: Buffer) => {
        received += d.toString();
        if (received.includes('\r\n\r\n{}')) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nsecured');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const tls = await import('node:tls');
    // The mesh's certificates name a SPIFFE ID, not a host: trust the issuing CA and check nothing else.
    const socket = tls.connect({
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
      ca: id.trustBundle,
      checkServerIdentity: () => undefined,
    });
    try {
      // Act
      const res = await exchange(socket, 'POST', requestBytes('POST', '/', { host: 'x' }, '{}'), {
        onTimeout: () => new Error('timeout'),
      });
      // Assess
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'secured');
      assert.match(received, /^POST \/ HTTP\/1\.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n\{\}$/);
    } finally {
      socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("offers no ALPN, as the AWS SDK's https agent does, and refuses a server its trust store does not vouch for", async () => {
    // Prepare: a TLS server that records the protocols a client offers, with a certificate of a CA this
    // process does not trust.
    const ca = await rotateCa('wire', undefined);
    const id = await issueIdentity({ mesh: 'wire', service: 'aws', ca, ipAddresses: ['127.0.0.1'] });
    const offered: string[][] = [];
    const server = createTlsServer({
      cert: id.chain,
      key: id.privateKey,
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        return protocols[0];
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    // Key material is logged as the server answers a ClientHello, before its certificate goes out.
    let answered = 0;
    server.on('keylog', () => answered++);
    const c = new AwsWireClient({
      url: new URL(`https://127.0.0.1:${(server.address() as { port: number }).port}`),
      region: 'us-east-1',
      service: 'dynamodb',
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      purpose: 'test',
    });
    try {
      // Act
      const err = (await c.send({ method: 'POST', path: '/', headers: {}, body: '{}' }).catch((e) => e)) as Error & {
        code?: string;
      };
      // Assess: the handshake reached the server, which saw no protocol offered; the client refused it.
      assert.match(String(err.code), /CERT|SIGNATURE|ISSUER/);
      assert.ok(answered > 0);
      assert.deepEqual(offered, []);
    } finally {
      c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
