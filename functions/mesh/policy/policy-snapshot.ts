/**
 * The deploy-time policy snapshot (`PolicySnapshot`, JSON at MESH_POLICY_SNAPSHOT): the items the
 * table held at deploy, so the first call of a cold function needs no table read. Synth seals the
 * items it checked (shared/snapshot-seal.ts); sealed items are used as they are, others are checked
 * item by item like table items, and a snapshot that breaks its seal is refused whole.
 */
import { readFileSync } from 'node:fs';
import type { PolicySnapshot } from '../../../shared/policy-rules';
import { snapshotDigest } from '../../../shared/snapshot-seal';

export interface LoadedSnapshot {
  /** Raw items by service (pk); checked later, item by item, unless `sealed`. */
  readonly byService: ReadonlyMap<string, readonly unknown[]>;
  readonly generatedAt?: string;
  /** The items are the ones synth checked (their seal matches): nothing to check again. */
  readonly sealed: boolean;
}

/**
 * Groups a snapshot's raw items by service; items without a string pk are left out. Throws, naming
 * `where` and the fix, when the snapshot carries a seal its items do not match.
 */
export function groupSnapshot(snapshot: PolicySnapshot, where = 'policy snapshot'): LoadedSnapshot {
  const sealed = snapshot.itemsDigest !== undefined;
  if (sealed && snapshotDigest(snapshot.items ?? []) !== snapshot.itemsDigest) {
    throw new Error(
      `${where}: its items do not match the itemsDigest synth sealed them with (${String(snapshot.itemsDigest)}), ` +
        'so it was changed after cdk synth checked it and none of it is used; rebuild it with cdk synth',
    );
  }
  const byService = new Map<string, unknown[]>();
  for (const item of snapshot.items ?? []) {
    const pk = typeof item === 'object' && item !== null ? (item as { pk?: unknown }).pk : undefined;
    if (typeof pk !== 'string') continue;
    let list = byService.get(pk);
    if (!list) {
      list = [];
      byService.set(pk, list);
    }
    list.push(item);
  }
  return { byService, generatedAt: snapshot.generatedAt, sealed };
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
