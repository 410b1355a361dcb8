/**
 * The policy cache: the items of each service this function touches, read with one Query per
 * service (pk = service) from the policy table, kept for a short TTL, and revalidated with one small
 * GetItem of the mesh-wide policy version (shared/policy-version.ts) instead of a Query per service:
 * only a service whose counter moved is queried again (policy-table-reader.ts).
 *
 * - A copy is as old as the moment its read was sent (a consistent read sees every write finished
 *   before it); the deploy-time snapshot is as old as its `generatedAt`.
 * - Fresh (younger than the TTL): served as is. Stale but younger than `maxAuthorizationAgeMs`
 *   (TTL + 1 s): served at once and refreshed in the background, at most one refresh in flight per
 *   service. Older: the table is read before the copy is handed out, so a deny written more than
 *   TTL + 1 s ago is seen by every call, on warm, idle and new sandboxes alike.
 * - Fail static: on table errors the last good copy stays (routing keeps working); a malformed item
 *   is reported and the last good version of that item kept (never half-applied). Authorization fails
 *   closed on a copy past the bound (policy-decision.ts `authorize`).
 * - Fail closed: with nothing known the policy is empty, and `effectivePolicy` denies.
 * - No table configured: the snapshot is all there is to know, and never goes stale.
 *
 * The table is read with hand-signed requests, no SDK client to load (cold-start budget), by the
 * cache's table half (policy-table-reader.ts), required on the first read: everything about reading the
 * table (the version poll, the Queries, failures and throttling) is there, out of the inbound path, and
 * so are the item checks (a snapshot synth sealed is used as synth checked it).
 */
import { ENV } from '../../../shared/names';
import { DEFAULT_POLICY_TTL_MS, type PolicySnapshot } from '../../../shared/policy-rules';
import { admit, type Freshness } from '../policy-decision';
import type { Admission } from './effective-policy';
import { groupSnapshot, type LoadedSnapshot, loadSnapshot } from './policy-snapshot';
import type { PolicyTableClient } from './policy-table-query';
import type { PolicyTableReader } from './policy-table-reader';
import {
  type CheckedItems,
  emptyServicePolicy,
  type InvalidItem,
  policyOfItems,
  type ServicePolicy,
  sealedServicePolicy,
} from './service-policy';

export type { PolicyTableClient } from './policy-table-query';

export interface PolicyCacheOptions {
  /** @default process.env.MESH_POLICY_TABLE; unset = snapshot only, no table reads */
  readonly tableName?: string;
  /** Path of the snapshot JSON. @default process.env.MESH_POLICY_SNAPSHOT; null = no snapshot */
  readonly snapshotPath?: string | null;
  /** A snapshot given directly (wins over snapshotPath). */
  readonly snapshot?: PolicySnapshot;
  /** @default process.env.MESH_POLICY_TTL_MS, else DEFAULT_POLICY_TTL_MS (5000) */
  readonly ttlMs?: number;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /**
   * A DynamoDB client (tests). @default none: Query requests signed on the wire (policy-table-query.ts),
   * endpoint from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, credentials from the environment
   */
  readonly client?: PolicyTableClient;
  /** A malformed item was seen (once per distinct error while it stays malformed). */
  readonly onInvalidItem?: (invalid: InvalidItem) => void;
  /** A table read failed (the last good copy, if any, stays in use). */
  readonly onTableError?: (error: unknown, service: string) => void;
  /** A table read was throttled (after the transport's own retries); counted as policy_read_throttled_total. */
  readonly onThrottled?: (service: string) => void;
  /** Picks the version shard and the backoff jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Where warn lines go. @default console.warn */
  readonly log?: (line: string) => void;
  /** Query page size (`Limit`); only to exercise pagination. @default unset (DynamoDB's 1 MB pages) */
  readonly pageLimit?: number;
  /** Environment to read settings from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Also read each service's breaker partition (`breaker#<service>`, shared breaker state).
   * @default MESH_SHARED_BREAKERS is "true" (the only case the function may read it)
   */
  readonly sharedBreakers?: boolean;
}

/**
 * How far past the TTL a copy may still authorize a call while it revalidates in the background.
 * Past TTL + this, the table is read first: a deny is honoured by every call that starts more than
 * TTL + 1 s after it was written.
 */
export const AUTHORIZATION_GRACE_MS = 1_000;

/** One service's copy and how it is being read (the table reader updates it). */
export interface CacheEntry {
  policy: ServicePolicy;
  /** No background refresh before this (backs off after a failed read). */
  retryAfter: number;
  /** `key` of each malformed item reported for the current copy, so each is reported once. */
  reported: Set<string>;
  /** The last table read failed (a failure streak is logged once). */
  failing?: boolean;
  /** IAM refused the last failed read: this function's role may not read the partition. */
  readRefused?: boolean;
  /** Throttled reads in a row (backoff doubles with each). */
  throttled?: number;
  /** The service's version counter read before the copy's Query (undefined = unknown: query again). */
  bucketSeen?: number;
}

