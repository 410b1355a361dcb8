/**
 * Mesh metadata on the wire (shared/names MeshMetadata): read from an Invoke's ClientContext
 * (`custom.mesh`) or from `x-mesh-*` headers of an HTTP event (the base64 ClientContext of an
 * outbound Invoke is written by client-context.ts). Parsing is strict and never throws: a malformed field is
 * dropped, and metadata without a valid source counts as none (the caller is `external`).
 */
import { META, META_HEADER, type MeshMetadata, ROUTE_HEADERS, SERVICE_NAME_PATTERN } from '../../shared/names';
import { headerValue } from './header-value';

const MAX_IDK = 128;
const MAX_TRACE = 256;
const MAX_TOKEN = 3000;
const MAX_ATTEMPT = 100;
const TRACE_PATTERN = /^[\x20-\x7e]+$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Validates one metadata object (any shape in, MeshMetadata or undefined out). */
export function parseMetadata(raw: unknown): MeshMetadata | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.v !== 1 || typeof r.src !== 'string' || !SERVICE_NAME_PATTERN.test(r.src)) return undefined;
  const m: Mutable<MeshMetadata> = { v: 1, src: r.src };
  if (typeof r.tok === 'string' && r.tok.length > 0 && r.tok.length <= MAX_TOKEN) m.tok = r.tok;
  if (typeof r.dl === 'number' && Number.isFinite(r.dl) && r.dl > 0) m.dl = r.dl;
  if (typeof r.att === 'number' && Number.isInteger(r.att) && r.att >= 1 && r.att <= MAX_ATTEMPT) m.att = r.att;
  if (typeof r.idk === 'string' && r.idk.length > 0 && r.idk.length <= MAX_IDK) m.idk = r.idk;
  if (typeof r.trc === 'string' && r.trc.length <= MAX_TRACE && TRACE_PATTERN.test(r.trc)) m.trc = r.trc;
  if (r.mir === 1) m.mir = 1;
  if (typeof r.ch === 'string' && SERVICE_NAME_PATTERN.test(r.ch)) m.ch = r.ch;
  const rh = routeHeadersField(r.rh);
  if (rh) m.rh = rh;
  return m;
}

/** `rh`: at most ROUTE_HEADERS.maxHeaders lower-case names with string values, each within bounds. */
function routeHeadersField(raw: unknown): Record<string, string> | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (n === ROUTE_HEADERS.maxHeaders) break;
    if (typeof v !== 'string' || v.length > ROUTE_HEADERS.maxValueLength) continue;
    if (k.length > ROUTE_HEADERS.maxNameLength || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) continue;
    out[k] = v;
    n++;
  }
  return n > 0 ? out : undefined;
}

/**
 * The metadata of a Lambda `context.clientContext`. The Node runtime hands over the parsed JSON; a
 * string (a runtime that passes it raw, base64 or JSON) is decoded too.
 */
export function metadataFromClientContext(clientContext: unknown): MeshMetadata | undefined {
  let cc = clientContext;
  if (typeof cc === 'string') cc = decodeClientContext(cc);
  if (!cc || typeof cc !== 'object') return undefined;
  const c = cc as { custom?: unknown; Custom?: unknown };
  const custom = (c.custom ?? c.Custom) as Record<string, unknown> | undefined;
  if (!custom || typeof custom !== 'object') return undefined;
  let mesh = custom[META.clientContextKey];
  // Some clients stringify custom values (custom is documented as string -> string).
  if (typeof mesh === 'string') mesh = safeJson(mesh);
  return parseMetadata(mesh);
}

function decodeClientContext(s: string): unknown {
  const t = s.trim();
  if (t.startsWith('{')) return safeJson(t);
  return safeJson(Buffer.from(t, 'base64').toString('utf8'));
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Whether an event is an HTTP event (API Gateway REST/HTTP API, Function URL, ALB). */
export function isHttpEvent(
  event: unknown,
): event is { headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: boolean } {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    typeof e.headers === 'object' &&
    e.headers !== null &&
    (typeof e.requestContext === 'object' || typeof e.httpMethod === 'string' || typeof e.rawPath === 'string')
  );
}

