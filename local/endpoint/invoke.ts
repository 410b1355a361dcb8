/**
 * Lambda Invoke on the wire (AWS Lambda API Reference, "Invoke"): RequestResponse -> 200 + payload, Event -> 202 and
 * runs in the background, DryRun -> 204. Limits Lambda enforces are enforced here with its errors: 6 MB sync / 1 MB
 * async payloads, 3,583-byte client context (sync only), JSON payloads.
 */

import type { InvokeRequest, InvokeResult } from './backend';
import { AwsError } from './errors';
import { functionArn } from './function-name';
import { functionNotFound, functionRef, type LambdaContext, type LambdaHandler } from './lambda-context';

export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/**
 * A synchronous response may be 100 bytes longer than a request: AWS's answer to a 7 MB response names
 * 6291556 bytes as the maximum (recorded).
 */
export const SYNC_RESPONSE_LIMIT = SYNC_PAYLOAD_LIMIT + 100;
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;
export const CLIENT_CONTEXT_LIMIT = 3583;
const LOG_TAIL_BYTES = 4096;
/**
 * Base64 as Lambda decodes a ClientContext: its alphabet, padding only at the end. Node's decoder
 * skips any other character, so text around valid base64 would pass for it.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** The header's values, in the order AWS's validation message lists them. */
const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'] as const;
type InvocationTypeHeader = (typeof INVOCATION_TYPES)[number];
const LOG_TYPES = ['Tail', 'None'] as const;

export const invoke: LambdaHandler = async (ctx, req) => {
  const invocationType = oneOf(
    req.headers['x-amz-invocation-type'],
    'invocationType',
    INVOCATION_TYPES,
    'RequestResponse',
  );
  const logType = oneOf(req.headers['x-amz-log-type'], 'logType', LOG_TYPES, 'None');
  const ref = functionRef(ctx, req, true);
  const payload = payloadOf(invocationType, req.body);
  // Client context reaches the function on synchronous invokes only, as on Lambda.
  const clientContext =
    invocationType === 'RequestResponse' ? decodeClientContext(header(req.headers['x-amz-client-context'])) : undefined;

  const version = ctx.registry.resolveVersion(ref.name, ref.qualifier);
  // An unqualified Invoke names $LATEST, and AWS's 404 says so.
  if (version === undefined) throw functionNotFound(ctx, ref.name, ref.qualifier ?? '$LATEST');
  if (invocationType === 'DryRun') return { status: 204 };

  const request = {
    functionName: ref.name,
    region: ctx.region,
    version,
    invokedFunctionArn: functionArn(ctx.region, ctx.accountId, ref.name, ref.qualifier),
    payload,
    clientContext,
    logTail: invocationType === 'RequestResponse' && logType === 'Tail',
    traceHeader: header(req.headers['x-amzn-trace-id']),
    requestId: req.requestId,
  };

  if (invocationType === 'Event') {
    // Lambda queues the event and answers at once; retries and destinations happen in the background.
    void runQueued(ctx, { ...request, invocationType: 'Event' }, ref.qualifier);
    return { status: 202, headers: { 'x-amzn-requestid': req.requestId } };
  }

  let result: InvokeResult;
  try {
    result = await ctx.invoker.invoke({ ...request, invocationType: 'RequestResponse' });
  } catch (err) {
    throw throttleOrRethrow(err);
  }
  return syncResponse(result, version, request.logTail);
};

/** A header that takes one of a few values (absent = `fallback`), refused in AWS's words otherwise. */
function oneOf<T extends string>(
  value: string | string[] | undefined,
  field: string,
  values: readonly T[],
  fallback: T,
): T {
  const v = header(value) ?? fallback;
  if ((values as readonly string[]).includes(v)) return v as T;
  throw new AwsError(
    'ValidationException',
    400,
    `1 validation error detected: Value '${v}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
  );
}

/** The payload the function gets (`{}` for an empty body): within Lambda's limit for the type, and JSON. */
function payloadOf(invocationType: InvocationTypeHeader, body: Buffer): Buffer {
  const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
  if (body.length > limit) {
    // Lambda's code and wording for an oversized request (recorded AWS responses: 413
    // RequestEntityTooLargeException, "Request must be smaller than N bytes for the <Op> operation").
    throw new AwsError(
      'RequestEntityTooLargeException',
      413,
      invocationType === 'Event'
        ? `${body.length} byte payload is too large for the Event invocation type (limit ${limit} bytes)`
        : `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
    );
  }
  const payload = body.length === 0 ? Buffer.from('{}') : body;
  checkJson(payload);
  return payload;
}

