/**
 * The deploy-time policy snapshot (`PolicySnapshot`, JSON at MESH_POLICY_SNAPSHOT): the items the
 * table held at deploy, so the first call of a cold function needs no table read. Synth seals the
 * items it checked (shared/snapshot-seal.ts); sealed items are used as they are, others are checked
 * item by item like table items, and a snapshot that breaks its seal is refused whole.
 *
 * A snapshot sealed per service (`partitions`) is not hashed whole: each service's seal is compared
 * when that service's items are first read, so a cold sandbox's first request hashes its own items,
 * not the whole mesh's.
 */
import { readFileSync } from 'node:fs';
import type { PolicySnapshot } from '../../../shared/policy-rules';
import { type SnapshotPartition, snapshotDigest } from '../../../shared/snapshot-seal';

export interface LoadedSnapshot {
  readonly generatedAt?: string;
  /** The items are the ones synth checked (their seal matches): nothing to check again. */
  readonly sealed: boolean;
  /** The services (pk) the snapshot holds items of, in the file's order. */
  readonly services: readonly string[];
  /**
   * The raw items of `service` (undefined: none); checked later, item by item, unless `sealed`. Throws,
   * naming the file and the fix, when they do not match the seal synth wrote for them.
   */
  itemsOf(service: string): readonly unknown[] | undefined;
}

/** How a snapshot changed after synth sealed it is told: what no longer matches, then the fix. */
function changedAfterSynth(where: string, what: string): Error {
  return new Error(
    `${where}: ${what}, so it was changed after cdk synth checked it and none of it is used; rebuild it with cdk synth`,
  );
}

/**
 * The raw items of a snapshot by service; items without a string pk are left out. Throws, naming
 * `where` and the fix, when the snapshot carries a seal its items do not match: the whole seal at
 * once, or, sealed per service, where the services' items are (each service's own seal is compared
 * by `itemsOf`).
 */
export function groupSnapshot(snapshot: PolicySnapshot, where = 'policy snapshot'): LoadedSnapshot {
  const items = snapshot.items ?? [];
  const partitions = snapshot.partitions;
  if (typeof partitions === 'object' && partitions !== null) return bySeal(items, partitions, snapshot, where);
  return byService(items, snapshot, where);
}

/**
 * A snapshot sealed whole (`itemsDigest`), or not sealed: its items grouped by service, the whole seal
 * compared first. Apart from `groupSnapshot`, which synth's snapshots never send here: a cold sandbox's
 * first request compiles none of it.
 */
function byService(items: readonly unknown[], snapshot: PolicySnapshot, where: string): LoadedSnapshot {
  const sealed = snapshot.itemsDigest !== undefined;
  if (sealed && snapshotDigest(items) !== snapshot.itemsDigest) {
    throw changedAfterSynth(
      where,
      `its items do not match the itemsDigest synth sealed them with (${String(snapshot.itemsDigest)})`,
    );
  }
  const byService = new Map<string, unknown[]>();
  for (const item of items) {
    const pk = typeof item === 'object' && item !== null ? (item as { pk?: unknown }).pk : undefined;
    if (typeof pk !== 'string') continue;
    let list = byService.get(pk);
    if (!list) {
      list = [];
      byService.set(pk, list);
    }
    list.push(item);
  }
  return {
    generatedAt: snapshot.generatedAt,
    sealed,
    services: [...byService.keys()],
    itemsOf: (service) => byService.get(service),
  };
}

/**
 * A snapshot sealed per service: its partitions must lay out `items` end to end, in order (what synth
 * wrote); a service's items are compared with their seal when first read, and cut out of `items` then.
 */
function bySeal(
  items: readonly unknown[],
  partitions: Readonly<Record<string, SnapshotPartition>>,
  snapshot: PolicySnapshot,
  where: string,
): LoadedSnapshot {
  const services = Object.keys(partitions);
  let next = 0;
  for (const service of services) {
    const p = partitions[service];
    if (p?.at !== next || !Number.isInteger(p.count) || p.count < 1) break;
    next += p.count;
  }
  if (next !== items.length) {
    throw changedAfterSynth(where, 'its items are not where the seals synth wrote for each service say');
  }
  const checked = new Map<string, readonly unknown[]>();
  return {
    generatedAt: snapshot.generatedAt,
    sealed: true,
    services,
    itemsOf(service) {
      const done = checked.get(service);
      if (done || !Object.hasOwn(partitions, service)) return done;
      const p = partitions[service]!;
      const own = items.slice(p.at, p.at + p.count);
      if (snapshotDigest(own) !== p.digest) {
        throw changedAfterSynth(
          where,
          `the items of ${service} do not match the seal synth wrote for them (${p.digest})`,
        );
      }
      checked.set(service, own);
      return own;
    },
  };
}

/**
 * Reads and groups the snapshot at `path`. Throws an error naming the path and the fix when the
 * file is missing, is not a snapshot or breaks its seal; the cache then starts empty and reads the table.
 */
export function loadSnapshot(path: string): LoadedSnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `policy snapshot ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        `check that the snapshot layer is attached or unset MESH_POLICY_SNAPSHOT`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`policy snapshot ${path} is not JSON (${(err as Error).message}); rebuild it with cdk synth`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as PolicySnapshot).items)) {
    throw new Error(`policy snapshot ${path} has no "items" array; expected { mesh, generatedAt, items: [...] }`);
  }
  return groupSnapshot(parsed as PolicySnapshot, `policy snapshot ${path}`);
}
