/**
 * What a token binds besides the caller and the callee: the request. For a Lambda Invoke that is the
 * payload bytes; for an HTTP request the method, path and query too. Both forms also bind the call's
 * idempotency key and the attempt's deadline, so a captured token only ever repeats the same request,
 * with the same key, before the same deadline. A second digest binds the rest of the metadata that
 * changes what the callee does (the attempt, the mirror mark, the routing headers). Pure apart from
 * node:crypto's hash.
 */
import type { MeshMetadata } from '../../../shared/names';

export type PayloadBytes = Uint8Array | string;

/** An HTTP request line as both sides can compute it: query as sorted, re-encoded key=value pairs. */
export interface HttpRequestLine {
  readonly method: string;
  readonly path: string;
  /** `canonicalQuery` of the request's query. */
  readonly query: string;
}

export interface RequestBinding {
  /** The exact bytes sent: the Invoke payload or the HTTP body. */
  readonly payload: PayloadBytes;
  /** The call's idempotency key (metadata `idk`). */
  readonly idempotencyKey?: string;
  /** The attempt's deadline (metadata `dl`, epoch ms). */
  readonly deadline?: number;
  /** Set for an HTTP request; absent for a Lambda Invoke (which has no method, path or query). */
  readonly http?: HttpRequestLine;
  /** The metadata besides the request that the callee acts on, as it travels (`contextDigest`). */
  readonly context?: BoundMetadata;
}

/**
 * The metadata fields that change what the callee does without being the request: `att` (its logs and
 * metrics), `mir` (a mirror copy is counted apart from real traffic) and `rh` (its own route choices).
 */
export type BoundMetadata = Pick<MeshMetadata, 'att' | 'mir' | 'rh'>;

/**
 * SHA-256 (base64url) over a header naming every bound field, then the payload bytes. The header is
 * a JSON array, so no two different requests share one whatever their fields hold.
 */
export function requestDigest(r: RequestBinding): string {
  const line = r.http ? [r.http.method.toUpperCase(), r.http.path, r.http.query] : ['INVOKE', '', ''];
  const dl = r.deadline === undefined ? null : Math.floor(r.deadline);
  const header = `${JSON.stringify(['mesh-request', ...line, r.idempotencyKey ?? null, dl])}\n`;
  // node:crypto on first use: the inbound path loads this file, and only verifies with identity on.
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(header).update(r.payload).digest('base64url');
}

/**
 * The token's `ctx` claim: SHA-256 (base64url) of the bound metadata in one canonical form (a JSON
 * array, routing headers sorted by name), or undefined when there is none, so nothing is hashed then.
 * A separate claim rather than a part of `dig`: a callee of an older layer checks `dig` as it always
 * did and ignores a claim it does not know.
 */
export function contextDigest(c: BoundMetadata): string | undefined {
  if (c.att === undefined && c.mir === undefined && c.rh === undefined) return undefined;
  const { rh } = c;
  const headers = rh
    ? Object.keys(rh)
        .sort()
        .map((name) => [name, rh[name]])
    : null;
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256')
    .update(JSON.stringify(['mesh-context', c.att ?? null, c.mir ?? null, headers]))
    .digest('base64url');
}

/** Query pairs decoded, sorted by key then value, re-encoded: the same on both sides of a proxy. */
export function canonicalQuery(pairs: Iterable<readonly [string, string]>): string {
  const list = [...pairs].map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const);
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return list.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The request line a caller sends to `url` (the HTTP transports POST to the target URL). */
export function requestLineOfUrl(url: string | URL, method = 'POST'): HttpRequestLine {
  const u = typeof url === 'string' ? new URL(url) : url;
  return { method: method.toUpperCase(), path: u.pathname || '/', query: canonicalQuery(u.searchParams) };
}

type EventLike = Record<string, unknown>;

/**
 * The request line of an HTTP event as the callee sees it: Function URL / HTTP API (payload 2.0:
 * requestContext.http.method, rawPath, rawQueryString) or REST API / ALB (httpMethod, path,
 * multiValueQueryStringParameters or queryStringParameters, already decoded).
 */
export function requestLineOfEvent(event: EventLike): HttpRequestLine {
  const rc = (event.requestContext ?? {}) as { http?: { method?: unknown; path?: unknown } };
  const method = String(rc.http?.method ?? event.httpMethod ?? '');
  const path = String(event.rawPath ?? rc.http?.path ?? event.path ?? '');
  if (typeof event.rawQueryString === 'string') {
    return { method: method.toUpperCase(), path, query: canonicalQuery(new URLSearchParams(event.rawQueryString)) };
  }
  const pairs: [string, string][] = [];
  const multi = event.multiValueQueryStringParameters as Record<string, unknown> | null | undefined;
  const single = event.queryStringParameters as Record<string, unknown> | null | undefined;
  if (multi && typeof multi === 'object') {
    for (const [k, vs] of Object.entries(multi))
      for (const v of Array.isArray(vs) ? vs : [vs]) pairs.push([k, String(v)]);
  } else if (single && typeof single === 'object') {
    for (const [k, v] of Object.entries(single)) pairs.push([k, String(v)]);
  }
  return { method: method.toUpperCase(), path, query: canonicalQuery(pairs) };
}

/** The body bytes of an HTTP event (base64-decoded when the event says so). */
export function bodyOfEvent(event: EventLike): Uint8Array | string {
  if (typeof event.body !== 'string') return '';
  return event.isBase64Encoded === true ? Buffer.from(event.body, 'base64') : event.body;
}