/** Lambda's default for asynchronous invocation: two retries (AWS::Lambda::EventInvokeConfig MaximumRetryAttempts). */
export const ASYNC_DEFAULT_RETRIES = 2;
/** Lambda's default maximum event age: 6 hours (AWS::Lambda::EventInvokeConfig MaximumEventAgeInSeconds). */
export const ASYNC_DEFAULT_MAX_EVENT_AGE_S = 21_600;
/** Lambda waits 1 minute before the first retry of a function error, 2 before the second. */
const ERROR_RETRY_BASE_MS = 60_000;
/** A throttled event waits 1 s, then exponentially longer, at most 5 minutes. */
const THROTTLE_FIRST_WAIT_MS = 1000;
const THROTTLE_MAX_WAIT_MS = 300_000;

/** Why the event queue gave up on an event: the `condition` of its invocation record. */
export type GiveUp = 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency';

/** Where an event stands after a failed attempt. Durations are on the local clock (`toLocal` of Lambda's). */
export interface QueuedFailure {
  /** `zero-concurrency`: throttled because the function's reserved concurrency is zero. */
  readonly kind: 'function-error' | 'throttle' | 'zero-concurrency';
  /** Attempts that ran and failed with a function error. */
  readonly functionErrors: number;
  /** Attempts refused as throttled (this one included, when it was). */
  readonly throttles: number;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeMs: number;
  /** Time since the event was queued (the 202). */
  readonly ageMs: number;
  readonly toLocal: (lambdaMs: number) => number;
}

/**
 * The event queue's decision after a failed attempt (AWS Lambda Developer Guide, "Asynchronous
 * invocation"): a function error is retried MaximumRetryAttempts times, 1 then 2 minutes apart; a
 * throttled event waits without using a retry, 1 s and then exponentially longer up to 5 minutes. No
 * retry is scheduled past the event's maximum age: the event is given up as EventAgeExceeded instead. A
 * function whose reserved concurrency is zero gets no retries: its events go to the on-failure
 * destination at once ("Capturing records of Lambda asynchronous invocations").
 */
export function nextAttempt(f: QueuedFailure): { waitMs: number } | { giveUp: GiveUp } {
  if (f.kind === 'zero-concurrency') return { giveUp: 'ZeroReservedConcurrency' };
  if (f.kind === 'function-error' && f.functionErrors > f.maximumRetryAttempts) return { giveUp: 'RetriesExhausted' };
  const lambdaWaitMs =
    f.kind === 'function-error'
      ? ERROR_RETRY_BASE_MS * 2 ** (f.functionErrors - 1)
      : Math.min(THROTTLE_FIRST_WAIT_MS * 2 ** (f.throttles - 1), THROTTLE_MAX_WAIT_MS);
  const waitMs = f.toLocal(lambdaWaitMs);
  return f.ageMs + waitMs > f.maximumEventAgeMs ? { giveUp: 'EventAgeExceeded' } : { waitMs };
}

/** One attempt of a queued event: its result, `throttled`, or undefined when it cannot run at all (reported). */
async function attemptQueued(
  ctx: LambdaContext,
  request: InvokeRequest,
  label: string,
): Promise<InvokeResult | 'throttled' | undefined> {
  try {
    return await ctx.invoker.invoke(request);
  } catch (err) {
    const throttle = throttleOrRethrow(err);
    if (throttle instanceof AwsError && throttle.code === 'TooManyRequestsException') return 'throttled';
    ctx.onBackgroundError(`async invoke of ${label} failed: ${(err as Error)?.message ?? err}`);
    return undefined;
  }
}

/**
 * Runs a queued (Event) invocation as Lambda's event queue does (AWS Lambda Developer Guide,
 * "Asynchronous invocation", "Capturing records of Lambda asynchronous invocations"): attempts until one
 * succeeds or `nextAttempt` gives up, then the invocation record goes to the on-success or on-failure
 * destination, and a discarded event to the function's dead-letter queue (or the failure is reported).
 */
