/**
 * The policy cache's table half (policy-cache.ts): what a sandbox runs once its copies come from the
 * table, required on the first table read, so a sandbox whose deploy-time snapshot is fresh, or that has
 * no table, never loads it (the layer's policy-table-query.js, build.ts).
 *
 * - Revalidation: every writer bumps the mesh-wide policy version (shared/policy-version.ts) after its
 *   writes. One eventually consistent GetItem of a random shard confirms every copy whose service's
 *   counter has not moved; only a service whose counter moved (or whose copy came from the snapshot) is
 *   queried again, unless the version carries its changes: in the item itself, or (a deploy's) in the
 *   change items a stub points to, one of them read from a random shard, and on a miss one other
 *   (shared/change-items.ts). A
 *   confirmation counts as of VERSION_READ_LAG_MS before the read was sent: an eventually consistent
 *   read may miss a write of the last second (Amazon DynamoDB Developer Guide, "Read consistency"). No
 *   version item (a table no writer of this release has touched): every revalidation is a Query.
 * - A copy read from the table is as old as the moment its Query went out (a consistent read sees every
 *   write finished before it).
 * - Fail static: on a failed read the last good copy stays and the next read waits one TTL; after
 *   throttling, a jittered backoff that doubles with each throttled read in a row (counted as
 *   policy_read_throttled_total), so throttled sandboxes spread out instead of retrying together.
 */
import { changeItemKey, entryOfItem, withChangeItems } from '../../../shared/change-items';
import { breakerPartition, POLICY_VERSION } from '../../../shared/names';
import {
  applyChanges,
  type ChangeEntry,
  type ChangeStub,
  changeEntries,
  changesSince,
  isStub,
  pathSince,
  type VersionEntry,
} from '../../../shared/policy-changes';
import { checkPolicyItem } from '../../../shared/policy-item-check';
import { bucketOf, versionCounters, versionKey } from '../../../shared/policy-version';
import type { CacheEntry, PolicyCache, PolicyCacheOptions } from './policy-cache';
import { type PolicyTableReads, policyTableReads } from './policy-table-query';
import { checkItems, type InvalidItem, type ServicePolicy } from './service-policy';

// Items read from the table are checked with it; so are those of a snapshot synth did not seal.
export { checkPolicyItem };

/**
 * A copy of `service` built from raw items (the table's, and those of a snapshot synth did not seal),
 * each checked by the item checker, as old as `loadedAt`. A malformed item keeps its last good version
 * from `previous` and is reported once: to `opts.onInvalidItem` and in the cache's log.
 */
export function checkedCopy(
  cache: PolicyCache,
  opts: PolicyCacheOptions,
  service: string,
  raw: readonly unknown[],
  origin: 'snapshot' | 'table',
  loadedAt: number,
  previous?: CacheEntry,
): CacheEntry {
  const reported = new Set<string>();
  const checked = checkItems(service, raw, {
    check: checkPolicyItem,
    previous: previous?.policy,
    onInvalid: (inv) => reportInvalid(cache, opts, inv, previous?.reported, reported),
  });
  return { policy: cache.policyOf(service, checked, origin, loadedAt), retryAfter: 0, reported };
}

/** Reports a malformed item unless the copy before reported the same error (`before`); notes it in `now`. */
function reportInvalid(
  cache: PolicyCache,
  opts: PolicyCacheOptions,
  inv: InvalidItem,
  before: Set<string> | undefined,
  now: Set<string>,
): void {
  const key = `${inv.sk ?? '?'}\u0000${inv.error}`;
  now.add(key);
  if (before?.has(key)) return;
  cache.notify(() => opts.onInvalidItem?.(inv));
  cache.warn({
    msg: 'mesh policy: ignoring malformed item',
    service: inv.service,
    sk: inv.sk,
    error: inv.error,
    kept: inv.keptLastGood ? 'last good version' : 'nothing',
  });
}

