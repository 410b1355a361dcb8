/**
 * The seal of a deploy-time policy snapshot: a digest of its items, written by synth after it checked
 * every item (infra/private/policy-registry.ts), and compared by the runtime before it trusts them.
 * A sealed snapshot's items are used without being checked again, so the layer a function loads for a
 * request that reads no table carries no item checker; a snapshot whose items no longer match its seal
 * (edited or damaged after synth) is not used at all.
 *
 * Synth also seals each service's items on their own (`partitions`: where they are in `items`, and
 * their digest), and the runtime compares only the seals of the services it reads, when it first
 * reads them: hashing a 50-service mesh's whole snapshot cost a cold sandbox's first request ~3 ms.
 * `itemsDigest`, over all of them, stays for readers that compare the whole.
 *
 * The digest is FNV-1a (32 bits) over the items' JSON: it detects a changed file, not a forger, who
 * could as well change the layer's code. No node:crypto on purpose: loading it costs a cold sandbox ~2 ms.
 * The items' JSON survives a round trip through the file unchanged (JSON.parse keeps the keys' order
 * and the numbers' values), so synth and runtime hash the same text.
 */

/** Where one service's items are in a sealed snapshot's `items`, and their seal. */
export interface SnapshotPartition {
  /** Index of its first item. */
  readonly at: number;
  readonly count: number;
  /** `snapshotDigest` of `items.slice(at, at + count)`. */
  readonly digest: string;
}

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

/**
 * `snapshot` with its items sealed: what synth writes once it has checked every item. The items are
 * grouped by service (pk), each service's in their order, so each service's are one run of `items`.
 */
export function sealSnapshot<S extends { readonly items: readonly unknown[] }>(
  snapshot: S,
): S & { itemsDigest: string; partitions: Record<string, SnapshotPartition> } {
  const byService = new Map<string, unknown[]>();
  for (const item of snapshot.items) {
    const pk = (item as { pk?: unknown } | null)?.pk;
    if (typeof pk !== 'string') {
      throw new Error(
        `sealSnapshot: every item needs a string pk (the service it belongs to); got ${JSON.stringify(item)}`,
      );
    }
    const list = byService.get(pk) ?? [];
    list.push(item);
    byService.set(pk, list);
  }
  const items = [...byService.values()].flat();
  const partitions: Record<string, SnapshotPartition> = {};
  let at = 0;
  for (const [pk, list] of byService) {
    partitions[pk] = { at, count: list.length, digest: snapshotDigest(list) };
    at += list.length;
  }
  return { ...snapshot, items, itemsDigest: snapshotDigest(items), partitions };
}
