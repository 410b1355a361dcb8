/**
 * One awsJson operation (DynamoDB: awsJson1_0, Secrets Manager: awsJson1_1): `POST /` with
 * `X-Amz-Target: <prefix>.<Operation>` and the input as JSON; the output parsed, an error status
 * thrown as the SDK's error (aws-error.ts). Only reads come here, so a throttled, failed or lost
 * attempt is tried again, with full-jitter backoff, as the SDK's standard retry mode would.
 */
import { awsError } from './aws-error';
import type { AwsWireClient } from './aws-wire-client';

/** Worth another attempt: throttling, a 5xx, a connection that failed or dropped, a timeout. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'InternalServerError',
  'InternalServiceError',
  'ServiceUnavailable',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'TimeoutError',
]);

export interface AwsJsonCallOptions {
  /** `1.0` (DynamoDB) or `1.1` (Secrets Manager). */
  readonly version: '1.0' | '1.1';
  /** @default 3 */
  readonly attempts?: number;
  /** Per attempt, without a byte. @default 3000 */
  readonly timeoutMs?: number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function isRetryableRead(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return RETRYABLE.has(e?.name ?? '') || RETRYABLE.has(e?.code ?? '') || (e?.$metadata?.httpStatusCode ?? 0) >= 500;
}

export async function awsJsonCall<T>(
  client: AwsWireClient,
  target: string,
  input: unknown,
  options: AwsJsonCallOptions,
): Promise<T> {
  const body = JSON.stringify(input);
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.send({
        method: 'POST',
        path: '/',
        headers: { 'content-type': `application/x-amz-json-${options.version}`, 'x-amz-target': target },
        body,
        timeoutMs: options.timeoutMs ?? 3_000,
      });
      const text = res.body.toString('utf8');
      if (res.status >= 300) throw awsError('awsJson', res.status, res.headers, text);
      return (text ? JSON.parse(text) : {}) as T;
    } catch (err) {
      if (attempt >= attempts || !isRetryableRead(err)) throw err;
      await (options.sleep ?? defaultSleep)(Math.random() * 25 * 2 ** attempt);
    }
  }
}
