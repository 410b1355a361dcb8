/**
 * AWS error shapes on the wire, as the AWS SDKs and the AWS CLI parse them. One error class for every service the
 * endpoint speaks; the protocol decides how it is written:
 * - restJson1 (Lambda): status, header `x-amzn-ErrorType`, body `{Type, Message | message, ...extra}`.
 * - awsJson (DynamoDB, Secrets Manager): status 400/500, body `{__type, Message | message, ...extra}`.
 * - awsQuery (SNS): the error's own status, body `<ErrorResponse><Error><Type/><Code/><Message/>`.
 * The message goes under the one member the service's model names for that error (error-message-member.ts).
 */
import type { ServerResponse } from 'node:http';
import { messageMember } from './error-message-member';
import { escapeXml, xmlText } from './query-protocol';

export type WireProtocol = 'restJson1' | 'awsJson1_0' | 'awsJson1_1' | 'awsQuery';

export class AwsError extends Error {
  constructor(
    /** AWS error code, e.g. `ResourceNotFoundException`. */
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra body fields (e.g. Lambda's `Reason`). */
    readonly fields: Record<string, unknown> = {},
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }

  /** `Type` in restJson bodies: who is at fault. */
  get faultType(): 'User' | 'Service' {
    return this.status >= 500 ? 'Service' : 'User';
  }
}

/** 400 InvalidParameterValueException (Lambda). */
export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterValueException', 400, message);
}

/** 404 ResourceNotFoundException (Lambda). */
export function notFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, message);
}

/**
 * An error of a query-compatible JSON service (SQS, CloudWatch): `__type` names the error's shape and the
 * header `x-amzn-query-error: <code>;Sender` the code its query protocol used, which botocore reports as
 * the code and the JavaScript SDK as `Code` and `Type`; the status is the model's for the error.
 */
export function queryCompatibleError(shape: string, queryCode: string, status: number, message: string): AwsError {
  return new AwsError(shape, status, message, {}, { 'x-amzn-query-error': `${queryCode};Sender` });
}

/** The error for anything the endpoint does not implement: names the service and the operation. */
export function unsupported(service: string, operation: string, protocol: WireProtocol): AwsError {
  const message = `lambda-mesh local endpoint does not support ${service}.${operation}`;
  // restJson clients read the code from the header; awsJson clients from __type. Lambda has no modelled
  // "unknown operation" error, so the SDK surfaces the code as the error name either way.
  return protocol === 'restJson1'
    ? new AwsError('UnknownOperationException', 501, message)
    : new AwsError('UnknownOperationException', 400, message);
}

/** Turns anything thrown into an AwsError; unknown throwables become a 500 ServiceException. */
export function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err;
  // Registry/invoker errors may carry an AWS code without being our class (structural match).
  const e = err as { code?: unknown; name?: unknown; status?: unknown; statusCode?: unknown; message?: unknown };
  const code =
    typeof e?.code === 'string' && /Exception$/.test(e.code)
      ? e.code
      : typeof e?.name === 'string' && /Exception$/.test(e.name)
        ? e.name
        : undefined;
  const status =
    typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (code) return new AwsError(code, status ?? statusForCode(code), String(e.message ?? code));
  return new AwsError('ServiceException', 500, `lambda-mesh local endpoint failed: ${String(e?.message ?? err)}`);
}

const STATUS_BY_CODE: Record<string, number> = {
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  UnsupportedMediaTypeException: 415,
  TooManyRequestsException: 429,
  ResourceNotReadyException: 502,
  ServiceException: 500,
};

function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

/**
 * Writes an error in the protocol's shape, its message under the member `service`'s model names (`service`:
 * the signing name, e.g. `lambda`). Never throws (the response may already be gone).
 */
export function writeError(
  res: ServerResponse,
  err: AwsError,
  protocol: WireProtocol,
  requestId: string,
  service: string,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (protocol === 'awsQuery') {
    writeQueryError(res, err, requestId);
    return;
  }
  const message = { [messageMember(service, err.code)]: err.message };
  const body =
    protocol === 'restJson1'
      ? { Type: err.faultType, ...message, ...err.fields }
      : { __type: err.code, ...message, ...err.fields };
  const text = JSON.stringify(body);
  // awsJson answers a client error with 400, but a query-compatible service (SQS) with the status its model
  // gives the error (ReceiptHandleIsInvalid 404, PurgeQueueInProgress 403).
  const ownStatus = protocol === 'restJson1' || err.headers['x-amzn-query-error'] !== undefined;
  const status = ownStatus || err.status >= 500 ? err.status : 400;
  res.writeHead(status, {
    'content-type':
      protocol === 'restJson1'
        ? 'application/json'
        : `application/x-amz-json-${protocol === 'awsJson1_0' ? '1.0' : '1.1'}`,
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': err.code,
    'x-amzn-requestid': requestId,
    ...err.headers,
  });
  res.end(text);
}

/**
 * The query protocol's error document, with the error's own status (SNS's NotFound is 404); the error's
 * fields follow its message (SQS's empty `<Detail/>`).
 */
export function queryErrorXml(err: AwsError, requestId: string): string {
  const fields = Object.entries(err.fields)
    .map(([name, value]) => xmlText(name, String(value ?? '')))
    .join('');
  return (
    `<ErrorResponse><Error><Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(err.code)}</Code>` +
    `<Message>${escapeXml(err.message)}</Message>${fields}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/**
 * An error of a JSON service that is query-compatible (queryCompatibleError) as the service's query
 * protocol writes it: the code of `x-amzn-query-error`, the same status, its message (or `message`), and
 * `fields`: by default the empty `Detail` SQS's query errors carry (CloudWatch's carry none).
 */
export function asQueryError(
  err: AwsError,
  message = err.message,
  fields: Record<string, unknown> = { Detail: '' },
): AwsError {
  const code = err.headers['x-amzn-query-error']?.split(';')[0] ?? err.code;
  return new AwsError(code, err.status, message, fields);
}

function writeQueryError(res: ServerResponse, err: AwsError, requestId: string): void {
  const xml = queryErrorXml(err, requestId);
  res.writeHead(err.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
    ...err.headers,
  });
  res.end(xml);
}
