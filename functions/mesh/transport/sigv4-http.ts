/**
 * HTTP transport for Lambda Function URLs with AuthType AWS_IAM: each request is signed with SigV4
 * (service `lambda`) using the function's own credentials from the environment, so IAM decides
 * (lambda:InvokeFunctionUrl) exactly as it does for Invoke. The mesh metadata travels as x-mesh-*
 * headers and is signed too. The signer is loaded on first use.
 */
import { type HttpExchangeResponse, httpExchange, metadataHeaders } from '../identity/http-exchange';
import { type HttpTransport, type HttpTransportRequest, invokeOverHttp } from './mtls-http';

export interface SigV4HttpOptions {
  /** The Function URL (https://<id>.lambda-url.<region>.on.aws/...). */
  readonly url: string;
  /** @default the region in the Function URL host, else AWS_REGION */
  readonly region?: string;
  /** @default 'lambda' */
  readonly service?: string;
  /** @default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, read per request (they rotate) */
  readonly credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
}

export function regionOfFunctionUrl(url: URL): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return async () => {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error(
        'no AWS credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) to sign the Function URL request',
      );
    }
    return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  };
}

export function sigv4HttpTransport(opts: SigV4HttpOptions): HttpTransport {
  const base = new URL(opts.url);
  if (base.protocol !== 'https:' && base.hostname !== '127.0.0.1' && base.hostname !== 'localhost') {
    throw new Error(`SigV4 target ${opts.url} must be https (plain http only on loopback, for tests)`);
  }
  const region = opts.region ?? regionOfFunctionUrl(base) ?? process.env.AWS_REGION;
  if (!region) throw new Error(`no region for SigV4 target ${opts.url}: pass region or set AWS_REGION`);
  let signer: { sign(req: unknown): Promise<{ headers: Record<string, string> }> } | undefined;
  const t: Omit<HttpTransport, 'invoke'> = {
    kind: 'sigv4',
    async send(req: HttpTransportRequest): Promise<HttpExchangeResponse> {
      if (!signer) {
        const { SignatureV4 } = require('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
        const { Sha256 } = require('@aws-crypto/sha256-js') as typeof import('@aws-crypto/sha256-js');
        signer = new SignatureV4({
          service: opts.service ?? 'lambda',
          region,
          credentials: opts.credentials ?? credentialsFromEnv(),
          sha256: Sha256,
        }) as never;
      }
      const url = new URL(req.path ?? '', base);
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const headers: Record<string, string> = {
        host: url.host,
        'content-type': req.contentType ?? 'application/json',
        ...metadataHeaders(req.metadata),
      };
      const signed = await signer!.sign({
        method: req.method ?? 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers,
        body: req.payload,
      });
      return httpExchange({
        url,
        method: req.method,
        headers: signed.headers,
        body: req.payload,
        signal: req.signal,
        timeoutMs: req.timeoutMs,
      });
    },
  };
  return { ...t, invoke: invokeOverHttp(t.send) };
}