/**
 * How far back an eventually consistent read of the version item may lag behind the writes it
 * announces: "all copies of data usually reach consistency within a second" (Amazon DynamoDB
 * Developer Guide, "Read consistency"). A confirmation counts as this much older than the read.
 */
export const VERSION_READ_LAG_MS = 1_000;

/** How long a table found without a version item is served by Queries alone before it is asked again. */
const LEGACY_RECHECK_MS = 60_000;

/** First backoff after a throttled read; doubles per throttled read in a row, capped at the TTL. */
const THROTTLE_BACKOFF_MS = 250;

/** One read of the version item: when it was sent, its counters (undefined = no version item), its last changes. */
interface VersionPoll {
  readonly sentAt: number;
  readonly counters: readonly number[] | undefined;
  readonly changes: readonly VersionEntry[];
}

/** A table copy whose service's counter moved: the bucket's attribute and its value now. */
interface MovedCopy {
  readonly service: string;
  readonly entry: CacheEntry;
  readonly counter: string;
  readonly current: number;
}

export class PolicyTableReader {
  private readonly reads: PolicyTableReads;
  private readonly random: () => number;
  private versionInflight: Promise<VersionPoll> | undefined;
  private lastPoll: VersionPoll | undefined;
  /**
   * Change items read and not found (by sort key) while the version still points to them: not read
   * again at every poll for a copy that waits behind one unused; that copy is queried when it is used.
   */
  private readonly missing = new Set<string>();

  constructor(
    private readonly cache: PolicyCache,
    private readonly opts: PolicyCacheOptions,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    this.random = opts.random ?? Math.random;
    this.reads = policyTableReads({
      tableName: cache.tableName!,
      env,
      now: cache.now,
      client: opts.client,
      pageLimit: opts.pageLimit,
      onPage: () => cache.tableReads++,
    });
  }

  /**
   * Revalidates `service`'s copy: confirmed by the policy version when its counter has not moved,
   * else (or with `query`) its partition is read again. Never rejects: resolves to the copy in use
   * afterwards, the last good one (or an empty one) after a failed read.
   */
  async load(service: string, query: boolean): Promise<ServicePolicy> {
    const { cache } = this;
    const previous = cache.entries.get(service);
    // The version first, the Query after it: a copy is never older than the counter it is filed under.
    // A failed version read costs only the saving: the service's Query still goes out.
    const poll = await this.pollVersion().catch((err: unknown) => void this.throttled(err, service));
    const bucketSeen = poll?.counters?.[bucketOf(service)];
    const current = cache.entries.get(service);
    // Confirmed by the poll (confirm()): only breaker state, which changes without a bump, is read.
    const confirmed =
      !query && current?.policy.origin === 'table' && bucketSeen !== undefined && current.bucketSeen === bucketSeen;
    if (confirmed && !cache.sharedBreakers) return current.policy;
    const sentAt = cache.now();
    try {
      let raw: unknown[];
      let loadedAt = sentAt;
      if (confirmed) {
        // Rebuilt with the policy items it holds, as of its confirmation.
        const own: unknown[] = [...current.policy.items.values()].filter((item) => item.pk === service);
        raw = own.concat(await this.reads.partition(breakerPartition(service)));
        loadedAt = Math.max(current.policy.loadedAt, (this.lastPoll?.sentAt ?? sentAt) - VERSION_READ_LAG_MS);
      } else {
        const both = [this.reads.partition(service)];
        if (cache.sharedBreakers) both.push(this.reads.partition(breakerPartition(service)));
        raw = (await Promise.all(both)).flat();
      }
      const entry = checkedCopy(cache, this.opts, service, raw, 'table', loadedAt, confirmed ? current : previous);
      entry.bucketSeen = bucketSeen;
      cache.entries.set(service, entry);
      return entry.policy;
    } catch (err) {
      return this.readFailed(err, service, confirmed ? current : previous);
    }
  }

  /** Counts a throttled read (policy_read_throttled_total); true if it was one. */
  private throttled(err: unknown, service: string): boolean {
    const e = err as { name?: string; code?: string } | undefined;
    if (!THROTTLING.has(e?.name) && !THROTTLING.has(e?.code)) return false;
    this.cache.throttledReads++;
    this.cache.notify(() => this.opts.onThrottled?.(service));
    return true;
  }

