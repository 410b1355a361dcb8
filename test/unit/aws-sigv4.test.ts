/**
 * The runtime's SigV4 signer (functions/mesh/aws/sigv4.ts) against two references:
 * - @smithy/signature-v4, what the AWS SDK for JavaScript signs with: for 1,500 random requests
 *   (methods, paths with dot segments and multi-byte characters, repeated query parameters, headers
 *   the SDK leaves unsigned, string, byte and missing bodies, session tokens, days, regions, services)
 *   the headers to send are the same, `Authorization` included;
 * - the AWS Signature Version 4 test suite (test/fixtures/sigv4-test-suite): the canonical request,
 *   the string to sign and the Authorization header of every group.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { canonicalQuery, type SignableRequest, signRequest } from '../../functions/mesh/aws/sigv4';

/** Characters that exercise each encoding rule: unreserved, reserved, space, `%`, multi-byte. */
const CHARS = [...'abcXYZ019-._~', ..."!$&'()*+,;=:@/?#[]", ' ', '%', '%2F', '"', 'é', 'ሴ', '😀', '\u00a0'];
const text = (maxLength: number) => fc.string({ unit: fc.constantFrom(...CHARS), maxLength });
const TOKEN = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'];

const segment = fc.oneof(
  { weight: 6, arbitrary: text(8).map((s) => s.replace(/\//g, '')) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '') },
);
const path = fc
  .tuple(fc.array(segment, { maxLength: 6 }), fc.boolean())
  .map(([segments, trailing]) => `/${segments.join('/')}${trailing && segments.length > 0 ? '/' : ''}`);
const query = fc.dictionary(
  fc.oneof({ weight: 8, arbitrary: text(6) }, { weight: 1, arbitrary: fc.constant('X-Amz-Signature') }),
  fc.oneof(text(10), fc.array(text(6), { maxLength: 4 })),
  { maxKeys: 5, noNullPrototype: true },
);
/** Header names the SDK treats apart (unsigned, generated, the payload hash), and ordinary ones. */
const SPECIAL_HEADERS = [
  'user-agent',
  'X-Amzn-Trace-Id',
  'proxy-authorization',
  'sec-fetch-mode',
  'expect',
  'Authorization',
  'Date',
  'X-Amz-Date',
  'x-amz-content-sha256',
  'Content-Type',
  'X-Amz-Target',
  'x-mesh-token',
];
const headerName = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_HEADERS) },
);
const headerValue = fc.oneof(
  text(16),
  fc.constantFrom('  a   b\t\tc  ', 'line1\r\nline2', '\tx', 'UNSIGNED-PAYLOAD', ''),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 6, noNullPrototype: true });
const body = fc.oneof(
  fc.constant(undefined),
  text(40),
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(''),
  fc.constant(new Uint8Array()),
);
const credentials = fc.record(
  {
    accessKeyId: fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
      minLength: 16,
      maxLength: 20,
    }),
    secretAccessKey: fc.string({ unit: fc.constantFrom(...TOKEN, '+', '/'), minLength: 40, maxLength: 40 }),
    sessionToken: fc.string({ unit: fc.constantFrom(...TOKEN, '+', '/', '='), minLength: 1, maxLength: 300 }),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);

