/**
 * The layer's local HTTP endpoint (functions/mesh/endpoint.ts) on real loopback sockets, in front of a
 * real MeshRuntime whose Invoke transport answers in memory: request parsing, the error statuses, the
 * options it passes to call(), MESH_ENDPOINT, and a close() that ends keep-alive connections at once.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { type MeshEndpoint, startEndpoint } from '../../functions/mesh/endpoint';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { ENV } from '../../shared/names';
import { ORDERS_TO_PAYMENTS } from '../support/snapshot-runtime';

const SNAPSHOT = {
  mesh: 'shop',
  generatedAt: new Date(0).toISOString(),
  items: [...ORDERS_TO_PAYMENTS, { pk: 'audit', sk: 'service', functionName: 'shop-audit' }],
};

/** Answers every Invoke with `answer(request)`, and keeps the requests. */
class MemoryTransport implements InvokeTransport {
  readonly requests: InvokeRequest[] = [];
  constructor(private readonly answer: (req: InvokeRequest) => InvokeResponse) {}
  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    this.requests.push(req);
    return this.answer(req);
  }
}

const json = (v: unknown, extra: Partial<InvokeResponse> = {}): InvokeResponse => ({
  statusCode: 200,
  executedVersion: '1',
  payload: Buffer.from(JSON.stringify(v)),
  ...extra,
});

/** Echoes the payload the callee received. */
const echo = (req: InvokeRequest) => json({ got: JSON.parse(Buffer.from(req.payload).toString('utf8')) });

function runtime(transport: InvokeTransport): MeshRuntime {
  return new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
    policy: { snapshot: SNAPSHOT, snapshotPath: null },
    transport,
    sink: () => undefined,
    onSegment: () => undefined,
    identity: async () => undefined,
    sleep: async () => undefined,
  });
}

