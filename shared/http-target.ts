/**
 * HTTP targets: services a caller reaches over HTTP(S) instead of Lambda Invoke. The deployment is
 * their only source: `MeshFunction.addHttpEndpoint` declares one on the target, and each caller gets
 * its targets' declarations in MESH_HTTP_TARGETS (a JSON object, service -> { url, auth }). Policy items
 * cannot name a URL or an `auth`: one table write must never send an edge's payloads and identity
 * tokens to a listener of the writer's choosing.
 *
 * Used by the constructs (at synth) and the runtime (once, at first use). No zod: the runtime's init path.
 */
import { isLoopbackHostname } from './loopback';

/** How a caller authenticates to an HTTP target. */
export const HTTP_AUTH = {
  /** SigV4 with the caller's credentials: a Lambda Function URL with AuthType AWS_IAM. */
  iam: 'iam',
  /** TLS both ways: the caller's mesh certificate, and a server certificate from the mesh CA. */
  mtls: 'mtls',
  /** No caller authentication; such a target never receives an identity token. */
  none: 'none',
} as const;
export type HttpAuth = (typeof HTTP_AUTH)[keyof typeof HTTP_AUTH];

export interface HttpTarget {
  /** Where calls go; the call's path is resolved against it. */
  readonly url: string;
  readonly auth: HttpAuth;
}

/**
 * What is wrong with one declaration, or undefined when it is usable: an https URL (plain http only
 * on loopback), no credentials in it, and a known `auth` (mTLS needs https).
 */
export function httpTargetError(service: string, target: { url?: unknown; auth?: unknown }): string | undefined {
  const where = `HTTP target ${JSON.stringify(service)}`;
  const auths = Object.values(HTTP_AUTH) as string[];
  if (typeof target.auth !== 'string' || !auths.includes(target.auth)) {
    return `${where}: auth = ${JSON.stringify(target.auth)} must be one of ${auths.join(', ')}`;
  }
  let url: URL;
  try {
    url = new URL(String(target.url));
  } catch {
    return `${where}: url = ${JSON.stringify(target.url)} is not a URL; use https://host/path`;
  }
  if (url.username || url.password) {
    const fix = target.auth === 'none' ? 'pick auth "iam" or "mtls"' : `auth "${target.auth}" authenticates the caller`;
    return `${where}: url must not carry credentials; ${fix}`;
  }
  const loopback = isLoopbackHostname(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    const only = 'plain http only on 127.0.0.1, localhost or [::1]';
    return `${where}: url = ${JSON.stringify(target.url)} must be https (${only})`;
  }
  if (target.auth === 'mtls' && url.protocol !== 'https:') {
    return `${where}: auth "mtls" needs an https url, got ${JSON.stringify(target.url)}`;
  }
  return undefined;
}

/**
 * Whether a call to `target` may carry the caller's identity token. Only over TLS to an endpoint whose
 * identity the transport checks: mTLS (a server certificate from the mesh CA, matched by SPIFFE ID or
 * host) or SigV4 (the declared host, by the public CAs). Never over plain http, never to `auth: none`.
 */
export function carriesIdentityToken(target: HttpTarget): boolean {
  return target.auth !== HTTP_AUTH.none && new URL(target.url).protocol === 'https:';
}

export type HttpTargets =
  | { readonly ok: true; readonly targets: ReadonlyMap<string, HttpTarget> }
  | { readonly ok: false; readonly error: string };

/** Parses MESH_HTTP_TARGETS (unset or empty = no HTTP targets); a bad value is refused whole, naming the entry. */
export function parseHttpTargets(text: string | undefined): HttpTargets {
  const targets = new Map<string, HttpTarget>();
  if (text === undefined || text.trim() === '') return { ok: true, targets };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: 'must be a JSON object: service -> { url, auth }' };
  }
  for (const [service, value] of Object.entries(raw as Record<string, unknown>)) {
    const v = (typeof value === 'object' && value !== null ? value : {}) as { url?: unknown; auth?: unknown };
    const error = httpTargetError(service, v);
    if (error) return { ok: false, error };
    targets.set(service, { url: String(v.url), auth: v.auth as HttpAuth });
  }
  return { ok: true, targets };
}
