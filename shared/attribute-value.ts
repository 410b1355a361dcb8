/**
 * DynamoDB AttributeValue <-> plain JSON, for policy items: the one codec of the runtime, the CLI, the
 * policy seeder and the local mesh. A few lines instead of @aws-sdk/util-dynamodb (cold start).
 * Numbers become JS numbers (policy values are small); sets become arrays; binary stays Uint8Array.
 * No imports: the runtime loads it.
 */

export type AttributeValue = {
  S?: string;
  N?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
  B?: Uint8Array;
  BS?: Uint8Array[];
};

export function unmarshallValue(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.NULL !== undefined) return null;
  if (av.M !== undefined) return unmarshallItem(av.M);
  if (av.L !== undefined) return av.L.map(unmarshallValue);
  if (av.SS !== undefined) return [...av.SS];
  if (av.NS !== undefined) return av.NS.map(Number);
  if (av.B !== undefined) return av.B;
  if (av.BS !== undefined) return [...av.BS];
  throw new Error(
    `unsupported DynamoDB attribute value ${JSON.stringify(Object.keys(av))}; expected one of S, N, BOOL, NULL, M, L, SS, NS, B, BS`,
  );
}

/**
 * Every attribute becomes a field of its own: `fromEntries` defines each key, where an assignment to
 * `out['__proto__']` (an attribute name DynamoDB takes, and JSON.parse keeps) would set the item's
 * prototype, and the checks would then read the map's fields as the item's while its JSON hides them.
 * By its keys, not `([k, v])` over its entries: destructuring runs the iterator protocol, which a new
 * sandbox's first policy read would compile (0.19 M instructions).
 */
export function unmarshallItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(item).map((k) => [k, unmarshallValue(item[k]!)]));
}

/** Plain JSON -> AttributeValue (tests and tools writing policy items). */
export function marshallValue(v: unknown): AttributeValue {
  if (v === null || v === undefined) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot store ${v} in DynamoDB: numbers must be finite`);
    return { N: String(v) };
  }
  if (typeof v === 'boolean') return { BOOL: v };
  if (v instanceof Uint8Array) return { B: v };
  if (Array.isArray(v)) return { L: v.map(marshallValue) };
  if (typeof v === 'object') return { M: marshallItem(v as Record<string, unknown>) };
  throw new Error(`cannot store ${typeof v} in DynamoDB; use a string, number, boolean, list or map`);
}

export function marshallItem(obj: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = marshallValue(v);
  return out;
}
