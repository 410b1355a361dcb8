/**
 * A loopback server speaking the Lambda Invoke REST API (AWS Lambda API Reference, "Invoke";
 * local/endpoint/invoke.ts holds the wire facts), running handlers in-process: for wire tests and
 * benches of the runtime with the real @aws-sdk/client-lambda. It enforces what Lambda enforces, with Lambda's errors, so a runtime that
 * oversteps a limit fails here as it would in AWS:
 * - `POST /2015-03-31/functions/{fn}/invocations[?Qualifier=]`, fn as name, `name:qualifier` or ARN
 * - `X-Amz-Invocation-Type`: RequestResponse (200 + result), Event (202, runs in the background, no
 *   ClientContext), DryRun (204, runs nothing); anything else 400 ValidationException
 * - `X-Amz-Log-Type`: None or Tail (sync: `X-Amz-Log-Result`, base64 of the START/END/REPORT lines)
 * - limits: request payload 6 MB sync / 1 MB async, response 6 MB, ClientContext 3,583 bytes of base64
 * - ClientContext: base64 JSON, decoded and handed to the handler as `context.clientContext`
 * - function errors: 200 + `X-Amz-Function-Error: Unhandled` + `{errorType, errorMessage, trace}`
 * - `X-Amz-Executed-Version`; alias routing by weights (random or a given picker)
 * - concurrency: a function with `reservedConcurrency` runs at most that many invocations at once;
 *   one more answers 429 TooManyRequestsException (Reason ReservedFunctionConcurrentInvocationLimitExceeded)
 * - `throttleNext` makes the next calls answer 429 whatever the load
 * - timeouts: `Sandbox.Timedout` after the function's timeout
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  ASYNC_PAYLOAD_LIMIT,
  CLIENT_CONTEXT_LIMIT,
  responseTooLarge,
  SYNC_PAYLOAD_LIMIT,
  SYNC_RESPONSE_LIMIT,
} from '../../local/endpoint/invoke';
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
  /** Invocations that may run at once (reserved concurrency); more are throttled. @default unlimited */
  readonly reservedConcurrency?: number;
}

export interface InvokeRecord {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly executedVersion: string | undefined;
  readonly clientContext: ClientContextDoc | undefined;
  readonly traceHeader: string | undefined;
  readonly status: number;
  readonly functionError?: string;
  readonly invocationType: string;
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
  /** Invocations running now, per function (for reservedConcurrency). */
  const running = new Map<string, number>();
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
    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType))
      return awsError(
        res,
        400,
        'ValidationException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    if (logType !== 'None' && logType !== 'Tail')
      return awsError(
        res,
        400,
        'ValidationException',
        `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]`,
      );
    const body = Buffer.concat(chunks);
    const payloadLimit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
    if (body.length > payloadLimit)
      return awsError(
        res,
        413,
        'RequestTooLargeException',
        invocationType === 'Event'
          ? `${body.length} byte payload is too large for the Event invocation type (limit ${payloadLimit} bytes)`
          : `Request must be smaller than ${payloadLimit} bytes for the InvokeFunction operation`,
      );
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
    const ccHeader = header(req, 'x-amz-client-context');
    let clientContext: ClientContextDoc | undefined;
    if (ccHeader !== undefined && ccHeader.length > CLIENT_CONTEXT_LIMIT)
      return awsError(
        res,
        400,
        'InvalidParameterValueException',
        `Client context must be at most ${CLIENT_CONTEXT_LIMIT} bytes (base64), got ${ccHeader.length}`,
      );
    // Lambda hands the client context to the function on synchronous invokes only.
    if (ccHeader && invocationType === 'RequestResponse') {
      try {
        clientContext = JSON.parse(Buffer.from(ccHeader, 'base64').toString('utf8'));
        if (clientContext === null || typeof clientContext !== 'object') throw new Error('not an object');
      } catch {
        return awsError(
          res,
          400,
          'InvalidRequestContentException',
          'Client context must be a valid Base64-encoded JSON object.',
        );
      }
    }
    let event: unknown;
    try {
      const text = body.toString('utf8');
      event = text === '' ? {} : JSON.parse(text);
    } catch {
      return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const traceHeader = header(req, 'x-amzn-trace-id');
    const record = (status: number, executedVersion: string | undefined, functionError?: string) =>
      invocations.push({
        functionName: name,
        qualifier,
        executedVersion,
        clientContext,
        traceHeader,
        status,
        functionError,
        invocationType,
      });

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
    if (invocationType === 'DryRun') return send(res, 204, {}, '');

    const t = throttles.get(name);
    const busy = running.get(name) ?? 0;
    if ((t && t.n > 0) || busy >= (fn.reservedConcurrency ?? Number.POSITIVE_INFINITY)) {
      if (t && t.n > 0) t.n--;
      record(429, undefined);
      return send(
        res,
        429,
        { 'x-amzn-ErrorType': 'TooManyRequestsException', 'Retry-After': '1' },
        JSON.stringify({
          Type: 'User',
          message: 'Rate Exceeded.',
          Reason: t?.reason ?? 'ReservedFunctionConcurrentInvocationLimitExceeded',
        }),
      );
    }
    running.set(name, busy + 1);
    const requestId = randomUUID();
    const run = execute(fn, handler, event, {
      functionName: name,
      functionVersion: version,
      awsRequestId: requestId,
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}${qualifier ? `:${qualifier}` : ''}`,
      clientContext,
    }).finally(() => running.set(name, (running.get(name) ?? 1) - 1));
    if (invocationType === 'Event') {
      // Lambda queues the event and answers at once; its outcome shows only in the records.
      void run.then((r) => record(200, version, r.functionError));
      return send(res, 202, { 'x-amzn-RequestId': requestId }, '');
    }
    const result = await run;
    let out = result.body;
    let functionError = result.functionError;
    if (Buffer.byteLength(out) > SYNC_RESPONSE_LIMIT) {
      out = responseTooLarge();
      functionError = 'Unhandled';
    }
    record(200, version, functionError);
    const headers: Record<string, string> = { 'x-amz-executed-version': version, 'x-amzn-RequestId': requestId };
    if (functionError) headers['x-amz-function-error'] = functionError;
    // Lambda returns the last 4 KB of the log.
    if (logType === 'Tail') headers['x-amz-log-result'] = Buffer.from(result.log).subarray(-4096).toString('base64');
    send(res, 200, headers, out);
  }

  /** Runs one invocation to its end: the result or error as Lambda answers it, and its log lines. */
  async function execute(
    fn: TestFunction,
    handler: TestHandler,
    event: unknown,
    ids: Omit<TestContext, 'getRemainingTimeInMillis'>,
  ): Promise<{ body: string; functionError?: string; log: string }> {
    const timeoutMs = fn.timeoutMs ?? 3000;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const context: TestContext = { ...ids, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
    const requestId = ids.awsRequestId;
    const log = (extra: string) =>
      `START RequestId: ${requestId} Version: ${ids.functionVersion}\n${extra}END RequestId: ${requestId}\n` +
      `REPORT RequestId: ${requestId}\tDuration: ${Date.now() - started} ms\n`;
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
      return { body: result === undefined ? 'null' : JSON.stringify(result), log: log('') };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const errorType = e.name && e.name !== 'Error' ? e.name : 'Error';
      return {
        body: JSON.stringify({ errorType, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }),
        functionError: 'Unhandled',
        log: log(`${new Date().toISOString()}\t${requestId}\tERROR\t${errorType}: ${e.message}\n`),
      };
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

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** SDK client settings for the server: those of any loopback server. */
export { loopbackClientConfig as lambdaClientConfig } from './loopback-client';
