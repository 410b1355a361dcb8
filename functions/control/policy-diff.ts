/**
 * The policy seeder's decisions, pure: which deploy-time items a `Custom::MeshPolicy` event writes,
 * which it writes again where they went missing, and which it removes. The seeder (policy-seeder.ts) turns the plan into conditional writes, so an
 * item an operator owns is never overwritten or removed even when its key matches, but for the allow
 * items that name a service the update removes: the grant goes with the service.
 */
import { canonicalJson } from '../../shared/canonical-json';
import { MANAGED_BY, SORT_KEY } from '../../shared/names';
import { type PolicyItem, parsePolicyItem } from '../../shared/policy';

export type RequestType = 'Create' | 'Update' | 'Delete';

/** The (pk, sk) of an item. */
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export interface SeedPlan {
  /** Items to write (new or changed), each with managedBy "deploy". */
  readonly puts: readonly PolicyItem[];
  /** Keys of deploy items to remove (dropped from the declaration, or the resource is deleted). */
  readonly deletes: readonly ItemKey[];
  /**
   * Unchanged declared items, written again only where the key is free: a deploy item an operator
   * deleted (`mesh policy delete --force`) comes back with the next deploy that updates the policy.
   */
  readonly restores: readonly PolicyItem[];
  /**
   * Keys of the allow items that name a service this update removes, in every partition it keeps,
   * whoever wrote them (removed unconditionally). An identity is a name: such a grant would let in the
   * certificate the removed service left behind, until it expires, and any later service of that name.
   */
  readonly revokes: readonly ItemKey[];
}

/**
 * Parses the `Items` property (a JSON string of an array). Throws an error naming the bad item
 * and field; an item not marked managedBy "deploy" is refused, since the seeder may only own those.
 */
export function parseItems(raw: unknown): PolicyItem[] {
  if (raw === undefined || raw === '') return [];
  let list: unknown;
  try {
    list = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (err) {
    throw new Error(`Items is not JSON (${(err as Error).message}); it must be a JSON array of policy items`);
  }
  if (!Array.isArray(list)) throw new Error('Items must be a JSON array of policy items');
  const seen = new Set<string>();
  return list.map((item, i) => {
    const res = parsePolicyItem(item);
    if (!res.ok) throw new Error(`Items[${i}]: ${res.error}`);
    if (res.item.managedBy !== MANAGED_BY.deploy) {
      throw new Error(
        `Items[${i}] ${res.item.pk}/${res.item.sk}: managedBy must be "${MANAGED_BY.deploy}" for deploy-time items`,
      );
    }
    const key = keyString(res.item);
    if (seen.has(key))
      throw new Error(`Items[${i}] ${res.item.pk}/${res.item.sk} appears twice; declare each item once`);
    seen.add(key);
    return res.item;
  });
}

/**
 * What to do for one event. Create writes everything; Update writes new and changed items and
 * removes the dropped ones (a different table = a fresh Create there; CloudFormation then deletes
 * the old resource); Delete removes everything the resource declared.
 */
export function planSeed(
  requestType: RequestType,
  items: readonly PolicyItem[],
  oldItems: readonly PolicyItem[] = [],
  tableChanged = false,
): SeedPlan {
  switch (requestType) {
    case 'Create':
      return { puts: [...items], deletes: [], restores: [], revokes: [] };
    case 'Delete':
      return { puts: [], deletes: items.map(keyOf), restores: [], revokes: [] };
    case 'Update': {
      if (tableChanged) return { puts: [...items], deletes: [], restores: [], revokes: [] };
      const before = new Map(oldItems.map((it) => [keyString(it), canonicalJson(it)]));
      const after = new Set(items.map(keyString));
      const changed = (it: PolicyItem) => before.get(keyString(it)) !== canonicalJson(it);
      return {
        puts: items.filter(changed),
        deletes: oldItems.filter((it) => !after.has(keyString(it))).map(keyOf),
        restores: items.filter((it) => !changed(it)),
        revokes: grantsToRemovedServices(items, oldItems),
      };
    }
    default:
      throw new Error(`unknown RequestType ${JSON.stringify(requestType)}; expected Create, Update or Delete`);
  }
}

/**
 * The allow items naming a service the previous declaration had (its `service` item) and this one does
 * not, in each partition this one declares items for; a key still declared is left to the puts.
 */
function grantsToRemovedServices(items: readonly PolicyItem[], oldItems: readonly PolicyItem[]): ItemKey[] {
  const services = (list: readonly PolicyItem[]) =>
    new Set(list.filter((it) => it.sk === SORT_KEY.service).map((it) => it.pk));
  const kept = services(items);
  const removed = [...services(oldItems)].filter((s) => !kept.has(s));
  const declared = new Set(items.map(keyString));
  return [...new Set(items.map((it) => it.pk))]
    .flatMap((pk) => removed.map((source) => ({ pk, sk: SORT_KEY.allow(source) })))
    .filter((key) => !declared.has(keyString(key)));
}

export function keyOf(item: ItemKey): ItemKey {
  return { pk: item.pk, sk: item.sk };
}

function keyString(item: ItemKey): string {
  return `${item.pk}\u0000${item.sk}`;
}