/** Resolves with what `p` resolved to, or with 'pending' after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((r) => {
    timer = setTimeout(() => r('pending'), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('runtime endpoint (MESH_ENDPOINT)', () => {
  let ep: MeshEndpoint | undefined;
  afterEach(async () => {
    await ep?.close();
    ep = undefined;
  });

  test('sets MESH_ENDPOINT before it returns, on 127.0.0.1 and the port it reports', async () => {
    const env: NodeJS.ProcessEnv = {};
    ep = startEndpoint(runtime(new MemoryTransport(echo)), { port: 0, env });
    // The base URL carries the sandbox's secret path: only its own processes know it.
    assert.match(env[ENV.endpoint] ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${ep.port}/[A-Za-z0-9_-]{24}$`));
    assert.equal(ep.url, env[ENV.endpoint]);
    assert.ok(ep.port > 0);
    await ep.ready;
  });

  test('takes its port from MESH_ENDPOINT_PORT when none is given', async () => {
    const probe = startEndpoint(runtime(new MemoryTransport(echo)), { port: 0, env: {} });
    const free = probe.port;
    await probe.close();
    const env: NodeJS.ProcessEnv = { [ENV.endpointPort]: String(free) };
    ep = startEndpoint(runtime(new MemoryTransport(echo)), { env });
    assert.equal(ep.port, free);
    const res = await fetch(`${ep.url}/payments`, { method: 'POST', body: '{"n":1}' });
    assert.deepEqual(await res.json(), { got: { n: 1 } });
  });

  test('POST /<service>: the JSON body goes to the callee, its result comes back as JSON', async () => {
    const transport = new MemoryTransport(echo);
    ep = startEndpoint(runtime(transport), { port: 0, env: {} });
    const res = await fetch(`${ep.url}/payments/charge?x=1`, { method: 'POST', body: '{"amount":5}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { got: { amount: 5 } });
    assert.equal(transport.requests[0]?.functionName, 'shop-payments');
    // An empty body is an empty object; an undefined result answers null.
    const empty = await fetch(`${ep.url}/payments`, { method: 'POST' });
    assert.deepEqual(await empty.json(), { got: {} });
  });

  test('a result of undefined answers JSON null', async () => {
    ep = startEndpoint(runtime(new MemoryTransport(() => ({ statusCode: 200, payload: new Uint8Array() }))), {
      port: 0,
      env: {},
    });
    const res = await fetch(`${ep.url}/payments`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'null');
  });

  test('passes the idempotency key (either header) and a positive x-mesh-timeout-ms to call()', async () => {
    const transport = new MemoryTransport(echo);
    const rt = runtime(transport);
    const seen: unknown[] = [];
    const call = rt.call.bind(rt);
    rt.call = ((target: string, payload: unknown, options: unknown) => {
      seen.push(options);
      return call(target, payload, options as never);
    }) as typeof rt.call;
    ep = startEndpoint(rt, { port: 0, env: {} });
    const post = (headers: Record<string, string>) =>
      fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}', headers }).then((r) => r.json());
    await post({ 'x-mesh-idempotency-key': 'k-1', 'x-mesh-timeout-ms': '1500' });
    await post({ 'idempotency-key': 'k-2', 'x-mesh-timeout-ms': '-5' });
    await post({ 'x-mesh-timeout-ms': 'soon' });
    const opts = seen as { idempotencyKey?: string; timeoutMs?: number }[];
    assert.deepEqual(
      opts.map((o) => [o.idempotencyKey, o.timeoutMs]),
      [
        ['k-1', 1500],
        ['k-2', undefined],
        [undefined, undefined],
      ],
    );
    // The key travels on the Invoke: the callee can deduplicate.
    const idk = (r: InvokeRequest) => JSON.parse(Buffer.from(r.clientContext, 'base64').toString()).custom.mesh.idk;
    assert.equal(idk(transport.requests[0]!), 'k-1');
    assert.equal(idk(transport.requests[1]!), 'k-2');
  });

  test('answers errors as JSON with a status: 405 not POST, 400 bad JSON, 403 denied, 502 remote', async () => {
    const transport = new MemoryTransport((req) =>
      req.functionName === 'shop-payments'
        ? json({ errorType: 'Declined', errorMessage: 'card refused' }, { functionError: 'Unhandled' })
        : json({}),
    );
    ep = startEndpoint(runtime(transport), { port: 0, env: {} });
    const get = await fetch(`${ep.url}/payments`);
    assert.equal(get.status, 405);
    assert.match(((await get.json()) as { message: string }).message, /use POST .* \(got GET \/payments\)/);
    const bad = await fetch(`${ep.url}/payments`, { method: 'POST', body: '{oops' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      code: 'MeshCallError',
      errorType: 'MeshCallError',
      message: 'the body of POST /payments must be JSON',
    });
    const denied = await fetch(`${ep.url}/audit`, { method: 'POST', body: '{}' });
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { errorType: string }).errorType, 'MeshDeniedError');
    const remote = await fetch(`${ep.url}/payments`, { method: 'POST', body: '{}' });
    assert.equal(remote.status, 502);
    const body = (await remote.json()) as { errorType: string; errorMessage: string };
    assert.deepEqual([body.errorType, body.errorMessage], ['Declined', 'card refused']);
    assert.equal(transport.requests.length, 1, 'neither the refused nor the malformed request was sent');
  });

  test('a percent-encoded service name is decoded', async () => {
    const transport = new MemoryTransport(echo);
    ep = startEndpoint(runtime(transport), { port: 0, env: {} });
    const res = await fetch(`${ep.url}/pay%6dents`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(transport.requests[0]?.functionName, 'shop-payments');
  });

  test('the runtime may be given lazily: it is made on the first request, not at start', async () => {
    let made = 0;
    const rt = runtime(new MemoryTransport(echo));
    ep = startEndpoint(
      () => {
        made++;
        return rt;
      },
      { port: 0, env: {} },
    );
    assert.equal(made, 0);
    await fetch(`${ep.url}/payments`, { method: 'POST', body: '{}' }).then((r) => r.json());
    await fetch(`${ep.url}/payments`, { method: 'POST', body: '{}' }).then((r) => r.json());
    assert.equal(made, 2, 'the getter is asked on each request (the layer caches the runtime itself)');
  });

  test('close() returns promptly with a keep-alive connection open, and that connection is closed', async () => {
    ep = startEndpoint(runtime(new MemoryTransport(echo)), { port: 0, env: {} });
    const port = ep.port;
    // A raw keep-alive exchange on one socket: the first request is the one that wakes the server.
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    const path = new URL(ep.url).pathname;
    socket.write(
      `POST ${path}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const deadline = Date.now() + 10_000;
    while (!answer.includes('{"got":{}}') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(answer, /^HTTP\/1\.1 200 OK/);
    assert.match(answer, /Keep-Alive: timeout=60/i);
    // The server would keep this socket for 60 s; close() must not wait for that.
    const t0 = Date.now();
    assert.equal(await within(ep.close(), 10_000), undefined, 'close() resolved');
    assert.equal(await within(closed, 10_000), undefined, 'the keep-alive socket was closed');
    assert.ok(Date.now() - t0 < 10_000);
    ep = undefined;
    // And the port is free again.
    const again = await new Promise<boolean>((resolve) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/payments' }, () => resolve(true));
      req.on('error', () => resolve(false));
      req.end('{}');
    });
    assert.equal(again, false, 'nothing listens after close()');
  });

  test('close() before any connection releases the port without loading http', async () => {
    ep = startEndpoint(runtime(new MemoryTransport(echo)), { port: 0, env: {} });
    const port = ep.port;
    await ep.close();
    ep = undefined;
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.equal(refused, true);
  });
});