async function runQueued(ctx: LambdaContext, request: InvokeRequest, qualifier: string | undefined): Promise<void> {
  const label = `${request.functionName}:${request.version}`;
  const hooks = ctx.asyncInvokes;
  const settings = hooks?.settings(request.functionName, qualifier) ?? {};
  // Without hooks, a minute of Lambda's is a second here (as AsyncDestinations' default).
  const toLocal = (ms: number) => hooks?.localMs(ms) ?? ms / 60;
  const queuedAt = Date.now();
  const tally = { functionErrors: 0, throttles: 0 };
  let last: InvokeResult | undefined;
  while (!ctx.isClosed()) {
    const r = await attemptQueued(ctx, request, label);
    if (r === undefined) return;
    if (r !== 'throttled' && !r.functionError) {
      const count = tally.functionErrors + 1;
      if (settings.onSuccess) await toDestination(ctx, settings.onSuccess, record(ctx, request, r, count, 'Success'));
      return;
    }
    if (r === 'throttled') tally.throttles++;
    else {
      tally.functionErrors++;
      last = r;
    }
    const next = nextAttempt({
      kind: r !== 'throttled' ? 'function-error' : zeroConcurrency(ctx, request) ? 'zero-concurrency' : 'throttle',
      ...tally,
      maximumRetryAttempts: settings.maximumRetryAttempts ?? ASYNC_DEFAULT_RETRIES,
      maximumEventAgeMs: toLocal(1000 * (settings.maximumEventAgeInSeconds ?? ASYNC_DEFAULT_MAX_EVENT_AGE_S)),
      ageMs: Date.now() - queuedAt,
      toLocal,
    });
    if ('giveUp' in next) return giveUp(ctx, request, settings.onFailure, last, tally.functionErrors, next.giveUp);
    await new Promise((res) => setTimeout(res, next.waitMs).unref());
  }
}

function zeroConcurrency(ctx: LambdaContext, request: InvokeRequest): boolean {
  return ctx.registry.reservedConcurrency(request.functionName) === 0;
}

/** The end of an event that failed: to the dead-letter queue and the on-failure destination, or a report. */
async function giveUp(
  ctx: LambdaContext,
  request: InvokeRequest,
  onFailure: string | undefined,
  last: InvokeResult | undefined,
  attempts: number,
  condition: GiveUp,
): Promise<void> {
  if (ctx.isClosed()) return;
  const deadLetterArn = ctx.registry.getFunction(request.functionName, request.version)?.DeadLetterConfig?.TargetArn;
  if (deadLetterArn) await toDeadLetterQueue(ctx, deadLetterArn, request, last);
  if (onFailure) return toDestination(ctx, onFailure, record(ctx, request, last, attempts, condition));
  if (deadLetterArn) return;
  ctx.onBackgroundError(
    `async invoke of ${request.functionName}:${request.version} given up (${condition}) after ${attempts} attempts` +
      `${last?.functionError ? ` (${last.functionError})` : ''}; no on-failure destination`,
  );
}

/**
 * The invocation record Lambda sends to a destination. An event that never ran (throttled until it aged
 * out) has no response to record: no responseContext, no responsePayload.
 */
function record(
  ctx: LambdaContext,
  request: InvokeRequest,
  r: InvokeResult | undefined,
  attempts: number,
  condition: string,
) {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: request.requestId,
      functionArn: functionArn(ctx.region, ctx.accountId, request.functionName, request.version),
      condition,
      approximateInvokeCount: attempts,
    },
    requestPayload: JSON.parse(request.payload.toString('utf8')),
    ...(r ? responseOf(r, request.version) : {}),
  };
}

function responseOf(r: InvokeResult, version: string) {
  return {
    responseContext: {
      statusCode: 200,
      executedVersion: r.executedVersion ?? version,
      ...(r.functionError ? { functionError: r.functionError } : {}),
    },
    responsePayload: parseOr(toBuffer(r.payload).toString('utf8')),
  };
}

/** Lambda truncates a dead-lettered event's ErrorMessage to 1 KB. */
const DEAD_LETTER_MESSAGE_BYTES = 1024;

/**
 * A discarded event to the function's dead-letter queue (AWS Lambda Developer Guide, "Asynchronous
 * invocation", dead-letter queues): the payload as it was sent, with the request id, the HTTP status of
 * the last attempt (200 for a function error, 429 for an event that was only ever throttled) and the
 * first kilobyte of the error message as attributes.
 */
async function toDeadLetterQueue(
  ctx: LambdaContext,
  arn: string,
  request: InvokeRequest,
  last: InvokeResult | undefined,
): Promise<void> {
  const error = last ? parseOr(toBuffer(last.payload).toString('utf8')) : undefined;
  const message = (error as { errorMessage?: unknown } | undefined)?.errorMessage;
  const text = typeof message === 'string' ? message : last ? (last.functionError ?? '') : 'Rate Exceeded.';
  try {
    await ctx.asyncInvokes?.deadLetter(arn, request.payload.toString('utf8'), {
      RequestID: { DataType: 'String', StringValue: request.requestId },
      ErrorCode: { DataType: 'Number', StringValue: last ? '200' : '429' },
      ErrorMessage: { DataType: 'String', StringValue: firstBytes(text, DEAD_LETTER_MESSAGE_BYTES) },
    });
  } catch (err) {
    ctx.onBackgroundError(`async invoke event for dead-letter queue ${arn} lost: ${(err as Error).message}`);
  }
}

