/**
 * A policy cache for unit tests: no snapshot, no log, its table a client the test holds, its time a clock
 * the test moves, and (where given) its randomness a sequence the test picks and its other options.
 */
import { PolicyCache, type PolicyCacheOptions, type PolicyTableClient } from '../../functions/mesh/policy/policy-cache';

export function clockedPolicyCache(
  client: PolicyTableClient,
  clock: { now: number },
  ttlMs: number,
  random?: () => number,
  options: PolicyCacheOptions = {},
): PolicyCache {
  return new PolicyCache({
    tableName: 'shop-policy',
    snapshotPath: null,
    ttlMs,
    now: () => clock.now,
    client,
    ...(random ? { random } : {}),
    log: () => undefined,
    ...options,
  });
}
