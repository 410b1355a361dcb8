/**
 * An item's size as DynamoDB counts it for capacity: what a read or a write of it is billed, and what the
 * change items (change-items.ts) are kept under. No imports: the runtime's table reader loads it.
 */
import type { AttributeValue } from './attribute-value';

/**
 * Each attribute's name in UTF-8 plus its value: a string's UTF-8 bytes, a number's 1 byte per two
 * significant digits plus 1, a boolean or null 1, a map or list 3 plus its elements (1 more per element)
 * ("DynamoDB item sizes and formats", Amazon DynamoDB Developer Guide).
 */
export function itemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name) + valueBytes(v);
  return n;
}

export function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.M !== undefined) return 3 + itemBytes(v.M) + Object.keys(v.M).length;
  if (v.L !== undefined) return 3 + v.L.reduce((a, e) => a + 1 + valueBytes(e), 0);
  if (v.SS !== undefined) return v.SS.reduce((a, s) => a + Buffer.byteLength(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, s) => a + numberBytes(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((a, b) => a + b.length, 0);
  return 1;
}

function numberBytes(n: string): number {
  return Math.ceil(n.replace(/^-|\.|^0+|0+$/g, '').length / 2) + 1;
}

/**
 * Read units of a read that answers `bytes`: 4 KB steps, an eventually consistent read half a unit
 * ("DynamoDB read and write operations", Amazon DynamoDB Developer Guide).
 */
export function readUnits(bytes: number, consistent: boolean): number {
  return Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
}
