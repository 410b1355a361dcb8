/**
 * Attack: a function's own local HTTP endpoint (`localEndpoint: true`, functions/mesh/endpoint.ts) fed
 * what a well-behaved client of the sandbox does not send, on real loopback sockets in front of a real
 * MeshRuntime whose Invoke answers in memory. Beside what test/security/local-listeners.test.ts does
 * to it (a foreign Host, a process without the secret):
 * - a request whose head came during one invocation and whose body came after it ended ran in the next
 *   invocation: its deadline, its trace and its idempotency keys (the next invocation's first call to
 *   the same target then carried another key than a repeat of that invocation would). It belongs to
 *   the invocation it arrived in, and past that invocation's deadline it is not sent;
 * - a malformed `%` in the service name answered 500 with the URIError: a client error, now 400;
 * - a refused request kept its connection open, and Node read on whatever body it announced: a caller
 *   without the secret is answered and its connection closed;
 * - a body was read whole, without a bound, once the secret passed: past Invoke's 6 MB request limit
 *   it is answered 413 at once and not read on;
 * - an absolute-form request target (`POST http://127.0.0.1:<port>/<secret>/…`, which HTTP/1.1
 *   servers must accept) was refused as if it lacked the secret: it is served when its authority is a
 *   loopback name, and refused like a foreign Host when it is not.
 * What held: a deny written to the policy table refuses calls through the endpoint that start TTL + 1 s
 * after it, as it does `mesh.call` (the endpoint runs `call()` and keeps no policy of its own);
 * smuggling shapes (Content-Length with Transfer-Encoding) are refused by Node's parser and run
 * nothing; a pipelined request without the secret behind a good one is refused on its own; no answer
 * carries the secret; the socket listens on 127.0.0.1 only; slow clients holding half-sent heads do not
 * keep a call from being answered. The secret is compared in time independent of where it differs
 * (endpoint-guard.ts), and nothing of the endpoint writes a request's path to the log.
 */

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, test } from 'node:test';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type MeshEndpoint, startEndpoint } from '../../functions/mesh/endpoint';
import { derivedKey } from '../../functions/mesh/idempotency-key';
import type { InvocationScope } from '../../functions/mesh/invocation-scope';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { PolicyTableClient } from '../../functions/mesh/policy/policy-cache';
import type { InvokeRequest } from '../../functions/mesh/transport/lambda-invoke';
import { clockedPolicyCache } from '../support/clocked-policy-cache';
import { ORDERS_TO_PAYMENTS } from '../support/snapshot-runtime';

const SNAPSHOT = {
  mesh: 'shop',
  generatedAt: new Date(0).toISOString(),
  items: [...ORDERS_TO_PAYMENTS],
};

/**
 * orders' runtime; every Invoke it sends is kept in `sent` and answered `{"ok":1}`. Its policy is
 * SNAPSHOT, or the policy table `table` read on `clock` with a 5 s TTL.
 */
function ordersRuntime(table?: { client: PolicyTableClient; clock: { now: number } }): {
  rt: MeshRuntime;
  sent: InvokeRequest[];
} {
  const sent: InvokeRequest[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
    policy: table ? clockedPolicyCache(table.client, table.clock, TTL_MS) : { snapshot: SNAPSHOT, snapshotPath: null },
    transport: {
      invoke: async (req) => {
        sent.push(req);
        return { statusCode: 200, executedVersion: '1', payload: Buffer.from('{"ok":1}') };
      },
    },
    sink: () => undefined,
    onSegment: () => undefined,
    identity: async () => undefined,
    sleep: async () => undefined,
  });
  return { rt, sent };
}

const TTL_MS = 5_000;

/** The policy table of SNAPSHOT's items, in memory: the version read finds none, a Query its partition. */
function policyTable(): PolicyTableClient & { items: Array<Record<string, unknown>> } {
  const items: Array<Record<string, unknown>> = SNAPSHOT.items.map((i) => ({ ...i }));
  return {
    items,
    async send(command: unknown) {
      const values = (command as { input: { ExpressionAttributeValues?: { ':pk': { S: string } } } }).input
        .ExpressionAttributeValues;
      if (!values) return {};
      return { Items: items.filter((i) => i.pk === values[':pk'].S).map((i) => marshall(i)) };
    },
  };
}

