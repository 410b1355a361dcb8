/**
 * Plain JSON <-> DynamoDB AttributeValue. Policy items are JSON (strings, numbers, booleans, lists,
 * maps), so this small codec stands in for @aws-sdk/util-dynamodb, which the project does not ship.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export function toAttribute(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot store ${value} in DynamoDB`);
      return { N: String(value) };
    case 'boolean':
      return { BOOL: value };
    case 'object':
      if (Array.isArray(value)) return { L: value.map(toAttribute) };
      return { M: toItem(value as Record<string, unknown>) };
    default:
      throw new TypeError(`cannot store a ${typeof value} in DynamoDB`);
  }
}

export function toItem(obj: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = toAttribute(v);
  return out;
}

export function fromAttribute(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.NULL !== undefined) return null;
  if (av.L !== undefined) return av.L.map(fromAttribute);
  if (av.M !== undefined) return fromItem(av.M);
  if (av.SS !== undefined) return [...av.SS];
  if (av.NS !== undefined) return av.NS.map(Number);
  return undefined;
}

export function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttribute(v);
  return out;
}
