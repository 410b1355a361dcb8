/**
 * What the HTTP transports (SigV4, mTLS, plain) share: the request they take per attempt, and the
 * pipeline's InvokeTransport `invoke` on top of their plain HTTP `send`, and that `send` itself where a
 * transport adds nothing to the request but its agent (mTLS, plain).
 */
import type { Agent } from 'node:https';
import type { MeshMetadata } from '../../../shared/names';
import {
  type HttpExchangeResponse,
  httpExchange,
  metadataFromClientContext,
  metadataHeaders,
  TOO_LARGE,
} from '../identity/http-exchange';
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
  /** The attempt's bound: the call pipeline aborts it at the attempt's timeout. */
  readonly signal?: AbortSignal;
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
    try {
      const res = await send({
        payload: req.payload,
        metadata: req.traceHeader ? { ...metadata, trc: req.traceHeader } : metadata,
        signal: req.signal,
      });
      return { statusCode: res.statusCode, payload: res.payload };
    } catch (e) {
      if ((e as Error).name !== TOO_LARGE) throw e;
      // What Invoke answers for a response past its limit: the handler ran and failed, so it is not sent again.
      const payload = Buffer.from(JSON.stringify({ errorType: TOO_LARGE, errorMessage: (e as Error).message }));
      return { statusCode: 200, functionError: 'Unhandled', payload };
    }
  };
}

/** A transport of `kind` over `send`, with the pipeline's `invoke` on top. */
export function httpTransport(kind: HttpTransport['kind'], send: HttpTransport['send']): HttpTransport {
  return { kind, send, invoke: invokeOverHttp(send) };
}

/** `send` to `base` as the request says, the metadata as x-mesh-* headers, over `agent()` when given. */
export function plainSend(base: URL, agent?: () => Agent): HttpTransport['send'] {
  return (req) =>
    httpExchange({
      url: new URL(req.path ?? '', base),
      method: req.method,
      headers: { 'content-type': req.contentType ?? 'application/json', ...metadataHeaders(req.metadata) },
      body: req.payload,
      signal: req.signal,
      agent: agent?.(),
    });
}
