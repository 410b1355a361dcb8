/**
 * A client of AWS's query protocol as the older SDKs are: a form-encoded POST signed with SigV4
 * (@smithy/signature-v4, the AWS SDK's signer) sent with node:http, and the XML answer read by element
 * name. For tests of the local endpoint's query-protocol services on loopback.
 */
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface QueryAnswer {
  readonly status: number;
  readonly body: string;
}

export interface QueryClientOptions {
  readonly endpoint: string;
  /** The signing name, e.g. `sqs`. */
  readonly service: string;
  readonly region?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Sends `params` as a signed form POST to `path` (the endpoint's root, or a queue URL's path). */
export async function queryRequest(
  options: QueryClientOptions,
  params: Record<string, string>,
  path = '/',
): Promise<QueryAnswer> {
  const url = new URL(path, options.endpoint);
  const body = new URLSearchParams(params).toString();
  const signer = new SignatureV4({
    service: options.service,
    region: options.region ?? 'us-east-1',
    credentials: options.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: {
      host: url.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  });
  return send(url, signed.headers, body);
}

function send(url: URL, headers: Record<string, string>, body: string): Promise<QueryAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of every `<name>` element in `xml`, XML's character references undone. */
export function xmlValues(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  return [...xml.matchAll(pattern)].map((m) => unescapeXml(m[1]!));
}

function unescapeXml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
