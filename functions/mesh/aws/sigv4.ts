/**
 * AWS Signature Version 4 for request headers, on node:crypto: the one signer of the runtime (Lambda
 * Invoke, Secrets Manager, DynamoDB, Function URLs). Pure: the clock and the credentials come in.
 *
 * It follows "Create a signed AWS API request" (AWS Identity and Access Management User Guide) in the
 * exact form @smithy/signature-v4 (what the AWS SDK for JavaScript signs with) gives it, so a service
 * sees the same signature from the mesh as from the SDK: the path normalized (`.`, `..` and empty
 * segments dropped) and URI-encoded once more, as every service but S3 expects; query parameters
 * sorted by encoded name, repeated ones by encoded pair; header values with runs of spaces folded;
 * hop-by-hop headers left unsigned. test/unit/aws-sigv4.test.ts checks it against @smithy/signature-v4
 * on random requests and against the AWS Signature Version 4 test suite.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignableRequest {
  readonly method: string;
  /** The path as it goes on the wire, percent-encoded where it must be. */
  readonly path: string;
  /** Query parameters, decoded; a repeated name holds an array. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** The headers to send, `host` included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface SigningScope {
  readonly region: string;
  /** The signing name: `lambda`, `dynamodb`, `secretsmanager`. */
  readonly service: string;
  readonly credentials: AwsCredentials;
  /** Signing time, epoch ms. */
  readonly now: number;
  /** Send and sign `x-amz-content-sha256`, as the AWS SDK does. @default true */
  readonly contentSha256?: boolean;
}

export interface SignedRequest {
  /** The headers to send: the request's, less any old signature, plus the signature headers. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Headers a proxy or the HTTP stack may change on the way: never signed (the AWS SDK's list). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
/** Headers the signer writes itself; a caller's copy is dropped. */
const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding of one component: encodeURIComponent plus `!'()*`, as SigV4 wants. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query string; also what the transports put on the wire, so both always agree. */
export function canonicalQuery(query: SignableRequest['query']): string {
  if (!query) return '';
  const pairs = new Map<string, string>();
  for (const name of Object.keys(query)) {
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const key = uriEscape(name);
    const value = query[name]!;
    const encoded =
      typeof value === 'string'
        ? `${key}=${uriEscape(value)}`
        : value
            .map((v) => `${key}=${uriEscape(v)}`)
            .sort()
            .join('&');
    if (encoded) pairs.set(key, encoded);
  }
  return [...pairs.keys()]
    .sort()
    .map((k) => pairs.get(k))
    .join('&');
}

/** The path with `.`, `..` and empty segments resolved, encoded once more (all services but S3). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}`;
  return uriEscape(normalized).replace(/%2F/g, '/');
}

/** Lower-cased names to folded values, for the headers that are signed. */
function canonicalHeaders(headers: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
    out.set(
      lower,
      value
        .replace(/[\r\n]/g, ' ')
        .replace(/[ \t]+/g, ' ')
        .replace(/^ | $/g, ''),
    );
  }
  return out;
}

/** The derived key changes once a day per region and service: kept, as the SDK keeps it. */
const signingKeys = new Map<string, Buffer>();
const MAX_KEYS = 16;

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${day}/${region}/${service}/${sha256Hex(secret)}`;
  let key = signingKeys.get(id);
  if (key) return key;
  key = Buffer.from(`AWS4${secret}`);
  for (const part of [day, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  if (signingKeys.size >= MAX_KEYS) signingKeys.clear();
  signingKeys.set(id, key);
  return key;
}

/** Signs `req` for `scope`: the headers to send, and the two intermediate strings (tests, debugging). */
export function signRequest(req: SignableRequest, scope: SigningScope): SignedRequest {
  const amzDate = new Date(scope.now).toISOString().replace(/[-:]|\.\d{3}/g, ''); // 20260101T000000Z
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  let payloadHash: string | undefined;
  for (const name of Object.keys(req.headers)) {
    const lower = name.toLowerCase();
    if (GENERATED.has(lower)) continue;
    if (lower === 'x-amz-content-sha256') payloadHash = req.headers[name];
    headers[name] = req.headers[name]!;
  }
  headers['x-amz-date'] = amzDate;
  if (scope.credentials.sessionToken) headers['x-amz-security-token'] = scope.credentials.sessionToken;
  if (payloadHash === undefined) {
    payloadHash = sha256Hex(req.body ?? '');
    if (scope.contentSha256 !== false) headers['x-amz-content-sha256'] = payloadHash;
  }
  const signed = canonicalHeaders(headers);
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    req.method,
    canonicalPath(req.path),
    canonicalQuery(req.query),
    ...names.map((n) => `${n}:${signed.get(n)}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(scope.credentials.secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  headers.authorization =
    `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}
