/**
 * An AWS error response as the Error the AWS SDK for JavaScript would throw for it, so everything that
 * classifies errors (resilience/retry-decision.ts, resilience/delivery.ts, the policy reader's retries)
 * reads the same names whichever path sent the request:
 * - `name`: the error code, from the `x-amzn-ErrorType` header first for restJson1 (Lambda) and from
 *   the body's `__type` first for awsJson (DynamoDB, Secrets Manager); cut at the first `,`, then the
 *   first `:`, and kept after a `#` (`com.amazonaws.dynamodb.v20120810#ThrottlingException`);
 * - `message`: the body's `message` or `Message`;
 * - the body's other fields as they are (Lambda's throttling `Reason`, `Type`);
 * - `$metadata.httpStatusCode`, `$metadata.requestId`, `$fault`.
 * A body that is not JSON (a proxy's error page) is named by its status.
 */

export type AwsProtocol = 'restJson1' | 'awsJson';

export interface AwsErrorFields {
  readonly name: string;
  readonly message: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string };
  readonly [field: string]: unknown;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function cleanCode(raw: unknown): string | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  let code = String(raw);
  if (code.includes(',')) code = code.split(',')[0]!;
  if (code.includes(':')) code = code.split(':')[0]!;
  if (code.includes('#')) code = code.split('#')[1]!;
  return code || undefined;
}

function parseBody(text: string): Record<string, unknown> | undefined {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The error of a response with status >= 300 (`headers` with lower-case names, as node:http gives them). */
export function awsError(
  protocol: AwsProtocol,
  status: number,
  headers: Headers,
  text: string,
): Error & AwsErrorFields {
  const body = parseBody(text);
  const fromHeader = cleanCode(header(headers, 'x-amzn-errortype'));
  const fromBody = body && (cleanCode(body.__type) ?? cleanCode(body.code) ?? cleanCode(body.Code));
  const code =
    (protocol === 'restJson1' ? (fromHeader ?? fromBody) : (fromBody ?? fromHeader)) ??
    (status >= 500 ? 'ServiceUnavailable' : `Http${status}`);
  const message =
    typeof body?.message === 'string'
      ? body.message
      : typeof body?.Message === 'string'
        ? body.Message
        : body
          ? code
          : `HTTP ${status}: ${text.slice(0, 200)}`;
  const err = new Error(message) as Error & Record<string, unknown>;
  if (body) for (const [k, v] of Object.entries(body)) if (k !== 'message' && k !== 'Message') err[k] = v;
  const requestId = header(headers, 'x-amzn-requestid');
  return Object.assign(err, {
    name: code,
    $fault: status >= 500 ? ('server' as const) : ('client' as const),
    $metadata: { httpStatusCode: status, ...(requestId ? { requestId } : {}) },
  });
}
