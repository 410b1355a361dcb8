/**
 * The Lambda Invoke transport on the wire against @aws-sdk/client-lambda: the same answers of a
 * loopback Lambda (success, function error, throttling, 4xx, 5xx, a proxy's page, a dropped
 * connection, a refused one, no answer) end every call() in the same typed error, the same outcome
 * and the same number of attempts whichever path sent it. The loopback Lambda checks each request's
 * SigV4 signature as AWS does (test/support/sigv4-check.ts) and refuses a bad one.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshError } from '../../functions/mesh/errors';
import type { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { checkSigV4 } from '../support/sigv4-check';
import { snapshotRuntime } from '../support/snapshot-runtime';

const CREDS = { accessKeyId: 'AKIDMESHTEST', secretAccessKey: 'mesh-test-secret' };
const ACCOUNT_FN = 'arn:aws:lambda:us-east-1:123456789012:function:shop-ok';

interface Seen {
  readonly fn: string;
  readonly qualifier: string | null;
  readonly clientContext?: string;
  readonly trace?: string;
  readonly signatureOk: boolean;
  readonly sessionToken?: string;
}

/** Answers as Lambda would, per function name (the last segment of an ARN). */
function answer(fn: string, req: IncomingMessage, res: ServerResponse) {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1', ...headers }).end(text);
  };
  const error = (status: number, type: string, body: Record<string, unknown>, headers = {}) =>
    json(status, body, { 'x-amzn-errortype': type, ...headers });
  switch (fn) {
    case 'shop-ok':
      return json(200, { ok: true, echo: req.headers['x-amz-invocation-type'] }, { 'x-amz-executed-version': '7' });
    case 'shop-fn-error':
      return json(
        200,
        { errorType: 'CardDeclined', errorMessage: 'card declined', trace: ['CardDeclined: card declined'] },
        { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '3' },
      );
    case 'shop-timedout':
      return json(
        200,
        { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: r Error: Task timed out after 3.00 seconds' },
        { 'x-amz-function-error': 'Unhandled' },
      );
    case 'shop-throttled':
      return error(
        429,
        'TooManyRequestsException',
        { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
        { 'retry-after': '1' },
      );
    case 'shop-missing':
      return error(404, 'ResourceNotFoundException', {
        Type: 'User',
        Message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:shop-missing:live',
      });
    case 'shop-too-large':
      return error(413, 'RequestTooLargeException', {
        Type: 'User',
        message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      });
    case 'shop-denied':
      return error(403, 'AccessDeniedException', {
        Message: 'User is not authorized to perform: lambda:InvokeFunction',
      });
    case 'shop-service':
      return error(500, 'ServiceException:http://internal.amazon.com/coral/com.amazon.awsgirawebservice/', {
        Type: 'Service',
        Message: 'internal error',
      });
    case 'shop-not-ready':
      return error(502, 'ResourceNotReadyException', { Type: 'User', message: 'Function is not ready' });
    case 'shop-proxy':
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
      return;
    case 'shop-reset':
      req.socket.destroy();
      return;
    case 'shop-silent':
      return; // never answers: the per-try timeout ends the attempt
    default:
      return error(404, 'ResourceNotFoundException', { Message: `no ${fn}` });
  }
}

async function startLambda(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    const sig = await checkSigV4(req, Buffer.concat(chunks), CREDS);
    const fn = decodeURIComponent(m?.[1] ?? '')
      .split(':function:')
      .pop()!;
    seen.push({
      fn,
      qualifier: url.searchParams.get('Qualifier'),
      clientContext: req.headers['x-amz-client-context'] as string | undefined,
      trace: req.headers['x-amzn-trace-id'] as string | undefined,
      signatureOk: sig.ok,
      sessionToken: sig.sessionToken,
    });
    if (!sig.ok) {
      res.writeHead(403, { 'x-amzn-errortype': 'InvalidSignatureException' });
      res.end(JSON.stringify({ message: sig.why }));
      return;
    }
    answer(fn, req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

const TARGETS = [
  'ok',
  'fn-error',
  'timedout',
  'throttled',
  'missing',
  'too-large',
  'denied',
  'service',
  'not-ready',
  'proxy',
  'reset',
  'silent',
] as const;

function runtime(transport: LambdaInvokeTransport, lines: string[]): MeshRuntime {
  // Seconds per try: only the target that never answers reaches it, even on a crowded machine.
  const edge = {
    perTryTimeoutMs: 2_000,
    timeoutMs: 10_000,
    retries: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, retryOn: ['throttled', 'service-error', 'timeout'] },
  };
  return snapshotRuntime({
    service: 'orders',
    items: TARGETS.flatMap((t) => [
      { pk: t, sk: 'service', functionName: t === 'ok' ? ACCOUNT_FN : `shop-${t}` },
      { pk: t, sk: 'allow#orders', source: 'orders', ...edge },
    ]),
    transport,
    lines,
  });
}

interface Observed {
  readonly value?: unknown;
  readonly error?: string;
  readonly name?: string;
  readonly code?: string;
  readonly status?: number;
  readonly message?: string;
  readonly reason?: string;
  readonly isMeshError?: boolean;
  readonly outcome?: string;
  readonly attempts?: number;
}

/** What a caller can observe of one call: its result or typed error, and the attempts it took. */
async function outcome(rt: MeshRuntime, lines: string[], target: string): Promise<Observed> {
  lines.length = 0;
  const r = await rt.call(target, { order: 'o-1' }, { idempotencyKey: `k-${target}` }).then(
    (value) => ({ value }),
    (e: Error) => ({
      error: e.constructor.name,
      name: e.name,
      code: (e as MeshError).code,
      status: (e as MeshError).status,
      message: e.message,
      reason: (e as { reason?: string }).reason,
      isMeshError: e instanceof MeshError,
    }),
  );
  const access = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
  return { ...r, outcome: access[0]?.outcome, attempts: access[0]?.attempts };
}

describe('Lambda Invoke on the wire answers as the SDK path does', () => {
  let lambda: Awaited<ReturnType<typeof startLambda>>;
  const lines: string[] = [];
  let wire: MeshRuntime;
  let sdk: MeshRuntime;
  let wireTransport: LambdaInvokeTransport;
  before(async () => {
    lambda = await startLambda();
    wireTransport = new LambdaInvokeTransport({
      env: {
        AWS_ENDPOINT_URL: lambda.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
        AWS_SESSION_TOKEN: 'the-session-token',
      },
    });
    wire = runtime(wireTransport, lines);
    sdk = runtime(
      new LambdaInvokeTransport({
        client: new LambdaClient({
          endpoint: lambda.url,
          region: 'us-east-1',
          credentials: { ...CREDS, sessionToken: 'the-session-token' },
          maxAttempts: 1,
        }),
      }),
      lines,
    );
  });
  after(async () => {
    lambda.server.closeAllConnections();
    await new Promise<void>((r) => lambda.server.close(() => r()));
  });

  for (const target of TARGETS) {
    test(target, async () => {
      // Act
      lambda.seen.length = 0;
      const viaWire = await outcome(wire, lines, target);
      const wireSeen = [...lambda.seen];
      lambda.seen.length = 0;
      const viaSdk = await outcome(sdk, lines, target);
      // Assess
      assert.equal(wireTransport.path, 'wire');
      if (target === 'proxy') {
        // The SDK reports a body it cannot parse as a SyntaxError; the wire path names the status and
        // quotes the page. The same error class, status, outcome and attempts either way.
        assert.match(viaWire.message ?? '', /HTTP 502: <html><body>502 Bad Gateway/);
        assert.deepEqual({ ...viaWire, message: '' }, { ...viaSdk, message: '' });
      } else {
        assert.deepEqual(viaWire, viaSdk);
      }
      assert.ok(wireSeen.length > 0 && wireSeen.every((s) => s.signatureOk), 'every request signed as AWS checks');
      assert.ok(
        wireSeen.every((s) => s.sessionToken === 'the-session-token'),
        'the session token is signed',
      );
      assert.ok(wireSeen.every((s) => s.qualifier === 'live'));
      assert.deepEqual(
        wireSeen.map((s) => s.fn),
        lambda.seen.map((s) => s.fn),
      );
      assert.deepEqual(
        wireSeen.map((s) => JSON.parse(Buffer.from(s.clientContext ?? '', 'base64').toString()).custom.mesh.idk),
        wireSeen.map(() => `k-${target}`),
      );
    });
  }

  test('a connection refused before anything was written: the same error, retried on both paths', async () => {
    // Prepare: a port that refuses (bound, then closed)
    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const refusedWire = runtime(
      new LambdaInvokeTransport({
        env: { AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      }),
      lines,
    );
    const refusedSdk = runtime(
      new LambdaInvokeTransport({
        client: new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 }),
      }),
      lines,
    );
    // Act
    const viaWire = await outcome(refusedWire, lines, 'ok');
    const viaSdk = await outcome(refusedSdk, lines, 'ok');
    // Assess
    assert.deepEqual(viaWire, viaSdk);
    assert.equal(viaWire.attempts, 2, 'refused at connect: nothing was delivered, so the retry was made');
  });

  test('no credentials: refused before sending, with the reason and the fix, never "outcome unknown"', async () => {
    const rt = runtime(
      new LambdaInvokeTransport({ env: { AWS_ENDPOINT_URL: lambda.url, AWS_REGION: 'us-east-1' } }),
      lines,
    );
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    lambda.seen.length = 0;
    try {
      const r = await outcome(rt, lines, 'ok');
      assert.equal(r.error, 'MeshRemoteError', JSON.stringify(r));
      assert.match(r.message ?? '', /no AWS credentials in the environment \(AWS_ACCESS_KEY_ID/);
      assert.equal(lambda.seen.length, 0, 'nothing was sent');
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});
