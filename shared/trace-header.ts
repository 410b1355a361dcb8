/**
 * The X-Ray trace header, `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1`, as the runtime and the
 * local mesh read and write it (AWS X-Ray Developer Guide, "AWS X-Ray concepts", section "Tracing
 * header"). One parser for both sides, so a header means the same thing wherever it is read.
 *
 * The sampling decision has three states: `Sampled=1`, `Sampled=0`, and none (no `Sampled` field, or
 * `Sampled=?`). A header without a decision asks the service that receives it to decide, by its own
 * sampling rules; the parser reports "none" as `sampled: undefined` and leaves the decision to the
 * caller, which knows which role it plays (see docs/observability.md, "Sampling").
 *
 * Keys are matched case-insensitively, as the AWS X-Ray SDK for Node.js does. node:crypto is required
 * when the first id is drawn: the runtime loads this file on the inbound path, which only parses
 * (loading node:crypto costs ~2 ms of a cold sandbox's first request).
 */
const randomBytes = (n: number): Buffer => (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);

/** A parsed header: `sampled` is undefined when the header carries no sampling decision. */
export interface TraceHeader {
  readonly root: string;
  readonly parent?: string;
  readonly sampled?: boolean;
}

/** A trace whose sampling is decided: what an invocation continues and what goes on the wire. */
export interface TraceContext extends TraceHeader {
  readonly sampled: boolean;
}

/** An X-Ray trace id: `1-` + epoch seconds as 8 hex digits + 24 random hex digits. */
export const TRACE_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
/** An X-Ray (sub)segment id: 16 hex digits. */
export const SEGMENT_ID_PATTERN = /^[0-9a-f]{16}$/;

/** The header's fields, or undefined when it has no valid Root. A malformed Parent is dropped. */
export function parseTraceHeader(text: string | undefined): TraceHeader | undefined {
  if (!text) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: boolean | undefined;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key === 'root') root = value;
    else if (key === 'parent') parent = value;
    else if (key === 'sampled') sampled = value === '1' ? true : value === '0' ? false : undefined;
  }
  if (!root || !TRACE_ID_PATTERN.test(root)) return undefined;
  return { root, parent: parent && SEGMENT_ID_PATTERN.test(parent) ? parent : undefined, sampled };
}

/** The header for a decided trace; the decision is always written, so the receiver never has to guess. */
export function formatTraceHeader(t: TraceContext): string {
  return `Root=${t.root}${t.parent ? `;Parent=${t.parent}` : ''};Sampled=${t.sampled ? 1 : 0}`;
}

/** A new trace id: `1-` + epoch seconds as 8 hex digits + 24 random hex digits. */
export function newTraceId(now = Date.now()): string {
  return `1-${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

/** Drawn on the first id: a file that bundles this module but makes no id allocates nothing at load. */
let pool: Buffer | undefined;
let offset = 0;

/** A new 16-hex (sub)segment id; random bytes are drawn in batches, so an id costs no system call. */
export function newSegmentId(): string {
  if (!pool || offset + 8 > pool.length) {
    pool = randomBytes(8 * 128);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 8);
  offset += 8;
  return id;
}

interface LambdaGlobal {
  readonly awslambda?: { readonly InvokeStore?: { getXRayTraceId?(): string | undefined } };
}

/**
 * The trace header Lambda gave the invocation being served. Where one process serves several
 * invocations at once (Lambda Managed Instances), the Node.js runtime keeps it per invocation in its
 * invoke store (`awslambda.InvokeStore`, an AsyncLocalStorage), and the process-wide _X_AMZN_TRACE_ID
 * speaks for no invocation in particular; elsewhere the variable is set per invocation.
 */
export function lambdaTraceHeader(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return (globalThis as LambdaGlobal).awslambda?.InvokeStore?.getXRayTraceId?.() ?? env._X_AMZN_TRACE_ID;
}
