/**
 * The routing headers of an invocation (shared/names.ts ROUTE_HEADERS): the headers of an inbound
 * HTTP request, or those a mesh caller carried on (metadata `rh`), that route items of this
 * invocation's outbound calls may match on (`matches`, `sticky`). Only allow-listed names: a prefix,
 * and the names MESH_ROUTE_HEADERS lists. Bounded, so the ClientContext stays under Lambda's cap.
 * Pure.
 */
import { ROUTE_HEADERS } from '../../../shared/names';

export type RouteHeaders = Readonly<Record<string, string>>;

const NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** The extra names of MESH_ROUTE_HEADERS (comma-separated, any case), lower-cased. */
export function parseRouteHeaderNames(raw: string | undefined): ReadonlySet<string> {
  const names = (raw ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n && NAME.test(n));
  return new Set(names);
}

/** Whether a (lower-case) header name is a routing header. */
export function isRouteHeader(name: string, extra: ReadonlySet<string>): boolean {
  return (name.startsWith(ROUTE_HEADERS.prefix) || extra.has(name)) && NAME.test(name);
}

/**
 * The routing headers among `headers` (names matched in any case, stored lower-case; a repeated
 * header by its first value), within the bounds; undefined when there are none.
 */
export function routeHeadersOf(
  headers: Readonly<Record<string, unknown>> | undefined,
  extra: ReadonlySet<string>,
): RouteHeaders | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  let out: Record<string, string> | undefined;
  let count = 0;
  for (const key of Object.keys(headers)) {
    const name = key.toLowerCase();
    if (name.length > ROUTE_HEADERS.maxNameLength || !isRouteHeader(name, extra)) continue;
    let v = headers[key];
    if (Array.isArray(v)) v = v[0];
    if (typeof v !== 'string' || v.length > ROUTE_HEADERS.maxValueLength) continue;
    out ??= {};
    if (!(name in out)) {
      if (count === ROUTE_HEADERS.maxHeaders) break;
      count++;
    }
    out[name] = v;
  }
  return out;
}

/** The invocation's routing headers with a call's own headers over them (the call's win). */
export function mergeRouteHeaders(
  invocation: RouteHeaders | undefined,
  call: Readonly<Record<string, string | readonly string[] | undefined>> | undefined,
): Readonly<Record<string, string | readonly string[] | undefined>> | undefined {
  if (!call) return invocation;
  if (!invocation) return call;
  return { ...invocation, ...call };
}
