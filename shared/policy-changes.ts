/**
 * The last policy changes, carried in the version item itself (`POLICY_VERSION.changes`), so a sandbox
 * that sees a bucket move can take the changed items from the read it makes anyway instead of querying
 * the changed partition: after a change to a service every sandbox touches, that Query from every
 * sandbox within one TTL is what a partition cannot serve (docs/scale.md, "A policy change").
 *
 * Each bump that knows its changed items adds one entry: its mark, the value each bucket it moved held
 * before it, and each changed item's value as read after that previous value (absent: deleted). A reader
 * whose copy of a service is filed under value `v` of its bucket follows the entries from `v` to the
 * bucket's current value and applies the service's changes; where the chain breaks (an entry dropped for
 * size, a bump that carried none), it queries as before. An entry too big for the version item goes to
 * the change items (change-items.ts), and the version carries a stub in its place: the mark and prev,
 * and where the changes are. Pure: the writer reads and writes (policy-version.ts), the reader applies
 * (functions/mesh/policy/policy-table-reader.ts).
 */

/** One changed item: its key, and its value after the change (undefined = deleted). */
export interface PolicyChange {
  readonly pk: string;
  readonly sk: string;
  readonly item?: Readonly<Record<string, unknown>>;
}

/** One bump's entry: the mark it set, each moved bucket's value before it (by attribute name), its changes. */
export interface ChangeEntry {
  readonly mark: number;
  readonly prev: Readonly<Record<string, number>>;
  readonly changes: readonly PolicyChange[];
}

/**
 * An entry whose changes are in the change items with sort key `changeItems`, not in the version item.
 * It has no `changes` list on purpose: a reader of an earlier release, which knows only full entries,
 * leaves it out, and its chain breaks there (it queries) instead of taking the stub for "no change".
 */
export interface ChangeStub {
  readonly mark: number;
  readonly prev: Readonly<Record<string, number>>;
  readonly changeItems: string;
}

/** What the version item's `changes` hold: full entries, and stubs of entries kept in the change items. */
export type VersionEntry = ChangeEntry | ChangeStub;

/** At most this many changed items are carried in the version item (a deploy's many go to the change items). */
export const MAX_CARRIED_CHANGES = 16;

/**
 * How deeply a carried item may nest, as its JSON does (the item's own braces are the first level). An
 * attribute's value may wrap 31 maps and lists ("Service, account, and table quotas in Amazon DynamoDB":
 * 32 levels), and the version item carries an item's attributes 5 levels down (`changes`, an entry, its
 * `changes`, a change, `item`): an item nested deeper than this fails every write that carries it,
 * DynamoDB refusing it as "Nesting Levels have exceeded supported limits". A policy item nests 3 levels.
 */
export const MAX_CARRIED_ITEM_DEPTH = 1 + 31 - 5;

/** What the entries may take of the version item, as JSON: the item stays one 4 KB read unit. */
export const CHANGES_MAX_BYTES = 2_000;

/** The changes of the version item (plain JSON); anything malformed is no change known (the reader queries). */
export function changeEntries(item: Readonly<Record<string, unknown>>, attribute: string): VersionEntry[] {
  const list = item[attribute];
  if (!Array.isArray(list)) return [];
  return list.filter((v) => isEntry(v) || isStub(v));
}

/** A full entry: a mark, the previous values, and a list of changed keys (plain JSON). */
export function isEntry(v: unknown): v is ChangeEntry {
  const e = v as ChangeEntry | undefined;
  return (
    hasMarkAndPrev(e) &&
    Array.isArray(e.changes) &&
    e.changes.every((c) => typeof c?.pk === 'string' && typeof c.sk === 'string')
  );
}

export function isStub(v: unknown): v is ChangeStub {
  const e = v as (ChangeStub & { changes?: unknown }) | undefined;
  return hasMarkAndPrev(e) && typeof e.changeItems === 'string' && e.changes === undefined;
}

