/**
 * DynamoDB `Query` on the wire: one HTTPS POST (awsJson1_0, `X-Amz-Target: DynamoDB_20120810.Query`)
 * signed with SigV4 by hand on node:crypto. A new sandbox reads its policy table before its first
 * authorization (it does not trust an old deploy-time snapshot), and requiring
 * @aws-sdk/client-dynamodb there would add tens of ms to every cold start.
 *
 * Signing follows "Create a signed AWS API request" (AWS Identity and Access Management User Guide);
 * test/unit/policy-table-query.test.ts checks the signature against @smithy/signature-v4's.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Agent } from 'node:https';
import type { AttributeValue } from '../../../shared/attribute-value';

export interface QueryInput {
  readonly TableName: string;
  readonly KeyConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly ExclusiveStartKey?: Record<string, AttributeValue>;
  readonly Limit?: number;
  readonly ConsistentRead?: boolean;
}

export interface QueryOutput {
  readonly Items?: Record<string, AttributeValue>[];
  readonly LastEvaluatedKey?: Record<string, AttributeValue>;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignInput {
  readonly url: URL;
  readonly region: string;
  readonly service: string;
  readonly target: string;
  readonly body: string;
  readonly credentials: Credentials;
  /** epoch ms */
  readonly now: number;
}

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** The headers of a SigV4-signed awsJson1_0 POST (`Authorization` included). */
export function signedJsonHeaders(s: SignInput): Record<string, string> {
  const amzDate = new Date(s.now).toISOString().replace(/[-:]|\.\d{3}/g, ''); // 20260101T000000Z
  const day = amzDate.slice(0, 8);
  const payloadHash = hex(s.body);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.0',
    host: s.url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
    ...(s.credentials.sessionToken ? { 'x-amz-security-token': s.credentials.sessionToken } : {}),
    'x-amz-target': s.target,
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]!.trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const path = s.url.pathname || '/';
  const canonicalRequest = `POST\n${path}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${day}/${s.region}/${s.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(canonicalRequest)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${s.credentials.secretAccessKey}`, day), s.region), s.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${s.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** Errors worth another attempt: throttling, a 5xx, a connection that failed or dropped. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'TimeoutError',
]);
const ATTEMPTS = 3;
const ATTEMPT_TIMEOUT_MS = 3_000;

export interface PolicyTableQueryOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Sends Query requests for the policy cache, with the function's credentials from the environment. */
export class PolicyTableQuery {
  private readonly url: URL;
  private readonly region: string;
  private agent: Agent | undefined;

  constructor(private readonly opts: PolicyTableQueryOptions) {
    const env = opts.env;
    this.region =
      env.AWS_REGION ||
      env.AWS_DEFAULT_REGION ||
      process.env.AWS_REGION ||
      process.env.AWS_DEFAULT_REGION ||
      'us-east-1';
    // Passed explicitly, as the SDK would read them.
    const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
    this.url = new URL(endpoint || `https://dynamodb.${this.region}.amazonaws.com/`);
  }

  async query(input: QueryInput): Promise<QueryOutput> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(body);
      } catch (err) {
        const e = err as { name?: string; code?: string };
        const retryable = RETRYABLE.has(e.name ?? '') || RETRYABLE.has(e.code ?? '');
        if (!retryable || attempt >= ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
      }
    }
  }

  private send(body: string): Promise<QueryOutput> {
    // Read per request, as Lambda provides them (the runtime's own environment, else the process's).
    const env = this.opts.env.AWS_ACCESS_KEY_ID ? this.opts.env : process.env;
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      return Promise.reject(
        new Error(
          'no AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) to read the policy table',
        ),
      );
    }
    const headers = signedJsonHeaders({
      url: this.url,
      region: this.region,
      service: 'dynamodb',
      target: 'DynamoDB_20120810.Query',
      body,
      credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
      now: (this.opts.now ?? Date.now)(),
    });
    const https = this.url.protocol === 'https:';
    const mod = (https ? require('node:https') : require('node:http')) as typeof import('node:https');
    this.agent ??= new mod.Agent({ keepAlive: true });
    return new Promise((resolve, reject) => {
      const req = mod.request(
        this.url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: this.agent,
          timeout: ATTEMPT_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              // a proxy's HTML error page: reported below by status
            }
            if (res.statusCode === 200) return resolve(parsed as QueryOutput);
            reject(awsError(res.statusCode ?? 0, parsed, text));
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`policy table read timed out after ${ATTEMPT_TIMEOUT_MS} ms`), {
            name: 'TimeoutError',
          }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** DynamoDB's error body (`__type`: `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`) as an Error. */
function awsError(status: number, body: Record<string, unknown>, text: string): Error {
  const type =
    typeof body.__type === 'string' ? body.__type.split('#').pop()! : status >= 500 ? 'ServiceUnavailable' : 'Error';
  const message = String(body.message ?? body.Message ?? text.slice(0, 200));
  return Object.assign(new Error(`${type}: ${message} (HTTP ${status})`), {
    name: type,
    $metadata: { httpStatusCode: status },
  });
}
