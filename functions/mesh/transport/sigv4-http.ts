/**
 * HTTP transport for Lambda Function URLs with AuthType AWS_IAM: each request is signed with SigV4
 * (service `lambda`, aws/sigv4.ts) using the function's own credentials from the environment, so IAM
 * decides (lambda:InvokeFunctionUrl) exactly as it does for Invoke. The mesh metadata travels as
 * x-mesh-* headers and is signed too. The query goes on the wire in its canonical form, so the bytes
 * sent are the bytes signed.
 */
import { type AwsCredentials, canonicalQuery, envCredentials, signRequest } from '../aws';
import { type HttpExchangeResponse, httpExchange, metadataHeaders } from '../identity/http-exchange';
import { type HttpTransport, type HttpTransportRequest, httpTransport } from './http-transport';

export interface SigV4HttpOptions {
  /** The Function URL (https://<id>.lambda-url.<region>.on.aws/...). */
  readonly url: string;
  /** @default the region in the Function URL host, else AWS_REGION */
  readonly region?: string;
  /** @default 'lambda' */
  readonly service?: string;
  /** @default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, read per request (they rotate) */
  readonly credentials?: () => AwsCredentials | Promise<AwsCredentials>;
}

export function regionOfFunctionUrl(url: URL): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
}

export function sigv4HttpTransport(opts: SigV4HttpOptions): HttpTransport {
  const base = new URL(opts.url);
  if (base.protocol !== 'https:' && base.hostname !== '127.0.0.1' && base.hostname !== 'localhost') {
    throw new Error(`SigV4 target ${opts.url} must be https (plain http only on loopback, for tests)`);
  }
  const region = opts.region ?? regionOfFunctionUrl(base) ?? process.env.AWS_REGION;
  if (!region) throw new Error(`no region for SigV4 target ${opts.url}: pass region or set AWS_REGION`);
  const credentials = opts.credentials ?? (() => envCredentials(process.env, 'sign the Function URL request'));
  return httpTransport('sigv4', async (req: HttpTransportRequest): Promise<HttpExchangeResponse> => {
    const url = new URL(req.path ?? '', base);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const seen = query[k];
      query[k] = seen === undefined ? v : ([] as string[]).concat(seen, v);
    }
    url.search = canonicalQuery(query);
    const method = req.method ?? 'POST';
    const { headers } = signRequest(
      {
        method,
        path: url.pathname,
        query,
        headers: {
          host: url.host,
          'content-type': req.contentType ?? 'application/json',
          ...metadataHeaders(req.metadata),
        },
        body: req.payload,
      },
      { region, service: opts.service ?? 'lambda', credentials: await credentials(), now: Date.now() },
    );
    return httpExchange({ url, method, headers, body: req.payload, signal: req.signal });
  });
}