/** The longest prefix of `text` within `max` UTF-8 bytes, never splitting a character. */
function firstBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  return new TextDecoder().decode(bytes.subarray(0, max)).replace(/\uFFFD$/, '');
}

async function toDestination(ctx: LambdaContext, arn: string, rec: object): Promise<void> {
  try {
    if (!ctx.asyncInvokes) throw new Error('no destinations on this endpoint');
    await ctx.asyncInvokes.deliver(arn, rec);
  } catch (err) {
    ctx.onBackgroundError(`async invoke record for ${arn} lost: ${(err as Error).message}`);
  }
}

function parseOr(text: string): unknown {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

/** A synchronous response over Lambda's limit becomes this function error, in AWS's words. */
export function responseTooLarge(): string {
  return JSON.stringify({
    errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_RESPONSE_LIMIT} bytes).`,
    errorType: 'Function.ResponseSizeTooLarge',
  });
}

function syncResponse(result: InvokeResult, version: string, wantTail: boolean) {
  let body = toBuffer(result.payload);
  let functionError = result.functionError;
  if (body.length > SYNC_RESPONSE_LIMIT) {
    body = Buffer.from(responseTooLarge());
    functionError = 'Unhandled';
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amz-executed-version': result.executedVersion ?? version,
  };
  if (functionError) headers['x-amz-function-error'] = functionError;
  if (wantTail) headers['x-amz-log-result'] = tail(result.logTail ?? '');
  return { status: 200, headers, raw: body };
}

/** Base64 of the last 4 KB of the log, as `X-Amz-Log-Result`. */
function tail(log: string): string {
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

function checkJson(payload: Buffer): void {
  const fault = utf8Fault(payload);
  try {
    if (fault) throw new Error(fault);
    JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new AwsError(
      'InvalidRequestContentException',
      400,
      `Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`,
    );
  }
}

/**
 * The first byte that breaks UTF-8, in the words of Lambda's JSON parser (Jackson: "Invalid UTF-8 start
 * byte 0x87" is recorded from AWS; a lead byte followed by a byte that does not continue it is its
 * "middle byte"). Node would decode either as U+FFFD and hand the function a payload Lambda refuses.
 */
function utf8Fault(bytes: Buffer): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const lead = bytes[i];
    if (lead < 0x80) continue;
    const follow =
      lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (follow === 0) return `Invalid UTF-8 start byte 0x${lead.toString(16)}`;
    for (let k = 1; k <= follow; k++) {
      const next = bytes[i + k];
      if (next === undefined) return 'Unexpected end-of-input in UTF-8 character';
      if ((next & 0xc0) !== 0x80) return `Invalid UTF-8 middle byte 0x${next.toString(16)}`;
    }
    i += follow;
  }
  return undefined;
}

function decodeClientContext(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > CLIENT_CONTEXT_LIMIT) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      `Client context must be at most ${CLIENT_CONTEXT_LIMIT} bytes (base64), got ${value.length}: send less mesh metadata.`,
    );
  }
  const text = BASE64.test(value) ? Buffer.from(value, 'base64').toString('utf8') : '';
  try {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
  } catch {
    throw new AwsError(
      'InvalidRequestContentException',
      400,
      'Client context must be a valid Base64-encoded JSON object.',
    );
  }
  return text;
}

/** The invoker signals throttling with a TooManyRequestsException-named error carrying reason/retryAfterSeconds. */
function throttleOrRethrow(err: unknown): unknown {
  const e = err as {
    name?: string;
    code?: string;
    reason?: string;
    Reason?: string;
    retryAfterSeconds?: number | string;
    message?: string;
  };
  if (e?.name !== 'TooManyRequestsException' && e?.code !== 'TooManyRequestsException') return err;
  const reason = e.reason ?? e.Reason ?? 'ReservedFunctionConcurrentInvocationLimitExceeded';
  const retryAfter = e.retryAfterSeconds !== undefined ? String(e.retryAfterSeconds) : '1';
  return new AwsError(
    'TooManyRequestsException',
    429,
    e.message || 'Rate Exceeded.',
    { Reason: reason },
    { 'retry-after': retryAfter },
  );
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function toBuffer(p: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(p)) return p;
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}
