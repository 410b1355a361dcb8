/**
 * HTTP transport for HTTPS targets outside Lambda Invoke, authenticated both ways with TLS:
 * the client presents the service's mesh certificate (from its identity secret), and the server must
 * present a certificate from the mesh CA (or a configured CA). A server with a mesh certificate is
 * matched by its SPIFFE ID; any other server by its hostname, as usual.
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
  return httpTransport('mtls', plainSend(base, agentFor));
}
