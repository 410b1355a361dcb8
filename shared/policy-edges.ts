/**
 * Pure: who may call whom, as the policy table's allow and deny items say it — the table `mesh status`
 * prints and the local dashboard draws. A deny wins over an allow; a pair with neither is no edge, and
 * its calls are refused by default. Items that fail the schema are left out, as the runtime leaves them out.
 */
import { TABLE } from './names';
import { parsePolicyItem } from './policy';

export interface EdgeSummary {
  readonly from: string;
  readonly to: string;
  /** `denied` when a deny item exists, whether or not an allow does (deny wins). */
  readonly state: 'allowed' | 'denied';
  readonly managedBy: string;
  readonly reason?: string;
}

type Item = Readonly<Record<string, unknown>>;

export function policyEdges(items: readonly Item[]): EdgeSummary[] {
  const allows = new Map<string, Item>();
  const denies = new Map<string, Item>();
  for (const item of items) {
    const res = parsePolicyItem(item);
    if (!res.ok || (res.kind !== 'allow' && res.kind !== 'deny')) continue;
    const key = `${String(item.source)}\u0000${String(item[TABLE.partitionKey])}`;
    (res.kind === 'allow' ? allows : denies).set(key, item);
  }
  const edges: EdgeSummary[] = [];
  for (const key of new Set([...allows.keys(), ...denies.keys()])) {
    const [from, to] = key.split('\u0000') as [string, string];
    const deny = denies.get(key);
    const src = deny ?? allows.get(key)!;
    edges.push({
      from,
      to,
      state: deny ? 'denied' : 'allowed',
      managedBy: String(src.managedBy ?? '-'),
      ...(typeof deny?.reason === 'string' ? { reason: deny.reason } : {}),
    });
  }
  return edges.sort((a, b) => `${a.to} ${a.from}`.localeCompare(`${b.to} ${b.from}`));
}