/** The mesh metadata an Invoke carried in its ClientContext. */
const metaOf = (req: InvokeRequest) =>
  JSON.parse(Buffer.from(req.clientContext, 'base64').toString('utf8')).custom.mesh as { idk?: string };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection: what it wrote, what it read, whether the server closed it. */
class Raw {
  readonly socket: Socket;
  seen = '';
  closed = false;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.seen += d.toString('latin1');
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
  }
  write(text: string | Buffer): Promise<void> {
    return new Promise((r) => this.socket.write(text, () => r()));
  }
  /** Waits until `done()` holds, at most `ms`; then reports whether it did. */
  async until(done: () => boolean, ms = 5_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!done() && Date.now() < end) await pause(10);
    return done();
  }
}

describe('attack: a sandbox endpoint fed what its own clients do not send', () => {
  let ep: MeshEndpoint | undefined;
  const open: Raw[] = [];
  afterEach(async () => {
    for (const r of open.splice(0)) r.socket.destroy();
    await ep?.close();
    ep = undefined;
  });
  const start = (rt: MeshRuntime) => {
    ep = startEndpoint(rt, { port: 0, env: {} });
    return { secret: new URL(ep.url).pathname, port: ep.port };
  };
  const raw = (port: number) => {
    const r = new Raw(port);
    open.push(r);
    return r;
  };

  test('a request belongs to the invocation its head arrived in, not to the one running when its body ends', async () => {
    const { rt, sent } = ordersRuntime();
    const { secret, port } = start(rt);
    // Warm: the endpoint's request handling is loaded on the first connection.
    assert.equal((await fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}' })).status, 200);
    sent.length = 0;
    let endA!: () => void;
    const a: InvocationScope = {
      requestId: 'A',
      idempotencyKey: 'key-A',
      calls: new Map(),
      deadline: Date.now() + 300,
    };
    const servingA = rt.invocations.serve(a, () => new Promise<void>((r) => (endA = r)));
    // A child process of invocation A sends its head, then stalls (a frozen sandbox, a slow writer).
    const stray = raw(port);
    await stray.write(
      `POST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n`,
    );
    // Node answers 100 Continue as it hands the parsed head to the endpoint, in the same turn.
    assert.ok(await stray.until(() => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(stray.seen)), 'the head was read');
    stray.seen = '';
    endA();
    await servingA;
    await pause(300); // A's deadline has passed
    const b: InvocationScope = {
      requestId: 'B',
      idempotencyKey: 'key-B',
      calls: new Map(),
      deadline: Date.now() + 60_000,
    };
    let own: Response | undefined;
    await rt.invocations.serve(b, async () => {
      await stray.write('{}');
      assert.ok(await stray.until(() => /\r\n\r\n\{/.test(stray.seen)), 'the stray request was answered');
      own = await fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}', headers: { 'x-mesh-request-id': 'B' } });
    });
    assert.match(stray.seen, /^HTTP\/1\.1 504 /, "past A's deadline: a timeout, not a call in B");
    assert.equal(own?.status, 200);
    assert.deepEqual(
      sent.map((s) => metaOf(s).idk),
      [derivedKey('key-B', 'payments', 1)],
      "only B's own call went out, with B's first key",
    );
  });

  test('a malformed percent-escape in the service name is a 400, sends nothing, and the endpoint serves on', async () => {
    const { rt, sent } = ordersRuntime();
    start(rt);
    const bad = await fetch(`${ep!.url}/pay%ZZments`, { method: 'POST', body: '{}' });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { errorType: string; message: string };
    assert.equal(body.errorType, 'MeshCallError');
    assert.ok(!JSON.stringify(body).includes(new URL(ep!.url).pathname.slice(1)), 'the answer carries no secret');
    assert.equal(sent.length, 0);
    const good = await fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}' });
    assert.equal(good.status, 200);
  });

  test('a refused caller is answered and its connection closed: it cannot stream a body into the sandbox', async () => {
    const { rt, sent } = ordersRuntime();
    const { port } = start(rt);
    for (const [path, host] of [
      ['/not-the-secret/payments', '127.0.0.1'],
      [`${new URL(ep!.url).pathname}/payments`, 'attacker.example'],
    ] as const) {
      const r = raw(port);
      await r.write(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100000000\r\n\r\n{"a":`);
      assert.ok(await r.until(() => r.closed), `closed after the refusal (${host}${path.slice(0, 8)}…)`);
      assert.match(r.seen, /^HTTP\/1\.1 40[13] /);
      assert.match(r.seen, /\r\nConnection: close\r\n/i);
    }
    assert.equal(sent.length, 0);
  });

  test('a body past Invoke’s 6 MB request limit is answered 413 at once, not read on, and nothing is sent', async () => {
    const { rt, sent } = ordersRuntime();
    const { secret, port } = start(rt);
    const r = raw(port);
    await r.write(`POST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n`);
    // 7 MB of the announced 100 MB: before the fix the endpoint waited for all of it, and kept every byte.
    const mb = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 7 && !r.closed; i++) await r.write(mb);
    assert.ok(await r.until(() => r.closed), 'the connection is closed once the limit is passed');
    assert.match(r.seen, /^HTTP\/1\.1 413 /);
    assert.equal(sent.length, 0);
    // A body at the limit is still read.
    const big = JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024 - 20) });
    const ok = await fetch(`${ep!.url}/payments`, { method: 'POST', body: big });
    assert.equal(ok.status, 200);
    assert.equal(sent.length, 1);
  });

  test('an absolute-form target is served with a loopback authority, refused with a foreign one', async () => {
    const { rt, sent } = ordersRuntime();
    const { secret, port } = start(rt);
    const send = async (authority: string) => {
      const r = raw(port);
      await r.write(
        `POST http://${authority}${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}`,
      );
      await r.until(() => /\r\n\r\n./s.test(r.seen));
      return r.seen;
    };
    assert.match(await send(`127.0.0.1:${port}`), /^HTTP\/1\.1 200 /);
    assert.match(await send(`localhost:${port}`), /^HTTP\/1\.1 200 /);
    // The authority, not the Host header, names the server then (RFC 9112, 3.2.2): a rebinding name is refused.
    assert.match(await send(`attacker.example:${port}`), /^HTTP\/1\.1 403 /);
    assert.equal(sent.length, 2);
  });

  test('held: a deny written to the table holds through the endpoint for calls that start TTL + 1 s later', async () => {
    const clock = { now: 1_700_000_000_000 };
    const table = policyTable();
    const { rt, sent } = ordersRuntime({ client: table, clock });
    start(rt);
    const post = () => fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}' });
    assert.equal((await post()).status, 200);
    // The operator revokes the edge orders -> payments, after the sandbox read it.
    clock.now += 1;
    table.items.splice(
      table.items.findIndex((i) => i.sk === 'allow#orders'),
      1,
    );
    clock.now += TTL_MS + 1_000;
    const refused = await post();
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { errorType: string }).errorType, 'MeshDeniedError');
    assert.equal(sent.length, 1, 'nothing sent after the deny');
  });

  test('held: smuggling shapes are refused and run nothing; a pipelined request without the secret is refused', async () => {
    const { rt, sent } = ordersRuntime();
    const { secret, port } = start(rt);
    const smuggle = raw(port);
    await smuggle.write(
      `POST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `0\r\n\r\nPOST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}`,
    );
    assert.ok(await smuggle.until(() => smuggle.closed));
    assert.match(smuggle.seen, /^HTTP\/1\.1 400 /);
    assert.equal(sent.length, 0);
    const pipe = raw(port);
    await pipe.write(
      `POST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}` +
        'POST /guess/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}',
    );
    assert.ok(await pipe.until(() => /HTTP\/1\.1 401 /.test(pipe.seen)));
    assert.match(pipe.seen, /^HTTP\/1\.1 200 /);
    assert.equal(sent.length, 1);
    assert.ok(!pipe.seen.slice(pipe.seen.indexOf('HTTP/1.1 401')).includes(secret.slice(1)));
  });

  test('held: listens on 127.0.0.1 only, and serves a call while 200 slow clients hold half-sent heads', async () => {
    const { rt } = ordersRuntime();
    const { secret, port } = start(rt);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect(port, external);
        s.on('connect', () => resolve(false));
        s.on('error', () => resolve(true));
      });
      assert.equal(refused, true, `nothing answers on ${external}:${port}`);
    }
    for (let i = 0; i < 200; i++) await raw(port).write(`POST ${secret}/payments HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const res = await fetch(`${ep!.url}/payments`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
  });
});
