/**
 * A loopback server speaking the Lambda Invoke REST API (AWS Lambda API Reference, "Invoke"), running handlers
 * in-process: for wire tests and benches of the runtime with the real @aws-sdk/client-lambda.
 * - `POST /2015-03-31/functions/{fn}/invocations[?Qualifier=]`, fn as name, `name:qualifier` or ARN
 * - ClientContext: base64 decoded and handed to the handler as `context.clientContext` (parsed JSON)
 * - function errors: 200 + `X-Amz-Function-Error: Unhandled` + `{errorType, errorMessage, trace}`
 * - `X-Amz-Executed-Version`; alias routing by weights (random or a given picker)
 * - throttling: 429 `x-amzn-ErrorType: TooManyRequestsException` with Lambda's body shape
 * - timeouts: `Sandbox.Timedout` after the function's timeout
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { MeshMetadata } from '../../shared/names';

/** The ClientContext a caller sent, decoded (the mesh's metadata sits under `custom.mesh`). */
export interface ClientContextDoc {
  readonly custom?: { readonly mesh?: MeshMetadata } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** What a handler receives as its context (the fields of Lambda's context the runtime reads). */
export type TestContext = {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly clientContext: ClientContextDoc | undefined;
  getRemainingTimeInMillis(): number;
};

/** A handler; `never` lets each test type the event its handler expects. */
export type TestHandler = (event: never, context: TestContext) => unknown;

export interface TestFunction {
  /** Handlers by version ("1", "2", "$LATEST"). */
  readonly versions: Record<string, TestHandler>;
  /** Aliases: the version and optional extra version weights (as an alias's RoutingConfig). */
  readonly aliases?: Record<string, { version: string; weights?: Record<string, number> }>;
  /** Function timeout, ms. @default 3000 */
  readonly timeoutMs?: number;
}

export interface InvokeRecord {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly executedVersion: string | undefined;
  readonly clientContext: ClientContextDoc | undefined;
  readonly traceHeader: string | undefined;
  readonly status: number;
  readonly functionError?: string;
}

export interface LambdaInvokeServer {
  readonly url: string;
  readonly invocations: InvokeRecord[];
  /** The next `n` invokes of `functionName` answer 429. */
  throttleNext(functionName: string, n: number, reason?: string): void;
  close(): Promise<void>;
}

export async function startLambdaInvokeServer(
  functions: Record<string, TestFunction>,
  options: { random?: () => number } = {},
): Promise<LambdaInvokeServer> {
  const invocations: InvokeRecord[] = [];
  const throttles = new Map<string, { n: number; reason: string }>();
  const random = options.random ?? Math.random;

  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  };
  const awsError = (
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    extra: Record<string, unknown> = {},
  ) =>
    send(
      res,
      status,
      { 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID() },
      JSON.stringify({ Type: 'User', message, Message: message, ...extra }),
    );

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(url.pathname);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || !m)
      return awsError(res, 404, 'UnknownOperationException', `no route ${req.method} ${url.pathname}`);
    let name = decodeURIComponent(m[1]!);
    let qualifier = url.searchParams.get('Qualifier') ?? undefined;
    if (name.startsWith('arn:')) name = name.split(':').slice(6).join(':');
    if (name.includes(':')) [name, qualifier] = name.split(':') as [string, string];
    const fn = functions[name];
    if (!fn)
      return awsError(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}${qualifier ? `:${qualifier}` : ''}`,
      );
    const ccHeader = req.headers['x-amz-client-context'];
    let clientContext: ClientContextDoc | undefined;
    if (typeof ccHeader === 'string') {
      try {
        clientContext = JSON.parse(Buffer.from(ccHeader, 'base64').toString('utf8'));
      } catch {
        return awsError(
          res,
          400,
          'InvalidRequestContentException',
          'Client context must be a valid Base64-encoded JSON object.',
        );
      }
    }
    const traceHeader = req.headers['x-amzn-trace-id'] as string | undefined;
    const record = (status: number, executedVersion: string | undefined, functionError?: string) =>
      invocations.push({
        functionName: name,
        qualifier,
        executedVersion,
        clientContext,
        traceHeader,
        status,
        functionError,
      });

    const t = throttles.get(name);
    if (t && t.n > 0) {
      t.n--;
      record(429, undefined);
      return send(
        res,
        429,
        { 'x-amzn-ErrorType': 'TooManyRequestsException', 'Retry-After': '1' },
        JSON.stringify({ Type: 'User', message: 'Rate Exceeded.', Reason: t.reason }),
      );
    }
    let version = qualifier ?? '$LATEST';
    const alias = fn.aliases?.[version];
    if (alias) {
      version = alias.version;
      let r = random();
      for (const [v, w] of Object.entries(alias.weights ?? {})) {
        if (r < w) {
          version = v;
          break;
        }
        r -= w;
      }
    }
    const handler = fn.versions[version];
    if (!handler)
      return awsError(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}:${qualifier}`,
      );
    let event: unknown;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      event = text === '' ? {} : JSON.parse(text);
    } catch {
      return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const timeoutMs = fn.timeoutMs ?? 3000;
    const deadline = Date.now() + timeoutMs;
    const requestId = randomUUID();
    const context: TestContext = {
      functionName: name,
      functionVersion: version,
      awsRequestId: requestId,
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}${qualifier ? `:${qualifier}` : ''}`,
      clientContext,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    const headers = { 'x-amz-executed-version': version, 'x-amzn-RequestId': requestId };
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => handler(event as never, context)),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                Object.assign(
                  new Error(
                    `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
                  ),
                  { name: 'Sandbox.Timedout' },
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
      record(200, version);
      send(res, 200, headers, result === undefined ? 'null' : JSON.stringify(result));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const errorType = e.name && e.name !== 'Error' ? e.name : 'Error';
      record(200, version, 'Unhandled');
      send(
        res,
        200,
        { ...headers, 'x-amz-function-error': 'Unhandled' },
        JSON.stringify({ errorType, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((err) => awsError(res, 500, 'ServiceException', String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    invocations,
    throttleNext(functionName, n, reason = 'ReservedFunctionConcurrentInvocationLimitExceeded') {
      throttles.set(functionName, { n, reason });
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** SDK client settings for the server: its endpoint, dummy credentials, no SDK retries. */
export function lambdaClientConfig(url: string) {
  return {
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}
