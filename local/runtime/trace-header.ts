/** X-Ray trace headers (AWS-WIRE §7): `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1`. */
import { randomBytes } from 'node:crypto';

export interface TraceHeader {
  readonly root: string;
  readonly parent?: string;
  readonly sampled: boolean;
}

export function parseTraceHeader(text: string | undefined): TraceHeader | undefined {
  if (!text) return undefined;
  const parts = new Map<string, string>();
  for (const p of text.split(';')) {
    const i = p.indexOf('=');
    if (i > 0) parts.set(p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim());
  }
  const root = parts.get('root');
  if (!root || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(root)) return undefined;
  const parent = parts.get('parent');
  return {
    root,
    parent: parent && /^[0-9a-f]{16}$/.test(parent) ? parent : undefined,
    sampled: parts.get('sampled') !== '0',
  };
}

export function newTraceId(now = Date.now()): string {
  return `1-${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

export function newSegmentId(): string {
  return randomBytes(8).toString('hex');
}

export function formatTraceHeader(h: TraceHeader): string {
  return `Root=${h.root}${h.parent ? `;Parent=${h.parent}` : ''};Sampled=${h.sampled ? 1 : 0}`;
}
