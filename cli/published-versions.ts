/**
 * A route item may only name versions Lambda has published: a weight, a header match or a mirror on
 * a version that does not exist makes every call drawn to it fail with ResourceNotFoundException.
 * `mesh policy set` refuses such an item before writing; `mesh check` re-checks the stored ones.
 * Pure: the published versions come from ListVersionsByFunction.
 */
import { SORT_KEY, TABLE } from '../shared/names';

/** A stored item, as read (the same shape as policy-plan.ts RawItem). */
type RawItem = Readonly<Record<string, unknown>>;

/** A version a route item names, with the field that names it (`weights.7`, `matches.0.version`, `mirror.version`). */
export interface VersionRef {
  readonly field: string;
  readonly version: string;
}

/** Every version a raw route item names (any other item names none). */
export function versionRefs(item: RawItem): VersionRef[] {
  if (item[TABLE.sortKey] !== SORT_KEY.route) return [];
  const refs: VersionRef[] = [];
  const weights = item.weights;
  if (weights && typeof weights === 'object' && !Array.isArray(weights)) {
    for (const v of Object.keys(weights)) refs.push({ field: `weights.${v}`, version: v });
  }
  if (Array.isArray(item.matches)) {
    item.matches.forEach((m, i) => {
      const v = (m as { version?: unknown } | null)?.version;
      if (typeof v === 'string') refs.push({ field: `matches.${i}.version`, version: v });
    });
  }
  const mirror = (item.mirror as { version?: unknown } | undefined)?.version;
  if (typeof mirror === 'string') refs.push({ field: 'mirror.version', version: mirror });
  return refs;
}

/**
 * The versions of a route item that are not published, as one message naming each field and the
 * published versions; undefined when every named version is published.
 */
export function unpublishedVersions(
  item: RawItem,
  published: readonly string[],
  functionName: string,
): string | undefined {
  const bad = versionRefs(item).filter((r) => !published.includes(r.version));
  if (bad.length === 0) return undefined;
  const where = `${String(item[TABLE.partitionKey])}/${String(item[TABLE.sortKey])}`;
  const list = bad.map((r) => `${r.field} names version ${JSON.stringify(r.version)}`).join(', ');
  return (
    `${where}: ${list}, which ${bad.length > 1 ? 'are' : 'is'} not published; ` +
    `published versions of ${functionName}: ${published.join(', ') || 'none'} (never $LATEST)`
  );
}
