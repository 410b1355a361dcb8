/**
 * Builds a trace tree out of X-Ray segment documents that arrive in any order (AWS X-Ray Developer
 * Guide, "AWS X-Ray segment documents"): a segment may carry nested `subsegments`, a subsegment may
 * be sent alone (`type: "subsegment"`, `parent_id`), an `in_progress` document is replaced by its
 * finished copy with the same id. The local mesh's collector and the CLI's X-Ray reader both use it.
 */
import { SEGMENT_ID_PATTERN, TRACE_ID_PATTERN } from '../trace-header';
import { type TraceMarks, traceMarks } from './trace-outcome';

/** A flat value for an X-Ray annotation. */
export type Annotation = string | number | boolean;

/** One node of a trace: a segment or a subsegment. Times are epoch ms. */
export interface TraceSpan {
  readonly id: string;
  readonly parentId: string | undefined;
  readonly name: string;
  /** 'segment' (a function or service) or 'subsegment' (a call or step inside one). */
  readonly kind: 'segment' | 'subsegment';
  readonly origin: string | undefined;
  readonly namespace: string | undefined;
  readonly start: number;
  /** undefined while in progress. */
  readonly end: number | undefined;
  readonly durationMs: number | undefined;
  readonly inProgress: boolean;
  readonly error: boolean;
  readonly fault: boolean;
  readonly throttle: boolean;
  readonly httpStatus: number | undefined;
  readonly annotations: Readonly<Record<string, Annotation>>;
  /** Depth in the tree, 0 for roots. */
  readonly depth: number;
  readonly children: TraceSpan[];
}

export interface Trace {
  readonly id: string;
  /** Epoch ms of the earliest span. */
  readonly start: number;
  /** Epoch ms of the latest end (or start, for spans still in progress). */
  readonly end: number;
  readonly durationMs: number;
  /** Spans without a known parent (normally one: the entry function's segment). */
  readonly roots: TraceSpan[];
  readonly spanCount: number;
  /** Names of the segments (services/functions) the trace crossed, in order of first start. */
  readonly services: string[];
  /** Any span is marked error (the summary's `error` is the root's alone, as X-Ray's). */
  readonly error: boolean;
  /** Any span is marked fault (the summary's `fault` is the root's alone, as X-Ray's). */
  readonly fault: boolean;
  /**
   * Every hop has arrived: one root, a segment (the entry function), and no span still in progress.
   * While a call is under way its callees' segments hang under a missing parent, or the entry's own
   * segment is still in progress.
   */
  readonly complete: boolean;
}

/** The one-line view of a trace: its marks as X-Ray's trace summary gives them, and its outcome. */
export interface TraceSummary extends TraceMarks {
  readonly id: string;
  readonly start: number;
  readonly durationMs: number;
  readonly root: string;
  readonly services: string[];
  readonly spanCount: number;
  /** Every hop arrived and the trace has been quiet for a moment (see TelemetryStore). */
  readonly complete: boolean;
}

