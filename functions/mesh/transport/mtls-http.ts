/**
 * HTTP transport for HTTPS targets outside Lambda Invoke, authenticated both ways with TLS:
 * the client presents the service's mesh certificate (from its identity secret), and the server must
 * present the target service's mesh certificate, matched by its SPIFFE ID. Not by hostname: every
 * service's certificate comes from the mesh CA, and one that names the target's host or address (a
 * service that serves HTTPS of its own) is still another service's. A server of a configured CA is
 * matched by its hostname, as usual.
 */
import type { Agent } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Identity } from '../identity/identity';
import { type HttpTransport, httpTransport, plainSend } from './http-transport';

export interface MtlsHttpOptions {
  /** https URL of the target. */
  readonly url: string;
  /** This service's identity: client certificate and key, and the mesh CA. */
  readonly identity: Identity;
  /** The target service's name: with the mesh CA, only a server certificate with its SPIFFE ID is accepted. */
  readonly targetService: string;
  /** PEM CA(s) to verify the server with instead of the mesh CA (a non-mesh HTTPS server). */
  readonly ca?: string | string[];
}

export function mtlsHttpTransport(opts: MtlsHttpOptions): HttpTransport {
  const base = new URL(opts.url);
  if (base.protocol !== 'https:') throw new Error(`mTLS target ${opts.url} must be an https URL`);
  const expectedUri = `URI:spiffe://${opts.identity.mesh}/svc/${opts.targetService}`;
  const checkServerIdentity = (_host: string, cert: PeerCertificate) =>
    (cert.subjectaltname ?? '').split(', ').includes(expectedUri)
      ? undefined
      : // The code Node gives a name mismatch: nothing was sent, so the attempt may be made again.
        Object.assign(new Error(`server is not ${expectedUri}`), {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        });
  // One keep-alive agent per identity material: a rotated certificate gets a new agent (new handshakes).
  let agent: { cert: string; agent: Agent } | undefined;
  const agentFor = (): Agent => {
    const m = opts.identity.tlsMaterial();
    if (agent?.cert === m.cert) return agent.agent;
    agent?.agent.destroy();
    const { Agent: HttpsAgent } = require('node:https') as typeof import('node:https');
    const a = new HttpsAgent({
      keepAlive: true,
      cert: m.cert,
      key: m.key,
      ca: opts.ca ?? m.ca,
      rejectUnauthorized: true,
      ...(opts.ca ? {} : { checkServerIdentity }),
    });
    agent = { cert: m.cert, agent: a };
    return a;
  };
  return httpTransport('mtls', plainSend(base, agentFor));
}
