/**
 * HTTP targets (declared by the deployment in MESH_HTTP_TARGETS): call() goes through
 * httpTargetTransport with the same pipeline as Invoke (retries, breaker, classification by HTTP
 * status, telemetry), against real loopback servers: plain HTTP (auth none), SigV4-signed HTTP (auth
 * iam; http allowed on loopback) and HTTPS requiring a mesh client certificate (auth mtls). A policy
 * item cannot make a target an HTTP one, and the identity token goes only where TLS verifies the peer.
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
import type { InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { ENV, META_HEADER } from '../../shared/names';
import { identityOf, identityWorld } from '../support/identity-fixture';
import { httpTargetCaller } from '../support/raw-http-target';

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

function runtimeFor(
  target: { url: string; auth: string } | undefined,
  identity?: IdentityLike,
  extra: unknown[] = [],
  invoke?: InvokeTransport['invoke'],
) {
  const lines: string[] = [];
  // Idempotent: a 5xx after sending may be retried (on other edges it ends "outcome unknown").
  const edge = { idempotent: true };
  const rt = httpTargetCaller(target, {
    edge,
    extraItems: extra,
    identity,
    invoke,
    lines,
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
    assert.equal(seen[0]!.headers[META_HEADER.source], 'orders');
    assert.equal(seen[0]!.headers[META_HEADER.idempotencyKey], 'k-1');
    assert.equal(seen[0]!.headers[META_HEADER.attempt], '1');
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    assert.equal(emf[0].destination_workload, 'payments');
    assert.equal(emf[0].response_code, '200');
  });

  test('classified by HTTP status: 500 is retried, 429 is throttled, 5 failures open the breaker', async () => {
    const { rt } = runtimeFor({ url, auth: 'none' });
    answers = [() => ({ status: 500, body: '{"message":"flaky"}' })];
    assert.deepEqual(await rt.call('payments', { a: 1 }), { got: { a: 1 } });
    assert.deepEqual(
      seen.map((s) => s.headers[META_HEADER.attempt]),
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
    await withAwsCredentials(async () => {
      const { rt } = runtimeFor({ url: url.replace('/pay', '/iam'), auth: 'iam' });
      assert.deepEqual(await rt.call('payments', { s: 1 }), { got: { s: 1 } });
      assert.match(
        String(seen[0]!.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/lambda\/aws4_request/,
      );
    });
  });

  test('a service item that names a url is refused whole: the call goes by Invoke to the declared function', async () => {
    const invoked: string[] = [];
    const { rt, lines } = runtimeFor(
      undefined,
      undefined,
      // The item an attacker with write access to the table would plant (the snapshot item is replaced).
      [{ pk: 'payments', sk: 'service', functionName: 'shop-payments', url, auth: 'none' }],
      async (req) => {
        invoked.push(`${req.functionName}:${req.qualifier}`);
        return { statusCode: 200, payload: Buffer.from('{"via":"invoke"}'), executedVersion: '1' };
      },
    );
    assert.deepEqual(await rt.call('payments', { amount: 5 }), { via: 'invoke' });
    assert.equal(seen.length, 0, 'nothing reached the listener the item named');
    assert.deepEqual(invoked, ['shop-payments:live']);
    assert.ok(lines.some((l) => /unknown fields? url, auth.*declared at deploy/.test(l)));
  });

  test('an unreadable MESH_HTTP_TARGETS fails every call closed, naming the variable', async () => {
    const rt = new MeshRuntime({
      env: { [ENV.httpTargets]: '{"payments":{"url":"http://203.0.113.9/","auth":"none"}}' },
      config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
      policy: {
        snapshot: { mesh: 'shop', generatedAt: '', items: [{ pk: 'payments', sk: 'allow#orders', source: 'orders' }] },
        snapshotPath: null,
      },
      transport: { invoke: () => Promise.reject(new Error('must not be reached')) },
      sink: () => undefined,
      identity: async () => undefined,
    });
    await assert.rejects(rt.call('payments', {}), /MESH_HTTP_TARGETS is malformed .*must be https.*redeploy/);
  });

  test('the identity token never goes over plain http nor to an auth "none" target', async () => {
    const signer: IdentityLike = { sign: () => 'live-identity-token', verify: () => ({ ok: true }) };
    const { rt } = runtimeFor({ url, auth: 'none' }, signer);
    assert.deepEqual(await rt.call('payments', { a: 1 }), { got: { a: 1 } });
    await withAwsCredentials(async () => {
      const iam = runtimeFor({ url: url.replace('/pay', '/iam-http'), auth: 'iam' }, signer).rt;
      assert.deepEqual(await iam.call('payments', { b: 2 }), { got: { b: 2 } });
    });
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.equal(s.headers[META_HEADER.token], undefined);
      assert.equal(s.headers[META_HEADER.source], 'orders', 'the rest of the metadata still travels');
    }
  });
});

/** Runs `fn` with the SigV4 transport's environment credentials set, then puts the environment back. */
async function withAwsCredentials(fn: () => Promise<void>): Promise<void> {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
  const saved = keys.map((k) => process.env[k]);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  try {
    await fn();
  } finally {
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

describe('runtime: an mTLS HTTP target', () => {
  test('auth mtls: the caller presents its mesh certificate and signs the token; the server is matched by its SPIFFE ID', async () => {
    const w = await identityWorld();
    const orders = await identityOf(w.orders);
    const payments = await identityOf(w.payments);
    const tls = payments.tlsMaterial();
    const seen: Seen[] = [];
    const verdicts: unknown[] = [];
    const server = createHttpsServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
      handler(seen, () => (s) => {
        // The token binds the whole request: method, path, query, body, idempotency key and deadline,
        // and the attempt header.
        const v = payments.verify({
          token: s.headers[META_HEADER.token],
          source: s.headers[META_HEADER.source],
          payload: s.body,
          idempotencyKey: s.headers[META_HEADER.idempotencyKey] as string,
          deadline: Number(s.headers[META_HEADER.deadline]),
          http: requestLineOfUrl(new URL(s.url ?? '/', 'https://x'), s.method),
          context: { att: Number(s.headers[META_HEADER.attempt]) },
        });
        verdicts.push(v);
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
      assert.ok(seen[0]!.headers[META_HEADER.token]);
      assert.deepEqual(verdicts, [{ ok: true, contextBound: true }]);
    } finally {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
