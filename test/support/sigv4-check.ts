/**
 * Checks a received request's SigV4 signature as AWS would: the request as it arrived on the socket
 * (method, raw path, query, the headers it says it signed, the body) signed again with
 * @smithy/signature-v4, the AWS SDK's signer, at the time in its X-Amz-Date, for the region and service
 * in its credential scope. For loopback servers standing in for AWS in tests.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignatureCheck {
  readonly ok: boolean;
  /** What did not match, when not ok: no-signature, unknown-key, bad-date, body-hash-mismatch, signature-mismatch. */
  readonly why?: string;
  /** The signed session token (x-amz-security-token), when there was one. */
  readonly sessionToken?: string;
  readonly region?: string;
  readonly service?: string;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export async function checkSigV4(req: IncomingMessage, body: Buffer, creds: TestCredentials): Promise<SignatureCheck> {
  const auth = one(req.headers.authorization) ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  if (!m) return { ok: false, why: 'no-signature' };
  const [, keyId, , region, service, signedList] = m;
  if (keyId !== creds.accessKeyId) return { ok: false, why: 'unknown-key' };
  const amzDate = one(req.headers['x-amz-date']) ?? '';
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!d) return { ok: false, why: 'bad-date' };
  const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
  const headers: Record<string, string> = {};
  for (const name of signedList!.split(';')) {
    const v = one(req.headers[name]);
    if (v === undefined) return { ok: false, why: `signed header ${name} is missing` };
    headers[name] = v;
  }
  // A signed x-amz-content-sha256 stands for the body in the signature: it must be the body's hash.
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(body).digest('hex')) {
    return { ok: false, why: 'body-hash-mismatch' };
  }
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const pair of raw.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const v = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const seen = query[k];
      query[k] = seen === undefined ? v : ([] as string[]).concat(seen, v);
    }
  }
  const expected = await new SignatureV4({
    service: service!,
    region: region!,
    credentials: { ...creds, sessionToken: headers['x-amz-security-token'] },
    sha256: Sha256,
  }).sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: 'x',
      path: q >= 0 ? raw.slice(0, q) : raw,
      query,
      headers,
      body,
    },
    { signingDate },
  );
  if (expected.headers.authorization !== auth) return { ok: false, why: 'signature-mismatch' };
  return { ok: true, sessionToken: headers['x-amz-security-token'], region, service };
}
