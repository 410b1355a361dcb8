/**
 * The seal of a deploy-time policy snapshot: a digest of its items, written by synth after it checked
 * every item (infra/private/policy-registry.ts), and compared by the runtime before it trusts them.
 * A sealed snapshot's items are used without being checked again, so the layer a function loads for a
 * request that reads no table carries no item checker; a snapshot whose items no longer match its seal
 * (edited or damaged after synth) is not used at all.
 *
 * The digest is FNV-1a (32 bits) over the items' JSON: it detects a changed file, not a forger, who
 * could as well change the layer's code. No node:crypto on purpose: loading it costs a cold sandbox ~2 ms.
 * The items' JSON survives a round trip through the file unchanged (JSON.parse keeps the keys' order
 * and the numbers' values), so synth and runtime hash the same text.
 */

/** The hex digest a sealed snapshot carries in `itemsDigest`. */
export function snapshotDigest(items: readonly unknown[]): string {
  const text = JSON.stringify(items);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `fnv1a32:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** `snapshot` with its items sealed: what synth writes once it has checked every item. */
export function sealSnapshot<S extends { readonly items: readonly unknown[] }>(
  snapshot: S,
): S & { itemsDigest: string } {
  return { ...snapshot, itemsDigest: snapshotDigest(snapshot.items) };
}