function hasMarkAndPrev(v: unknown): v is Pick<ChangeEntry, 'mark' | 'prev'> {
  const e = v as { mark?: unknown; prev?: unknown } | undefined;
  return typeof e?.mark === 'number' && typeof e.prev === 'object' && e.prev !== null;
}

/**
 * The entries that lead from bucket value `seen` to `current` (the bucket's attribute `counter`), in
 * order; undefined when they do not lead there.
 */
export function pathSince(
  entries: readonly VersionEntry[],
  counter: string,
  seen: number,
  current: number,
): VersionEntry[] | undefined {
  const path: VersionEntry[] = [];
  for (let at = seen; at !== current; ) {
    const next = entries.find((e) => e.prev[counter] === at);
    if (!next || path.length >= entries.length) return undefined;
    path.push(next);
    at = next.mark;
  }
  return path;
}

/**
 * The changes to `service` from bucket value `seen` to `current`, in order; undefined when the entries
 * do not lead there, or a stub on the way was not replaced by its change items.
 */
export function changesSince(
  entries: readonly VersionEntry[],
  counter: string,
  service: string,
  seen: number,
  current: number,
): PolicyChange[] | undefined {
  const path = pathSince(entries, counter, seen, current);
  if (!path?.every(isEntry)) return undefined;
  return path.flatMap((e) => e.changes.filter((c) => c.pk === service));
}

/** Whether `entry` fits the version item on its own (withEntry keeps it): few items, and small. */
export function fitsVersionItem(entry: ChangeEntry): boolean {
  return entry.changes.length <= MAX_CARRIED_CHANGES && 3 + JSON.stringify(entry).length <= CHANGES_MAX_BYTES;
}

/** `items` (one partition's, plain JSON) with `changes` applied in order, by sort key. */
export function applyChanges(items: readonly unknown[], changes: readonly PolicyChange[]): unknown[] {
  const bySk = new Map<string, unknown>();
  for (const i of items) bySk.set(String((i as { sk?: unknown }).sk), i);
  for (const c of changes) {
    if (c.item) bySk.set(c.sk, c.item);
    else bySk.delete(c.sk);
  }
  return [...bySk.values()];
}

/** The entries after `entry` is added: the newest first kept while they fit CHANGES_MAX_BYTES. */
export function withEntry(entries: readonly VersionEntry[], entry: VersionEntry): VersionEntry[] {
  const out: VersionEntry[] = [];
  let bytes = 2;
  for (const e of [entry, ...[...entries].reverse()]) {
    bytes += JSON.stringify(e).length + 1;
    if (bytes > CHANGES_MAX_BYTES) break;
    out.unshift(e);
  }
  return out;
}

/**
 * Whether the version already announces the write that left `pk`/`sk` as `item` (undefined: deleted):
 * the newest entry that changed that key carries exactly that value (stubs replaced by their change
 * items first, change-items.ts `withChangeItems`). The table's stream then need not
 * bump again for it (functions/control/policy-stream.ts).
 *
 * Why a match is enough, though the same value may have been written twice (v1, v2, v1 again): each
 * entry's items are read after every entry before it was written (a bump reads the version first and
 * writes on condition that no bump came in between), and the stream delivers one key's writes in
 * order. If the matching entry had been read before this write, the write before this one (v2) came
 * after that read; its record was handled earlier (or in this batch) and did not match that same
 * newest entry, so it was bumped, and that bump's entry, newer, would be the one compared here.
 */
export function announces(
  entries: readonly VersionEntry[],
  pk: string,
  sk: string,
  item: Readonly<Record<string, unknown>> | undefined,
): boolean {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    // A stub whose change items were not found may name this key with another value: not announced.
    if (!isEntry(entry)) return false;
    const change = [...entry.changes].reverse().find((c) => c.pk === pk && c.sk === sk);
    if (change) return canonical(change.item) === canonical(item);
  }
  return false;
}

/** JSON with every object's keys sorted: two plain values compare equal when they hold the same data. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