  /**
   * A read failed: the last good copy stays (or nothing is known), and the next read waits one TTL,
   * or after throttling an equally jittered backoff (half fixed, half random, so throttled sandboxes
   * spread out) that doubles with each throttled read in a row.
   */
  private readFailed(err: unknown, service: string, previous: CacheEntry | undefined): ServicePolicy {
    const { cache } = this;
    const now = cache.now();
    const throttled = this.throttled(err, service);
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    cache.notify(() => this.opts.onTableError?.(err, service));
    if (!previous?.failing) {
      cache.warn({
        msg: 'mesh policy: table read failed; keeping the last good copy',
        service,
        table: cache.tableName,
        error,
        kept: previous ? previous.policy.origin : 'none',
      });
    }
    const streak = throttled ? (previous?.throttled ?? 0) + 1 : 0;
    const backoff = Math.min(cache.ttlMs, THROTTLE_BACKOFF_MS * 2 ** (streak - 1));
    const entry = previous ?? cache.nothingKnown(service, now);
    entry.retryAfter = now + (throttled ? backoff / 2 + (this.random() * backoff) / 2 : cache.ttlMs);
    entry.failing = true;
    entry.readRefused = IAM_REFUSAL.test(error);
    entry.throttled = streak;
    cache.entries.set(service, entry);
    return entry.policy;
  }

  /**
   * The version item, read once for every service whose copy is due (one read in flight), from a
   * shard picked at random. A table without one (no writer of this release touched it) is asked again
   * only every LEGACY_RECHECK_MS: meanwhile every revalidation is a Query, without a GetItem on top.
   */
  private pollVersion(): Promise<VersionPoll> {
    const { cache } = this;
    const last = this.lastPoll;
    if (last && !last.counters && cache.now() - last.sentAt < LEGACY_RECHECK_MS) return Promise.resolve(last);
    this.versionInflight ??= (async () => {
      const sentAt = cache.now();
      cache.versionReads++;
      try {
        const item = (await this.reads.item(versionKey(this.randomShard(POLICY_VERSION.shards)))) as
          | Record<string, unknown>
          | undefined;
        const poll: VersionPoll = {
          sentAt,
          counters: item ? versionCounters(item) : undefined,
          changes: item ? changeEntries(item, POLICY_VERSION.changes) : [],
        };
        this.lastPoll = poll;
        if (poll.counters && !cache.sharedBreakers) await this.confirm(poll);
        return poll;
      } finally {
        this.versionInflight = undefined;
      }
    })();
    return this.versionInflight;
  }

  /** One of `shards` picked at random (the version's, or the change items'): each carries its share of the reads. */
  private randomShard(shards: number): number {
    return Math.min(shards - 1, Math.floor(this.random() * shards));
  }

  /**
   * One poll revalidates every table copy whose service's counter has not moved, and brings up to date
   * every one whose changes since the value it was filed under the version item carries, itself or in
   * the change items its stubs point to (no Query): as of the read's sending, less the lag of an
   * eventually consistent read.
   */
  private async confirm(poll: VersionPoll): Promise<void> {
    const asOf = poll.sentAt - VERSION_READ_LAG_MS;
    const moved: MovedCopy[] = [];
    for (const [service, entry] of this.cache.entries) {
      const b = bucketOf(service);
      const current = poll.counters?.[b];
      if (entry.policy.origin !== 'table' || entry.bucketSeen === undefined || current === undefined) continue;
      if (entry.bucketSeen !== current) {
        moved.push({ service, entry, counter: POLICY_VERSION.counter(b), current });
        continue;
      }
      if (entry.policy.loadedAt >= asOf) continue;
      entry.policy = { ...entry.policy, loadedAt: asOf };
      entry.retryAfter = 0;
      entry.failing = false;
      entry.throttled = 0;
    }
    const pointed = new Set(poll.changes.filter(isStub).map((e) => e.changeItems));
    for (const ref of this.missing) if (!pointed.has(ref)) this.missing.delete(ref);
    if (moved.length === 0 || poll.changes.length === 0) return;
    const wanted = this.stubsFor(moved, poll.changes);
    const entries = await withChangeItems(poll.changes, wanted.keys(), (stub) =>
      this.readChangeItem(stub, wanted.get(stub)!),
    );
    // A copy replaced while the change items were read (a Query answered meanwhile) is newer: left as it is.
    for (const m of moved) if (this.cache.entries.get(m.service) === m.entry) this.catchUp(m, entries, asOf);
  }

