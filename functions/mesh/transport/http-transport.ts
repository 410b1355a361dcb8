/**
 * What the HTTP transports (SigV4, mTLS, plain) share: the request they take per attempt, and the
 * pipeline's InvokeTransport `invoke` on top of their plain HTTP `send`.
 */
import type { MeshMetadata } from '../../../shared/names';
import { type HttpExchangeResponse, metadataFromClientContext } from '../identity/http-exchange';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './lambda-invoke';

/** What the HTTP transports take per attempt (the same fields the Lambda Invoke transport sends). */
export interface HttpTransportRequest {
  /** Request body: the exact bytes the token's digest covers. */
  readonly payload: Uint8Array;
  /** Mesh metadata; sent as x-mesh-* headers (the token in x-mesh-token). */
  readonly metadata: Partial<MeshMetadata>;
  /** @default 'POST' */
  readonly method?: string;
  /** Appended to the target URL. @default '' */
  readonly path?: string;
  /** @default 'application/json' */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * An HTTP target. `invoke` is the pipeline's InvokeTransport shape (the pipeline uses it unchanged: the metadata
 * comes out of the ClientContext into x-mesh-* headers, the HTTP status goes back as `statusCode`, so
 * 429/401/403/5xx classify as they do for Invoke); `send` is the plain HTTP form.
 */
export interface HttpTransport extends InvokeTransport {
  readonly kind: 'sigv4' | 'mtls' | 'none';
  /** Resolves with any HTTP status (the caller maps 5xx/429 to retries); rejects on network/TLS failure. */
  send(req: HttpTransportRequest): Promise<HttpExchangeResponse>;
}

/** The InvokeTransport `invoke` on top of `send`: functionName/qualifier are ignored (the URL names the target). */
export function invokeOverHttp(send: HttpTransport['send']): (req: InvokeRequest) => Promise<InvokeResponse> {
  return async (req) => {
    const metadata = metadataFromClientContext(req.clientContext);
    const res = await send({
      payload: req.payload,
      metadata: req.traceHeader ? { ...metadata, trc: req.traceHeader } : metadata,
      signal: req.signal,
    });
    return { statusCode: res.statusCode, payload: res.payload };
  };
}