/** A (sub)segment document flattened out of its parent: children are linked by parent id. */
export interface FlatDoc {
  readonly id: string;
  readonly traceId: string;
  readonly parentId: string | undefined;
  readonly kind: 'segment' | 'subsegment';
  readonly doc: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type FlattenResult = { ok: true; docs: FlatDoc[] } | { ok: false; reason: string };

/**
 * A time in epoch seconds that a Date holds (at most 8.64e12 s either side of 1970). Any function may
 * send segments to the daemon's address; JSON's 1e400 parses as Infinity, and a start that is no date
 * ended `mesh trace` with a RangeError where it prints the trace's start.
 */
function isEpochSeconds(v: unknown): v is number {
  return typeof v === 'number' && !Number.isNaN(new Date(v * 1000).getTime());
}

/**
 * Validates one document and flattens it with its nested subsegments. Nested subsegments inherit the
 * trace id and take the containing document as parent.
 */
export function flattenSegment(input: unknown): FlattenResult {
  if (!isRecord(input)) return { ok: false, reason: 'segment is not a JSON object' };
  const traceId = input.trace_id;
  if (typeof traceId !== 'string' || !TRACE_ID_PATTERN.test(traceId)) {
    return { ok: false, reason: `trace_id must look like 1-<8 hex>-<24 hex>, got ${JSON.stringify(traceId)}` };
  }
  const docs: FlatDoc[] = [];
  const walk = (
    d: Record<string, unknown>,
    parentId: string | undefined,
    kind: 'segment' | 'subsegment',
  ): string | undefined => {
    if (typeof d.id !== 'string' || !SEGMENT_ID_PATTERN.test(d.id))
      return `segment id must be 16 hex digits, got ${JSON.stringify(d.id)}`;
    if (typeof d.name !== 'string' || d.name.length === 0) return `segment ${d.id} has no name`;
    if (!isEpochSeconds(d.start_time)) return `segment ${d.id} has no start_time a date holds`;
    if (typeof d.end_time === 'number' ? !isEpochSeconds(d.end_time) : d.in_progress !== true)
      return `segment ${d.id} needs end_time (a date) or in_progress`;
    const { subsegments, ...rest } = d;
    docs.push({ id: d.id, traceId, parentId, kind, doc: rest });
    if (Array.isArray(subsegments)) {
      for (const s of subsegments) {
        if (!isRecord(s)) return `segment ${d.id} has a subsegment that is not an object`;
        const err = walk(s, d.id, 'subsegment');
        if (err) return err;
      }
    }
    return undefined;
  };
  const kind = input.type === 'subsegment' ? 'subsegment' : 'segment';
  const parentId = typeof input.parent_id === 'string' ? input.parent_id : undefined;
  if (kind === 'subsegment' && !parentId) return { ok: false, reason: 'a subsegment sent alone needs parent_id' };
  const err = walk(input, parentId, kind);
  if (err) return { ok: false, reason: err };
  return { ok: true, docs };
}

function annotationsOf(doc: Record<string, unknown>): Record<string, Annotation> {
  const out: Record<string, Annotation> = {};
  if (isRecord(doc.annotations)) {
    for (const [k, v] of Object.entries(doc.annotations)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
  }
  return out;
}

function statusOf(doc: Record<string, unknown>): number | undefined {
  const http = doc.http;
  if (isRecord(http) && isRecord(http.response) && typeof http.response.status === 'number')
    return http.response.status;
  return undefined;
}

type MutableSpan = { -readonly [K in keyof TraceSpan]: TraceSpan[K] };

/** Assembles the documents of one trace (latest copy per id) into a tree. */
export function assembleTrace(traceId: string, docs: Iterable<FlatDoc>): Trace | undefined {
  const byId = latestCopies(docs);
  if (byId.size === 0) return undefined;
  const spans = new Map<string, MutableSpan>();
  for (const f of byId.values()) spans.set(f.id, spanOf(f));
  const roots = linkTree(spans);
  const order: MutableSpan[] = [];
  const visit = (s: MutableSpan, depth: number) => {
    s.depth = depth;
    order.push(s);
    s.children.sort(byStart);
    for (const c of s.children) visit(c as MutableSpan, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  const start = Math.min(...order.map((s) => s.start));
  const end = Math.max(...order.map((s) => s.end ?? s.start));
  const services: string[] = [];
  for (const s of [...order].sort(byStart)) {
    if (s.kind === 'segment' && !services.includes(s.name)) services.push(s.name);
  }
  return {
    id: traceId,
    start,
    end,
    durationMs: Math.round((end - start) * 1000) / 1000,
    roots,
    spanCount: order.length,
    services,
    error: order.some((s) => s.error),
    fault: order.some((s) => s.fault),
    complete: roots.length === 1 && roots[0]!.kind === 'segment' && order.every((s) => !s.inProgress),
  };
}

/** One document per id: a finished document wins over an in-progress one whatever the arrival order. */
function latestCopies(docs: Iterable<FlatDoc>): Map<string, FlatDoc> {
  const byId = new Map<string, FlatDoc>();
  for (const d of docs) {
    const prev = byId.get(d.id);
    if (prev && prev.doc.in_progress !== true && d.doc.in_progress === true) continue;
    byId.set(d.id, d);
  }
  return byId;
}

function spanOf(f: FlatDoc): MutableSpan {
  const d = f.doc;
  const start = (d.start_time as number) * 1000;
  const end = typeof d.end_time === 'number' ? d.end_time * 1000 : undefined;
  return {
    id: f.id,
    parentId: f.parentId,
    name: d.name as string,
    kind: f.kind,
    origin: typeof d.origin === 'string' ? d.origin : undefined,
    namespace: typeof d.namespace === 'string' ? d.namespace : undefined,
    start,
    end,
    durationMs: end === undefined ? undefined : Math.round((end - start) * 1000) / 1000,
    inProgress: end === undefined,
    error: d.error === true,
    fault: d.fault === true,
    throttle: d.throttle === true,
    httpStatus: statusOf(d),
    annotations: annotationsOf(d),
    depth: 0,
    children: [],
  };
}

/** Hangs each span under its parent; the roots, in start order. */
function linkTree(spans: ReadonlyMap<string, MutableSpan>): MutableSpan[] {
  const roots: MutableSpan[] = [];
  const parentOf = new Map<string, MutableSpan>();
  for (const s of spans.values()) {
    const parent = s.parentId ? spans.get(s.parentId) : undefined;
    // A parent link that closes a cycle (bad or hostile input) is dropped: the span becomes a root.
    let up = parent;
    while (up && up !== s) up = parentOf.get(up.id);
    if (parent && up !== s) {
      parentOf.set(s.id, parent);
      parent.children.push(s);
    } else roots.push(s);
  }
  return roots.sort(byStart);
}

function byStart(a: TraceSpan, b: TraceSpan): number {
  return a.start - b.start || a.id.localeCompare(b.id);
}

/**
 * One trace out of its raw documents, objects or JSON text (what X-Ray's BatchGetTraces returns as
 * `Segments[].Document`); documents that are malformed or of another trace are left out.
 */
export function traceFromDocuments(traceId: string, documents: Iterable<unknown>): Trace | undefined {
  const docs: FlatDoc[] = [];
  for (const d of documents) {
    let input = d;
    if (typeof d === 'string') {
      try {
        input = JSON.parse(d);
      } catch {
        continue;
      }
    }
    const flat = flattenSegment(input);
    if (flat.ok) docs.push(...flat.docs.filter((f) => f.traceId === traceId));
  }
  return assembleTrace(traceId, docs);
}

/** The one-line view of a trace that lists show. */
export function summarize(t: Trace, settled = true): TraceSummary {
  const complete = t.complete && settled;
  return {
    id: t.id,
    start: t.start,
    durationMs: t.durationMs,
    root: t.roots[0]?.name ?? '',
    services: t.services,
    spanCount: t.spanCount,
    ...traceMarks({ roots: t.roots, complete }),
    complete,
  };
}