/** The metadata carried in `x-mesh-*` headers (names matched case-insensitively). */
export function metadataFromHeaders(headers: Readonly<Record<string, unknown>> | undefined): MeshMetadata | undefined {
  if (!headers) return undefined;
  const get = (name: string) => headerValue(headers, name);
  const src = get(META_HEADER.source);
  if (src === undefined) return undefined;
  const num = (s: string | undefined) => (s !== undefined && /^\d{1,16}$/.test(s) ? Number(s) : undefined);
  return parseMetadata({
    v: 1,
    src,
    tok: get(META_HEADER.token),
    dl: num(get(META_HEADER.deadline)),
    att: num(get(META_HEADER.attempt)),
    idk: get(META_HEADER.idempotencyKey),
    trc: get(META_HEADER.trace),
  });
}

/**
 * The metadata a verified caller vouched for. A token of an older layer has no `ctx` claim: it binds
 * the request but not the mirror mark or the routing headers, so whoever replays it could change
 * those. They are dropped (as if absent) rather than refused, so old callers keep working while a
 * layer upgrade is under way; the attempt number stays, as it only reaches logs and metrics.
 */
export function vouchedMetadata(meta: MeshMetadata, contextBound: boolean | undefined): MeshMetadata {
  if (contextBound || (meta.mir === undefined && meta.rh === undefined)) return meta;
  const { mir: _mir, rh: _rh, ...rest } = meta;
  return rest;
}

/**
 * The bytes a JSON payload (an Invoke's, an envelope's) travelled as: JSON.stringify of the value the
 * runtime's JSON.parse made of them. Undefined for a value nested deeper than JSON.stringify writes back
 * (JSON.parse accepts an array 20,000 deep; JSON.stringify throws RangeError on it): no caller can have
 * signed such a request, since a caller signs the bytes JSON.stringify made, so the token check refuses
 * it rather than the serializer's error reaching the caller.
 */
export function jsonPayloadOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return undefined;
  }
}

/**
 * Whether an event is the mesh's envelope (an Event invoke, or an EventBridge detail): an object with
 * exactly the two keys `lambda-mesh` and `payload`. Checked on every invocation, so it looks at keys only.
 */
export function isEnvelope(event: unknown): event is Record<string, unknown> {
  if (!event || typeof event !== 'object' || !Object.hasOwn(event, META.envelopeKey)) return false;
  return Object.hasOwn(event, META.envelopePayloadKey) && Object.keys(event).length === 2 && !Array.isArray(event);
}

/**
 * The metadata and the caller's payload of an envelope (metadata undefined when malformed). A queued
 * message has no deadline, so a `dl` in an envelope is dropped: a synchronous call's token is bound to
 * its deadline and then never verifies here, where nonces are not claimed (Lambda delivers an event
 * again on a retry), so an envelope cannot replay a captured call.
 */
export function openEnvelope(envelope: Record<string, unknown>): { meta: MeshMetadata | undefined; payload: unknown } {
  const meta = parseMetadata(envelope[META.envelopeKey]) as Mutable<MeshMetadata> | undefined;
  if (meta) delete meta.dl;
  return { meta, payload: envelope[META.envelopePayloadKey] };
}

/**
 * Cheap and loose: whether an event may be a batch of records (SQS, SNS) or an EventBridge event. The
 * wrapper loads the code that recognises and checks them (async/event-sources.ts) only then.
 */
export function mayCarryRecords(event: unknown): boolean {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return Array.isArray(e.Records) || typeof e['detail-type'] === 'string';
}

/** Reads the metadata of one invocation: ClientContext first, then HTTP headers. */
export function readMetadata(
  event: unknown,
  context: { clientContext?: unknown } | undefined,
): MeshMetadata | undefined {
  const fromCc = metadataFromClientContext(context?.clientContext);
  if (fromCc) return fromCc;
  if (isHttpEvent(event)) return metadataFromHeaders(event.headers);
  return undefined;
}

/** The `x-mesh-*` headers of outbound HTTP calls. */
export function metadataHeaders(meta: Partial<MeshMetadata> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.src) out[META_HEADER.source] = meta.src;
  if (meta.tok) out[META_HEADER.token] = meta.tok;
  if (meta.dl !== undefined) out[META_HEADER.deadline] = String(Math.floor(meta.dl));
  if (meta.att !== undefined) out[META_HEADER.attempt] = String(meta.att);
  if (meta.idk) out[META_HEADER.idempotencyKey] = meta.idk;
  if (meta.trc) out[META_HEADER.trace] = meta.trc;
  return out;
}
