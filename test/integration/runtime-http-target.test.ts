/**
 * HTTP targets (a service item with `url`): call() goes through F's httpTargetTransport with the same
 * pipeline as Invoke (retries, breaker, classification by HTTP status, telemetry), against real
 * loopback servers: plain HTTP (auth none), SigV4-signed HTTP (auth iam; http allowed on loopback)
 * and HTTPS requiring a mesh client certificate (auth mtls).
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import {
  MeshCircuitOpenError,
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
} from '../../functions/mesh/errors';
import { requestLineOfUrl } from '../../functions/mesh/identity/request-binding';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { META } from '../../shared/names';
import { identityOf, identityWorld } from '../support/identity-fixture';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
  peer?: string;
}

type Answer = (seen: Seen) => { status: number; body: string };

function listen(server: Server | ReturnType<typeof createHttpsServer>): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

function handler(seen: Seen[], answer: () => Answer) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        peer: (req.socket as TLSSocket).getPeerCertificate?.()?.subjectaltname,
      };
      seen.push(s);
      const a = answer()(s);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  };
}

function runtimeFor(item: Record<string, unknown>, identity?: IdentityLike, extra: unknown[] = []) {
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
    policy: {
      snapshot: {
        mesh: 'shop',
        generatedAt: '',
        items: [
          { pk: 'payments', sk: 'service', functionName: 'shop-payments', ...item },
          {
            pk: 'payments',
            sk: 'allow#orders',
            source: 'orders',
            // Idempotent: a 5xx after sending may be retried (on other edges it ends "outcome unknown").
            idempotent: true,
            retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
          },
          ...extra,
        ],
      },
      snapshotPath: null,
    },
    transport: { invoke: () => Promise.reject(new Error('an HTTP target must not use Lambda Invoke')) },
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => identity,
    sleep: async () => undefined,
  });
  return { rt, lines };
}

const ok: Answer = (s) => ({ status: 200, body: JSON.stringify({ got: JSON.parse(s.body) }) });

describe('runtime: HTTP targets through the call pipeline', () => {
  const seen: Seen[] = [];
  let answers: Answer[] = [];
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer(handler(seen, () => answers.shift() ?? ok));
    url = `http://127.0.0.1:${await listen(server)}/pay`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    seen.length = 0;
    answers = [];
  });

  test('auth none: the exact payload and the mesh metadata as x-mesh-* headers; the JSON answer comes back; telemetry as for Invoke', async () => {
    const { rt, lines } = runtimeFor({ url, auth: 'none' });
    assert.deepEqual(await rt.call('payments', { amount: 5 }, { idempotencyKey: 'k-1' }), { got: { amount: 5 } });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.body, '{"amount":5}');
    assert.equal(seen[0]!.headers[META.headers.source], 'orders');
    assert.equal(seen[0]!.headers[META.headers.idempotencyKey], 'k-1');
    assert.equal(seen[0]!.headers[META.headers.attempt], '1');
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    assert.equal(emf[0].destination_workload, 'payments');
    assert.equal(emf[0].response_code, '200');
  });

  test('classified by HTTP status: 500 is retried, 429 is throttled, 5 failures open the breaker', async () => {
    const { rt } = runtimeFor({ url, auth: 'none' });
    answers = [() => ({ status: 500, body: '{"message":"flaky"}' })];
    assert.deepEqual(await rt.call('payments', { a: 1 }), { got: { a: 1 } });
    assert.deepEqual(
      seen.map((s) => s.headers[META.headers.attempt]),
      ['1', '2'],
    );

    answers = Array.from({ length: 3 }, () => () => ({ status: 429, body: '{}' }));
    await assert.rejects(rt.call('payments', {}), MeshThrottledError);

    answers = Array.from({ length: 6 }, () => () => ({
      status: 503,
      body: '{"errorType":"Unavailable","message":"down"}',
    }));
    await assert.rejects(
      rt.call('payments', {}),
      (e: unknown) => e instanceof MeshRemoteError && /down/.test(e.message),
    ); // 3 attempts
    const before = seen.length;
    // 2 more: 5 in a row, open before the 3rd; the two 503s may have run, so the call ends outcome unknown
    await assert.rejects(
      rt.call('payments', {}),
      (e: unknown) => e instanceof MeshOutcomeUnknownError && /circuit open/.test(e.message),
    );
    const sent = seen.length;
    assert.equal(sent - before, 2);
    await assert.rejects(rt.call('payments', {}), MeshCircuitOpenError);
    assert.equal(seen.length, sent, 'an open breaker sends nothing');
  });

  test('a route mirror is not applied to an HTTP target (its URL names no version): one request per call', async () => {
    const { rt } = runtimeFor({ url, auth: 'none' }, undefined, [
      { pk: 'payments', sk: 'route', mirror: { version: '3', percent: 100 } },
    ]);
    assert.deepEqual(await rt.call('payments', { x: 1 }), { got: { x: 1 } });
    await new Promise((r) => setTimeout(r, 50)); // a mirror is fire-and-forget: give one a chance to arrive
    assert.equal(seen.length, 1);
  });

  test("auth iam: the request is SigV4-signed with the function's credentials", async () => {
    const saved = {
      id: process.env.AWS_ACCESS_KEY_ID,
      secret: process.env.AWS_SECRET_ACCESS_KEY,
      region: process.env.AWS_REGION,
    };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.AWS_REGION = 'us-east-1';
    try {
      const { rt } = runtimeFor({ url: url.replace('/pay', '/iam'), auth: 'iam' });
      assert.deepEqual(await rt.call('payments', { s: 1 }), { got: { s: 1 } });
      assert.match(
        String(seen[0]!.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/lambda\/aws4_request/,
      );
    } finally {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
        ['AWS_REGION', saved.region],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('runtime: an mTLS HTTP target', () => {
  test('auth mtls: the caller presents its mesh certificate and signs the token; the server is matched by its SPIFFE ID', async () => {
    const w = await identityWorld();
    const orders = await identityOf(w.orders);
    const payments = await identityOf(w.payments);
    const tls = payments.tlsMaterial();
    const seen: Seen[] = [];
    const server = createHttpsServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
      handler(seen, () => (s) => {
        // The token binds the whole request: method, path, query, body, idempotency key and deadline.
        const v = payments.verify({
          token: s.headers[META.headers.token],
          source: s.headers[META.headers.source],
          payload: s.body,
          idempotencyKey: s.headers[META.headers.idempotencyKey] as string,
          deadline: Number(s.headers[META.headers.deadline]),
          http: requestLineOfUrl(new URL(s.url ?? '/', 'https://x'), s.method),
        });
        return v.ok ? ok(s) : { status: 401, body: '{"message":"unauthenticated"}' };
      }),
    );
    const port = await listen(server);
    try {
      const { rt } = runtimeFor(
        { url: `https://127.0.0.1:${port}/pay?currency=EUR`, auth: 'mtls' },
        orders as unknown as IdentityLike,
      );
      assert.deepEqual(await rt.call('payments', { m: 1 }), { got: { m: 1 } });
      assert.match(seen[0]!.peer ?? '', /URI:spiffe:\/\/shop\/svc\/orders/);
      assert.ok(seen[0]!.headers[META.headers.token]);
    } finally {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
