/**
 * The deploy-time policy snapshot (`PolicySnapshot`, JSON at MESH_POLICY_SNAPSHOT): the items the
 * table held at deploy, so the first call of a cold function needs no table read.
 */
import { readFileSync } from 'node:fs';
import type { PolicySnapshot } from '../../../shared/policy-rules';

export interface LoadedSnapshot {
  /** Raw items by service (pk); validated later, item by item, like table items. */
  readonly byService: ReadonlyMap<string, readonly unknown[]>;
  readonly generatedAt?: string;
}

/** Groups a snapshot's raw items by service; items without a string pk are left out. */
export function groupSnapshot(snapshot: PolicySnapshot): LoadedSnapshot {
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
  return { byService, generatedAt: snapshot.generatedAt };
}

/**
 * Reads and groups the snapshot at `path`. Throws an error naming the path and the fix when the
 * file is missing or is not a snapshot; the cache then starts empty and reads the table.
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
  return groupSnapshot(parsed as PolicySnapshot);
}