export class PolicyCache {
  readonly tableName: string | undefined;
  readonly ttlMs: number;
  /** Whether a table read includes the service's breaker partition. */
  readonly sharedBreakers: boolean;
  /** The cache's clock, epoch ms (take a decision's time from it before `get`). */
  readonly now: () => number;
  private readonly opts: PolicyCacheOptions;
  private readonly env: Readonly<Record<string, string | undefined>>;
  /** The copies, by service (read and updated by the table reader). */
  readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<ServicePolicy>>();
  private snapshot: LoadedSnapshot | undefined | null = null; // null = not loaded yet
  private table: PolicyTableReader | undefined;
  /** Queries sent (pages count one each). */
  tableReads = 0;
  /** GetItems of the version item sent. */
  versionReads = 0;
  /** GetItems of change items sent (a bump's changes too big for the version item). */
  changeItemReads = 0;
  /** Reads answered with throttling (policy_read_throttled_total). */
  throttledReads = 0;
  /** The oldest copy authorization uses (TTL + AUTHORIZATION_GRACE_MS; no limit without a table). */
  readonly maxAuthorizationAgeMs: number;

  constructor(options: PolicyCacheOptions = {}) {
    this.opts = options;
    this.env = options.env ?? process.env;
    this.tableName = options.tableName ?? (this.env[ENV.policyTable] || undefined);
    this.ttlMs = options.ttlMs ?? this.parseTtl(this.env[ENV.policyTtlMs]);
    this.sharedBreakers = options.sharedBreakers ?? this.env[ENV.sharedBreakers] === 'true';
    this.now = options.now ?? Date.now;
    this.maxAuthorizationAgeMs = this.tableName ? this.ttlMs + AUTHORIZATION_GRACE_MS : Infinity;
  }

  /**
   * `admit` with this cache's bound: may `source` call the service of `policy`? `at` is when the
   * call started (read it before `get`): a read the call waited for is as fresh as the call, however
   * long the table took to answer. The traffic policy of an admitted call: policy-decision.ts `authorize`.
   */
  authorize(policy: ServicePolicy, source: string, at: number = this.now()): Admission {
    return admit(policy, source, this.freshness(at));
  }

  /** The bound at `at`; for a call to `target`, also whether IAM refused this function's last read of it. */
  freshness(at: number = this.now(), target = ''): Freshness {
    return { now: at, maxAgeMs: this.maxAuthorizationAgeMs, readRefused: this.entries.get(target)?.readRefused };
  }

  /** Resolves once no table read is in flight (tests count reads after this). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * The policy of `service`: a fresh copy at once; a stale one younger than maxAuthorizationAgeMs at
   * once while it is refreshed in the background; an older one only after reading the table (or, if
   * the read fails or is backing off, the last good copy, which authorization then refuses). With
   * nothing good known, waits for the table. Never rejects; with nothing known the policy is empty
   * (origin 'none'), which authorizes nobody.
   */
  async get(service: string): Promise<ServicePolicy> {
    const now = this.now();
    const entry = this.entries.get(service) ?? this.fromSnapshot(service, now);
    if (entry && entry.policy.origin !== 'none') {
      const age = now - entry.policy.loadedAt;
      if (age < this.ttlMs || now < entry.retryAfter) return entry.policy;
      return this.revalidate(service, entry.policy, age, now);
    }
    // Nothing good known. After a failed read, answer "nothing" for one TTL instead of hitting a
    // broken table on every call.
    if (entry && now < entry.retryAfter) return entry.policy;
    return this.refresh(service);
  }

  /** A copy past its TTL, `age` ms old at `now`: served while it is read again, or read first when too old. */
  private async revalidate(service: string, copy: ServicePolicy, age: number, now: number): Promise<ServicePolicy> {
    if (age <= this.maxAuthorizationAgeMs) {
      this.refresh(service).catch(() => undefined); // never rejects; belt and braces
      return copy;
    }
    const read = await this.refresh(service);
    // Joined a read sent too long before this call (a slow table): one more, sent now.
    const stale = read !== copy && now - read.loadedAt > this.maxAuthorizationAgeMs;
    return stale ? this.refresh(service) : read;
  }

  /** The cached copy of `service`, without any I/O (undefined = never loaded). */
  peek(service: string): ServicePolicy | undefined {
    return this.entries.get(service)?.policy;
  }

  /**
   * Reads `service` from the table now (joining a read already in flight). Resolves to the copy in
   * use afterwards: the new one, or on error the last good one (or an empty one).
   */
  refresh(service: string): Promise<ServicePolicy> {
    const running = this.inflight.get(service);
    if (running) return running;
    const p = this.load(service).finally(() => this.inflight.delete(service));
    this.inflight.set(service, p);
    return p;
  }

