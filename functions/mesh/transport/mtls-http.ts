/**
 * HTTP transport for HTTPS targets outside Lambda Invoke, authenticated both ways with TLS:
 * the client presents the service's mesh certificate (from its identity secret), and the server must
 * present a certificate from the mesh CA (or a configured CA). A server with a mesh certificate is
 * matched by its SPIFFE ID; any other server by its hostname, as usual.
 */
import type { Agent } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { MeshMetadata } from '../../../shared/names';
import {
  type HttpExchangeResponse,
  httpExchange,
  metadataFromClientContext,
  metadataHeaders,
} from '../identity/http-exchange';
import type { Identity } from '../identity/identity';
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

export interface MtlsHttpOptions {
  /** https URL of the target. */
  readonly url: string;
  /** This service's identity: client certificate and key, and the mesh CA. */
  readonly identity: Identity;
  /** The target service's name: a server certificate with its SPIFFE ID is accepted whatever the host. */
  readonly targetService?: string;
  /** PEM CA(s) to verify the server with instead of the mesh CA (a non-mesh HTTPS server). */
  readonly ca?: string | string[];
}

export function mtlsHttpTransport(opts: MtlsHttpOptions): HttpTransport {
  const base = new URL(opts.url);
  if (base.protocol !== 'https:') throw new Error(`mTLS target ${opts.url} must be an https URL`);
  const expectedUri = opts.targetService ? `URI:spiffe://${opts.identity.mesh}/svc/${opts.targetService}` : undefined;
  // One keep-alive agent per identity material: a rotated certificate gets a new agent (new handshakes).
  let agent: { cert: string; agent: Agent } | undefined;
  const agentFor = (): Agent => {
    const m = opts.identity.tlsMaterial();
    if (agent?.cert === m.cert) return agent.agent;
    agent?.agent.destroy();
    const { Agent: HttpsAgent } = require('node:https') as typeof import('node:https');
    const tls = require('node:tls') as typeof import('node:tls');
    const a = new HttpsAgent({
      keepAlive: true,
      cert: m.cert,
      key: m.key,
      ca: opts.ca ?? m.ca,
      rejectUnauthorized: true,
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const sans = (cert.subjectaltname ?? '').split(', ');
        if (expectedUri && sans.includes(expectedUri)) return undefined;
        return tls.checkServerIdentity(host, cert);
      },
    });
    agent = { cert: m.cert, agent: a };
    return a;
  };
  const t: Omit<HttpTransport, 'invoke'> = {
    kind: 'mtls',
    send(req: HttpTransportRequest): Promise<HttpExchangeResponse> {
      const url = new URL(req.path ?? '', base);
      return httpExchange({
        url,
        method: req.method,
        headers: { 'content-type': req.contentType ?? 'application/json', ...metadataHeaders(req.metadata) },
        body: req.payload,
        signal: req.signal,
        timeoutMs: req.timeoutMs,
        agent: agentFor(),
      });
    },
  };
  return { ...t, invoke: invokeOverHttp(t.send) };
}