  /**
   * The stubs on the way of the copies that would catch up (not those holding a malformed item), each
   * with a service that needs it (named if its read is throttled).
   */
  private stubsFor(moved: readonly MovedCopy[], entries: readonly VersionEntry[]): Map<ChangeStub, string> {
    const wanted = new Map<ChangeStub, string>();
    for (const m of moved) {
      if (m.entry.reported.size > 0) continue;
      const path = pathSince(entries, m.counter, m.entry.bucketSeen!, m.current) ?? [];
      for (const e of path) if (isStub(e) && !this.missing.has(e.changeItems)) wanted.set(e, m.service);
    }
    return wanted;
  }

  /**
   * The entry of `stub`, from a change shard picked at random, eventually consistent; on a miss (not
   * there yet, expired, malformed, or a failed read) from one other shard picked at random: a lagging
   * or throttled shard is one partition, and its readers would otherwise all query the changed
   * partition. Undefined when both miss: its copies are then queried, and it is not read again.
   */
  private async readChangeItem(stub: ChangeStub, service: string): Promise<ChangeEntry | undefined> {
    const shards = POLICY_VERSION.changeShards;
    const first = this.randomShard(shards);
    const entry =
      (await this.changeItemAt(first, stub, service)) ??
      (await this.changeItemAt((first + 1 + this.randomShard(shards - 1)) % shards, stub, service));
    if (!entry) this.missing.add(stub.changeItems);
    return entry;
  }

  /** Shard `shard`'s change item for `stub`: its entry, or undefined (none, another's, malformed, a failed read). */
  private async changeItemAt(shard: number, stub: ChangeStub, service: string): Promise<ChangeEntry | undefined> {
    this.cache.changeItemReads++;
    try {
      // None there: entryOfItem answers undefined, as for another's or a malformed one.
      return entryOfItem(await this.reads.item(changeItemKey(shard, stub.changeItems)), stub);
    } catch (err) {
      this.throttled(err, service);
      return undefined;
    }
  }

  /**
   * The copy with the changes the entries carry since its value applied, filed under its bucket's value
   * now. Not for a copy holding a malformed item (its last good version and a refused deny's stand-in are
   * the Query's to work out): that one, like a copy the changes do not reach, is queried.
   */
  private catchUp(m: MovedCopy, entries: readonly VersionEntry[], asOf: number): void {
    const { service, entry } = m;
    const changes =
      entry.reported.size === 0 && changesSince(entries, m.counter, service, entry.bucketSeen!, m.current);
    if (!changes) return;
    // Only its own partition's items: confirm() runs without shared breakers, so no breaker state is in it.
    const own = [...entry.policy.items.values()];
    const copy = checkedCopy(this.cache, this.opts, service, applyChanges(own, changes), 'table', asOf, entry);
    copy.bucketSeen = m.current;
    this.cache.entries.set(service, copy);
  }
}

/**
 * IAM's refusal of a read, as DynamoDB answers it: `AccessDeniedException`, "User: … is not authorized to
 * perform: dynamodb:Query on resource: …" (Amazon DynamoDB Developer Guide, "Error handling with DynamoDB").
 */
const IAM_REFUSAL = /AccessDenied|not authorized/;

/** DynamoDB's answers to a partition or table read past its throughput. */
const THROTTLING = new Set<unknown>([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
