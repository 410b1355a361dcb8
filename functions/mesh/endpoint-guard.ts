/**
 * Who may use a sandbox's local HTTP endpoint (MESH_ENDPOINT): only this function's own processes.
 * The layer draws a secret per sandbox and puts it in the endpoint's URL path
 * (`http://127.0.0.1:<port>/<secret>`), in process.env where the handler and the processes it starts
 * read it; another local process or a browser page does not know it. The Host must be a loopback name
 * too (DNS rebinding). Pure: the endpoint answers the refusal.
 */
import { isLoopbackRequest } from '../../shared/loopback';

export type EndpointAdmission =
  | { readonly ok: true /** The request path after the secret: `/<service>[/…][?…]`. */; readonly path: string }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

export interface EndpointRequestHead {
  readonly url?: string;
  readonly headers: { readonly host?: string; readonly origin?: string | string[] };
}

export function admitEndpointRequest(req: EndpointRequestHead, secret: string): EndpointAdmission {
  // An absolute-form target (`POST http://127.0.0.1:<port>/<secret>/…`), which a server must accept,
  // names the server by its authority, and the Host header is then ignored (RFC 9112, 3.2.2).
  const absolute = /^http:\/\/([^/?]*)(.*)/i.exec(req.url ?? '/');
  const host = absolute ? absolute[1] : req.headers.host;
  if (!isLoopbackRequest({ host, origin: req.headers.origin })) {
    return { ok: false, status: 403, reason: 'only a loopback Host, from no page or a loopback one' };
  }
  const url = absolute ? absolute[2] || '/' : (req.url ?? '/');
  const first = url.slice(1).split(/[/?]/, 1)[0] ?? '';
  if (!sameSecret(first, secret)) return { ok: false, status: 401, reason: 'send to the URL in MESH_ENDPOINT' };
  const rest = url.slice(1 + first.length);
  return { ok: true, path: rest.startsWith('/') ? rest : `/${rest}` };
}

/** Compares in time independent of where the strings differ. */
function sameSecret(given: string, secret: string): boolean {
  let diff = given.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) diff |= (given.charCodeAt(i) | 0) ^ secret.charCodeAt(i);
  return diff === 0 && secret.length > 0;
}