describe('SigV4 signer', () => {
  it('gives the headers @smithy/signature-v4 gives, for 1,500 random requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'),
          host: fc.constantFrom('lambda.eu-west-1.amazonaws.com', '127.0.0.1:4566', 'abc.lambda-url.us-east-1.on.aws'),
          path,
          query,
          headers,
          body,
          credentials,
          region: fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1', 'us-gov-west-1', 'ap-southeast-2'),
          service: fc.constantFrom('lambda', 'dynamodb', 'secretsmanager', 'execute-api'),
          // Any instant of 2000-2099, to the ms (the signature takes seconds; the key changes daily).
          now: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
        }),
        async (r) => {
          // Prepare
          const req: SignableRequest = {
            method: r.method,
            path: r.path,
            query: r.query,
            headers: { ...r.headers, host: r.host },
            body: r.body,
          };
          const smithy = new SignatureV4({
            service: r.service,
            region: r.region,
            credentials: r.credentials,
            sha256: Sha256,
          });
          // Act
          const ours = signRequest(req, {
            region: r.region,
            service: r.service,
            credentials: r.credentials,
            now: r.now,
          });
          const theirs = await smithy.sign(
            {
              method: r.method,
              protocol: 'https:',
              hostname: r.host,
              path: r.path,
              query: r.query as Record<string, string | string[]>,
              headers: { ...r.headers, host: r.host },
              body: r.body,
            },
            { signingDate: new Date(r.now) },
          );
          // Assess
          assert.equal(ours.headers.authorization, theirs.headers.authorization);
          assert.deepEqual(ours.headers, theirs.headers);
        },
      ),
      { numRuns: 1500, seed: 20260101 },
    );
  });

  it('puts on the wire the query it signs: sorted, RFC 3986 encoded, repeated names by value', () => {
    assert.equal(
      canonicalQuery({ b: ['2', '10'], a: "it's a test", 'X-Amz-Signature': 'x', ሴ: '' }),
      '%E1%88%B4=&a=it%27s%20a%20test&b=10&b=2',
    );
    assert.equal(canonicalQuery(undefined), '');
  });

  it('reuses the derived key only for the same secret, day, region and service', () => {
    const req: SignableRequest = { method: 'GET', path: '/', headers: { host: 'example.com' } };
    const base = { region: 'us-east-1', service: 's', now: Date.UTC(2026, 0, 1, 10) };
    const one = { accessKeyId: 'AKID', secretAccessKey: 'secret-one' };
    const two = { accessKeyId: 'AKID', secretAccessKey: 'secret-two' };
    const a = signRequest(req, { ...base, credentials: one }).headers.authorization;
    const b = signRequest(req, { ...base, credentials: two }).headers.authorization;
    const c = signRequest(req, { ...base, credentials: one, now: base.now + 86_400_000 }).headers.authorization;
    assert.notEqual(a, b);
    assert.notEqual(a.split('Signature=')[1], c.split('Signature=')[1]);
    assert.equal(signRequest(req, { ...base, credentials: one }).headers.authorization, a);
  });
});

interface Vector {
  readonly name: string;
  readonly req: string;
  readonly creq: string;
  readonly sts: string;
  readonly authz: string;
}
const SUITE = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'sigv4-test-suite', 'vectors.json'), 'utf8'),
) as {
  config: { service: string; region: string; accessKeyId: string; secretAccessKey: string };
  stsToken: string;
  signingTime: string;
  cases: Vector[];
};

/** A raw request of the suite as the signer takes it: repeated headers joined with commas, as HTTP allows. */
function parseRaw(raw: string): SignableRequest {
  const [head, ...rest] = raw.split('\n\n');
  const [requestLine, ...lines] = head!.split('\n');
  const m = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine!);
  assert.ok(m, `request line: ${requestLine}`);
  const [, method, uri] = m;
  const headers: Record<string, string> = {};
  let last = '';
  for (const line of lines) {
    if (/^\s/.test(line)) {
      headers[last] += `,${line.trim()}`; // a folded line continues the header before it
      continue;
    }
    const i = line.indexOf(':');
    last = line.slice(0, i).toLowerCase();
    const value = line.slice(i + 1);
    headers[last] = last in headers ? `${headers[last]},${value}` : value;
  }
  const q = uri!.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const pair of uri!.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const v = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const seen = query[k];
      query[k] = seen === undefined ? v : ([] as string[]).concat(seen, v);
    }
  }
  return { method: method!, path: q >= 0 ? uri!.slice(0, q) : uri!, query, headers, body: rest.join('\n\n') };
}

describe('SigV4 signer: the AWS Signature Version 4 test suite', () => {
  it('keeps the groups the fixture README lists, each one consistent with itself', () => {
    assert.equal(SUITE.cases.length, 25);
    for (const v of SUITE.cases) {
      const hash = createHash('sha256').update(v.creq).digest('hex');
      assert.ok(v.sts.endsWith(`\n${hash}`), `${v.name}: its string to sign hashes its canonical request`);
    }
  });
  for (const v of SUITE.cases) {
    it(v.name, () => {
      // Prepare
      const req = parseRaw(v.req);
      const token = req.headers['x-amz-security-token'];
      // Act
      const signed = signRequest(req, {
        region: SUITE.config.region,
        service: SUITE.config.service,
        credentials: {
          accessKeyId: SUITE.config.accessKeyId,
          secretAccessKey: SUITE.config.secretAccessKey,
          ...(token ? { sessionToken: SUITE.stsToken } : {}),
        },
        now: Date.parse(SUITE.signingTime),
        // The suite predates x-amz-content-sha256 on every request.
        contentSha256: false,
      });
      // Assess
      assert.equal(signed.canonicalRequest, v.creq);
      assert.equal(signed.stringToSign, v.sts);
      assert.equal(signed.headers.authorization, v.authz);
    });
  }
});
