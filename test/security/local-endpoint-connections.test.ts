/**
 * Attack: a flood of connections to the local mesh's AWS endpoint that never send a request, or send
 * their head one byte at a time, on 127.0.0.1. The endpoint closed none of them (idle connections stay
 * open by design, and Node's headersTimeout only starts with a request's first byte), so a local
 * process could hold every file descriptor the mesh had: at the limit (EMFILE) Node accepts and drops
 * each new connection, and a plain Invoke went unanswered. The endpoint now holds a bounded number of
 * connections, closes the one idle longest for a new one, refuses a new one (503, with a message and a
 * log line) only when every connection is serving a request, and closes a connection that sends no
 * request head in time. A small cap keeps the sockets here few: the rules are the same at the default.
 * Real sockets, the real endpoint over an in-process backend, the real Lambda SDK client.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { defaultMaxConnections } from '../../local/endpoint/connection-cap';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';
import { clientConfig } from '../support/example-assembly';

const CAP = 16;
const INVOKE = '/2015-03-31/functions/hello/invocations';

/** A socket to the endpoint, once connected; `closed` settles when the endpoint (or anyone) closes it. */
interface Held {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  received(): string;
}

function open(port: number, send?: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    let done = false;
    let seen = '';
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) =>
      socket.on('close', () => {
        done = true;
        r();
      }),
    );
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve({ socket, closed, isClosed: () => done, received: () => seen });
    });
    socket.once('error', reject);
  });
}

/** Resolves once the endpoint has taken every connection made so far (its 'connection' events ran). */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('attack: a flood of idle connections to the local endpoint', () => {
  const registry = new TestRegistry();
  registry.add('hello', () => ({ ok: true }));
  const invoker = new TestInvoker(registry);
  let ep: Endpoint | undefined;
  let lambda: LambdaClient | undefined;
  const held: Held[] = [];
  const logged: string[] = [];

  const start = async (more: { firstRequestTimeoutMs?: number } = {}) => {
    ep = await startEndpoint({
      port: 0,
      registry,
      invoker,
      log: (l) => logged.push(l),
      maxConnections: CAP,
      ...more,
    });
    lambda = new LambdaClient(clientConfig(ep.url));
    return ep;
  };
  const invoke = async () => {
    const out = await lambda!.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    return Buffer.from(out.Payload!).toString();
  };

  afterEach(async () => {
    for (const h of held.splice(0)) h.socket.destroy();
    lambda?.destroy();
    await ep?.close();
    logged.length = 0;
  });

  it('silent connections past the cap are closed, oldest first, and an Invoke is answered', async () => {
    const { port } = await start();
    // Act: four times the cap of connections that never send a byte, then an Invoke.
    for (let i = 0; i < CAP * 4; i++) held.push(await open(port));
    // Assess: the endpoint closed all but the last CAP of them (the newest stayed), and answers.
    await Promise.all(held.slice(0, CAP * 3).map((h) => h.closed));
    await settle();
    assert.ok(held.slice(CAP * 3).every((h) => !h.isClosed()));
    assert.equal(await invoke(), '{"ok":true}');
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, new RegExp(`^at its cap of ${CAP} connections: 1 idle one\\(s\\) closed for new ones`));
  });

  it('heads sent a byte at a time are closed before a keep-alive client’s idle connection', async () => {
    const { port } = await start();
    // Prepare: a client that made a request and keeps its connection, then slow heads up to the cap.
    const client = await open(port, `GET /_mesh/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    held.push(client);
    while (!/\r\n\r\n/.test(client.received())) await settle();
    for (let i = 0; i < CAP - 1; i++) held.push(await open(port, 'POST / HTTP/1.1\r\nHo'));
    await settle();
    // Act: as many new connections again.
    for (let i = 0; i < CAP - 1; i++) held.push(await open(port));
    await Promise.all(held.slice(1, CAP).map((h) => h.closed));
    // Assess: the slow heads went; the served client's connection stayed, and still serves.
    assert.equal(client.isClosed(), false);
    const before = client.received().length;
    client.socket.write(`GET /_mesh/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    while (client.received().length === before) await settle();
    assert.match(client.received().slice(before), /^HTTP\/1\.1 404 /);
  });

  it('when every connection serves a request, a new one is refused with 503, and nothing it sent runs', async () => {
    const { port } = await start();
    // Prepare: CAP Invokes whose bodies are not finished: each connection is serving a request.
    const head = `POST ${INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n`;
    for (let i = 0; i < CAP; i++) held.push(await open(port, `${head}{`));
    await settle();
    const calls = invoker.calls.length;
    // Act: one more connection, which sends a whole Invoke.
    const late = await open(port, `${head}{}`);
    held.push(late);
    await late.closed;
    // Assess: refused in words, not run; the busy connections kept, and their Invokes answered.
    assert.match(late.received(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(late.received(), /all 16 connections it holds are serving requests; retry once one has ended/);
    assert.equal(invoker.calls.length, calls);
    assert.match(logged.at(-1)!, /1 new one\(s\) refused with 503/);
    for (const h of held.slice(0, CAP)) h.socket.write('}');
    for (const h of held.slice(0, CAP)) while (!/\{"ok":true\}$/.test(h.received())) await settle();
    assert.equal(invoker.calls.length, calls + CAP);
    assert.equal(await invoke(), '{"ok":true}');
  });

  it('a connection that sends no request head in time is closed; one that did stays', async () => {
    const { port } = await start({ firstRequestTimeoutMs: 200 });
    const served = await open(port, `GET /_mesh/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const silent = await open(port);
    held.push(served, silent);
    await silent.closed;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(served.isClosed(), false);
    assert.deepEqual(logged, []);
  });

  it('the default cap is 1,024, or half the open-file limit where that is less', () => {
    const limits = (soft: number) =>
      `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 ${soft}                 files     \n`;
    assert.equal(defaultMaxConnections(limits(1_048_576)), 1_024);
    assert.equal(defaultMaxConnections(limits(256)), 128);
    assert.equal(defaultMaxConnections(undefined), 1_024);
  });
});
