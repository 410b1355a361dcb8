/**
 * X-Ray trace headers (AWS-WIRE.md §7): `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1`.
 * Pure parsing and formatting; ids come from crypto.randomBytes in small batches (cheap per call).
 */
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  readonly root: string;
  readonly parent?: string;
  readonly sampled: boolean;
}

export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled = false;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 'Root') root = v;
    else if (k === 'Parent') parent = v;
    else if (k === 'Sampled') sampled = v === '1';
  }
  if (!root || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(root)) return undefined;
  if (parent !== undefined && !/^[0-9a-f]{16}$/.test(parent)) parent = undefined;
  return { root, parent, sampled };
}

export function formatTraceHeader(t: TraceContext): string {
  return `Root=${t.root}${t.parent ? `;Parent=${t.parent}` : ''};Sampled=${t.sampled ? 1 : 0}`;
}

let pool = Buffer.alloc(0);
let offset = 0;

/** A new 16-hex (sub)segment id. */
export function newSegmentId(): string {
  if (offset + 8 > pool.length) {
    pool = randomBytes(8 * 128);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 8);
  offset += 8;
  return id;
}