  /**
   * Queries `service`'s partition now even when the policy version would confirm the copy: the proof
   * that this function's role may read it (a mesh ping's policy check). Waits for a read in flight
   * first; resolves like `refresh`.
   */
  async reread(service: string): Promise<ServicePolicy> {
    await this.inflight.get(service);
    const p = this.load(service, true).finally(() => this.inflight.delete(service));
    this.inflight.set(service, p);
    return p;
  }

  private async load(service: string, query = false): Promise<ServicePolicy> {
    if (this.tableName) {
      // The table half of the cache is its own file in the layer, required on the first table read.
      this.table ??= new (this.tableHalf().PolicyTableReader)(this, this.opts, this.env);
      return this.table.load(service, query);
    }
    const entry = this.entries.get(service) ?? this.nothingKnown(service, this.now());
    this.entries.set(service, entry);
    return entry.policy;
  }

  /**
   * The copy of `service` that checked items make. The table reader builds its copies with this: its file
   * of the layer then has no second copy of the code that files items by kind (build.ts).
   */
  policyOf(service: string, checked: CheckedItems, origin: ServicePolicy['origin'], loadedAt: number): ServicePolicy {
    return policyOfItems(service, checked.items, checked.brokenDenies, origin, loadedAt);
  }

  /** An entry that knows nothing (authorizes nobody); without a table it is never read again. */
  nothingKnown(service: string, now: number): CacheEntry {
    return {
      policy: emptyServicePolicy(service, now),
      retryAfter: this.tableName ? 0 : Infinity,
      reported: new Set(),
    };
  }

  private fromSnapshot(service: string, now: number): CacheEntry | undefined {
    if (this.snapshot === null) this.snapshot = this.readSnapshot();
    const raw = this.snapshotItems(service);
    if (!raw) return undefined;
    // As old as its generation: a deny written after it is not in it. Without a table it is all there
    // is, and never stale.
    const loadedAt = this.tableName ? snapshotTime(this.snapshot?.generatedAt, now) : now;
    // Items synth did not seal are checked, with the table reader's item checker.
    const entry: CacheEntry = this.snapshot!.sealed
      ? { policy: sealedServicePolicy(service, raw, loadedAt), retryAfter: 0, reported: new Set() }
      : this.tableHalf().checkedCopy(this, this.opts, service, raw, 'snapshot', loadedAt);
    this.entries.set(service, entry);
    return entry;
  }

  /** The table reader's file (policy-table-reader.ts): the table's reads, and the item checks. */
  private tableHalf(): typeof import('./policy-table-reader') {
    return require('./policy-table-reader') as typeof import('./policy-table-reader');
  }

  private readSnapshot(): LoadedSnapshot | undefined {
    const path = this.opts.snapshotPath === undefined ? this.env[ENV.policySnapshot] : this.opts.snapshotPath;
    if (!this.opts.snapshot && !path) return undefined;
    try {
      return this.opts.snapshot ? groupSnapshot(this.opts.snapshot) : loadSnapshot(path!);
    } catch (err) {
      return this.withoutSnapshot(err);
    }
  }

  /**
   * `service`'s items in the snapshot. A service's seal is compared when its items are first read: one
   * that no longer matches drops the whole snapshot, as a broken seal at load does.
   */
  private snapshotItems(service: string): readonly unknown[] | undefined {
    try {
      return this.snapshot?.itemsOf(service);
    } catch (err) {
      this.snapshot = this.withoutSnapshot(err);
      return undefined;
    }
  }

  private withoutSnapshot(err: unknown): undefined {
    this.warn({
      msg: this.tableName
        ? 'mesh policy: no snapshot; the first call of each service reads the table'
        : 'mesh policy: no snapshot and no policy table; every call is refused',
      error: errorText(err),
    });
    return undefined;
  }

  /** Runs a listener; a listener that throws must not break policy reads. */
  notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warn({ msg: 'mesh policy: a policy cache listener threw', error: errorText(err) });
    }
  }

  /** A bad TTL setting is reported, not fatal: the function still serves with the default. */
  private parseTtl(v: string | undefined): number {
    if (v === undefined || v === '') return DEFAULT_POLICY_TTL_MS;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : this.badTtl(v);
  }

  private badTtl(v: string): number {
    this.warn({
      msg: `mesh policy: ${ENV.policyTtlMs} = ${JSON.stringify(v)} must be a number of ms >= 0; using ${DEFAULT_POLICY_TTL_MS}`,
    });
    return DEFAULT_POLICY_TTL_MS;
  }

  warn(fields: Record<string, unknown>): void {
    const line = JSON.stringify({ level: 'warn', ...fields });
    (this.opts.log ?? console.warn)(line);
  }
}

/**
 * epoch ms of a snapshot's `generatedAt`. A missing or bad time, or one in the future (a synth
 * machine's clock ahead of ours), counts as the oldest possible: the table is read first.
 */
function snapshotTime(generatedAt: string | undefined, now: number): number {
  const t = generatedAt ? Date.parse(generatedAt) : Number.NaN;
  return Number.isFinite(t) && t <= now ? t : 0;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
