/**
 * One HTTP(S) request/response for the HTTP transports (SigV4 and mTLS): node:http(s) only, with an
 * abort signal, the mesh metadata as x-mesh-* headers, and the body read as bytes up to Lambda's limit.
 */
import type { Agent as HttpsAgent, RequestOptions } from 'node:https';
import { META, type MeshMetadata } from '../../../shared/names';

export interface HttpExchangeRequest {
  readonly url: URL;
  readonly method?: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  /** Ends the request, and the reading of its answer: the call pipeline aborts each attempt at its timeout. */
  readonly signal?: AbortSignal;
  readonly agent?: HttpsAgent;
  /** Extra TLS options (client certificate, CA, server identity check). */
  readonly tls?: Pick<
    RequestOptions,
    'cert' | 'key' | 'ca' | 'checkServerIdentity' | 'rejectUnauthorized' | 'servername'
  >;
}

export interface HttpExchangeResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly payload: Uint8Array;
}

/**
 * Lambda's synchronous response limit ("Lambda quotas", AWS Lambda Developer Guide), held for an HTTP
 * target too: a body past it is not read on (an endless one would end the sandbox), and the call fails
 * as Invoke's would, with this error type (`invokeOverHttp`).
 */
export const ANSWER_LIMIT = 6 * 1024 * 1024;
export const TOO_LARGE = 'Function.ResponseSizeTooLarge';

// The mesh metadata as x-mesh-* headers: the transports of this file's callers take it from here.
export { metadataHeaders } from '../metadata';

/** The mesh metadata back out of a base64 ClientContext (what the call pipeline hands a transport). */
export function metadataFromClientContext(clientContext: string | undefined): Partial<MeshMetadata> {
  if (!clientContext) return {};
  try {
    const cc = JSON.parse(Buffer.from(clientContext, 'base64').toString('utf8')) as {
      custom?: Record<string, unknown>;
    };
    const meta = cc?.custom?.[META.clientContextKey];
    return meta && typeof meta === 'object' ? (meta as Partial<MeshMetadata>) : {};
  } catch {
    return {};
  }
}

export function httpExchange(req: HttpExchangeRequest): Promise<HttpExchangeResponse> {
  // Required lazily: no HTTP(S) machinery at init for functions that only Invoke.
  const mod = (
    req.url.protocol === 'https:' ? require('node:https') : require('node:http')
  ) as typeof import('node:https');
  return new Promise((resolve, reject) => {
    const r = mod.request(
      req.url,
      {
        method: req.method ?? 'POST',
        headers: { ...req.headers, 'content-length': String(req.body.byteLength) },
        agent: req.agent,
        signal: req.signal,
        ...req.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n <= ANSWER_LIMIT) chunks.push(c);
          else
            r.destroy(
              Object.assign(new Error(`answer over ${ANSWER_LIMIT} bytes`), {
                name: TOO_LARGE,
              }),
            );
        });
        res.on('end', () =>
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, payload: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}
