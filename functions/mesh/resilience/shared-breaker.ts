/**
 * Shared breaker state: `breaker#<version>` items in the target's breaker partition
 * (`breaker#<target>`, apart from its policy so callers may write there and nowhere else), written
 * when one function's breaker opens so the other functions calling that target eject the version too
 * (Lambda runs many sandboxes; each alone sees only its own calls). Pure reading of the items.
 */

import { breakerPartition, CLOCK_SKEW_S, SORT_KEY, TABLE } from '../../../shared/names';
import type { BreakerStateItem } from '../../../shared/policy';

/**
 * The versions an open shared-breaker item ejects now: state 'open', opened less than `openMs`
 * ago, and not past its `ttl` (DynamoDB deletes expired items lazily, up to days later, so the
 * reader must check the TTL itself). An item opened later than now by more than the clock skew hosts
 * may have ejects nothing: it would eject the version until that future came, and no writer could
 * replace it (the writers' conditional put only moves `openedAt` forward).
 */
export function sharedEjected(
  items: ReadonlyMap<string, BreakerStateItem> | undefined,
  now: number,
  openMs: number,
): Set<string> {
  const out = new Set<string>();
  if (!items) return out;
  for (const [version, item] of items) {
    if (item.state !== 'open') continue;
    if (item.ttl !== undefined && item.ttl * 1000 <= now) continue;
    if (now - item.openedAt >= openMs || item.openedAt - now > CLOCK_SKEW_S * 1000) continue;
    out.add(version);
  }
  return out;
}

/** The item to write when a breaker opens (`ttl` in epoch seconds, a little after it would close). */
export function sharedBreakerItem(target: string, version: string, openedAt: number, openMs: number): BreakerStateItem {
  return {
    pk: breakerPartition(target),
    sk: SORT_KEY.breaker(version),
    version,
    state: 'open',
    openedAt,
    [TABLE.ttlAttribute]: Math.ceil((openedAt + openMs) / 1000) + 60,
  } as BreakerStateItem;
}
