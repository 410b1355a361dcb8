/**
 * What a Lambda operation handler gets and returns. Handlers are pure functions of
 * (context, request) -> response, so each concern (invoke, aliases, versions, functions) is a small file.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { EndpointInvoker, EndpointRegistry } from './backend';
import { AwsError, invalidParameter } from './errors';
import { type FunctionRef, functionArn, parseFunctionName } from './function-name';

export interface LambdaContext {
  readonly registry: EndpointRegistry;
  readonly invoker: EndpointInvoker;
  readonly region: string;
  readonly accountId: string;
  /** Reports a failure nobody is waiting for (async invokes). */
  readonly onBackgroundError: (message: string) => void;
  /** True once the endpoint is closing: background work stops. */
  readonly isClosed: () => boolean;
  /** A new, empty directory for code uploaded over the wire (UpdateFunctionCode's ZipFile). */
  readonly newCodeDir: () => string;
  /** How Event invokes are retried and where their failures go. @default 2 retries, 1 s then 2 s, no destination */
  readonly asyncInvokes?: AsyncInvokeHooks;
}

/** A function's asynchronous invocation settings (AWS::Lambda::EventInvokeConfig). */
export interface AsyncInvokeSettings {
  /** 0 to 2. @default 2 */
  readonly maximumRetryAttempts?: number;
  /** 60 to 21,600: how long the event may wait in the queue, on Lambda's clock. @default 21600 (6 hours) */
  readonly maximumEventAgeInSeconds?: number;
  /** Where the record of an event that failed every attempt goes (an SQS queue or a function ARN). */
  readonly onFailure?: string;
  /** Where the record of an event that succeeded goes. */
  readonly onSuccess?: string;
  /** When the settings were last written over the wire, ms since the epoch (LastModified). */
  readonly lastModified?: number;
}

/** A message attribute of a dead-lettered event (String or Number, as SQS types them). */
export interface DeadLetterAttribute {
  readonly DataType: 'String' | 'Number';
  readonly StringValue: string;
}

export interface AsyncInvokeHooks {
  settings(functionName: string, qualifier: string | undefined): AsyncInvokeSettings | undefined;
  put(functionName: string, qualifier: string | undefined, settings: AsyncInvokeSettings): void;
  delete(functionName: string, qualifier: string | undefined): void;
  /** Every qualifier of `functionName` that has settings (`$LATEST` as undefined). */
  list(functionName: string): { qualifier: string | undefined; settings: AsyncInvokeSettings }[];
  /** A duration of Lambda's event queue (a retry's wait, an event's maximum age) on the local clock, ms. */
  localMs(lambdaMs: number): number;
  /** Hands an invocation record to a destination; rejects when it cannot. */
  deliver(destinationArn: string, record: object): Promise<void>;
  /** Sends a discarded event, as it was sent, to a function's dead-letter queue; rejects when it cannot. */
  deadLetter(
    targetArn: string,
    payload: string,
    attributes: Readonly<Record<string, DeadLetterAttribute>>,
  ): Promise<void>;
}

export interface LambdaRequest {
  readonly operation: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly requestId: string;
}

export interface LambdaResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** JSON value (serialised by the server) or raw bytes (Invoke). */
  readonly json?: unknown;
  readonly raw?: Buffer;
}

export type LambdaHandler = (ctx: LambdaContext, req: LambdaRequest) => Promise<LambdaResponse> | LambdaResponse;

/** The JSON body of a restJson request; empty body = {}. Not JSON = 400 like AWS. */
export function jsonBody(req: LambdaRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const v = JSON.parse(req.body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError(
    'SerializationException',
    400,
    `Could not parse the request body of ${req.operation} as a JSON object.`,
  );
}

/**
 * The function a request names: the FunctionName path parameter with the Qualifier query parameter
 * (when the operation takes one), checked for this operation and region (function-name.ts).
 */
export function functionRef(ctx: LambdaContext, req: LambdaRequest, withQualifier = false): FunctionRef {
  const qualifier = withQualifier ? (req.query.get('Qualifier') ?? undefined) : undefined;
  return parseFunctionName(req.params.FunctionName, qualifier, req.operation, ctx);
}

/** `Function not found: <arn>` (404), AWS's wording. */
export function functionNotFound(ctx: LambdaContext, name: string, qualifier?: string): AwsError {
  return new AwsError(
    'ResourceNotFoundException',
    404,
    `Function not found: ${functionArn(ctx.region, ctx.accountId, name, qualifier)}`,
  );
}

/** Optional string field of a JSON body, type-checked. */
export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`${key} must be a string, got ${jsonType(v)}`);
  return v;
}

/**
 * A JSON value's type, or a scalar itself, for an error message: an array or object is never written
 * out, since one nested a hundred thousand deep overflows the stack of JSON.stringify.
 */
export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  return v !== null && typeof v === 'object' ? 'an object' : JSON.stringify(v);
}

/**
 * MaxItems as a number within 1 to `maxItems`, else the ValidationException Lambda answers (the wording
 * of AWS's range validation, one bound named).
 */
function pageSize(text: string, maxItems: number): number {
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1 && n <= maxItems) return n;
  const bound = n > maxItems ? `less than or equal to ${maxItems}` : 'greater than or equal to 1';
  throw new AwsError(
    'ValidationException',
    400,
    `1 validation error detected: Value '${text}' at 'maxItems' failed to satisfy constraint: Member must have value ${bound}`,
  );
}

/**
 * Marker/MaxItems pagination as Lambda does it: the marker is opaque (here: base64 of the next index);
 * MaxItems within the operation's range (1 to `maxItems`: 10,000 for most lists, 50 for
 * ListFunctionEventInvokeConfigs, AWS Lambda API Reference), a page at most `cap` items (ListFunctions
 * caps pages at 50).
 */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
  cap: number,
  maxItems = 10_000,
): { page: T[]; nextMarker?: string } {
  const maxText = query.get('MaxItems');
  const max = maxText === null ? cap : Math.min(pageSize(maxText, maxItems), cap);
  const marker = query.get('Marker');
  let start = 0;
  if (marker) {
    start = Number(Buffer.from(marker, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > items.length)
      throw invalidParameter(`Invalid Marker ${JSON.stringify(marker)}: pass the NextMarker of the previous page.`);
  }
  const page = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
  return next === undefined ? { page } : { page, nextMarker: next };
}
