/**
 * The policy cache: the items of each service this function touches, read with one Query per
 * service (pk = service) from the policy table, kept for a short TTL, and revalidated with one small
 * GetItem of the mesh-wide policy version (shared/policy-version.ts) instead of a Query per service.
 *
 * - Revalidation: every writer bumps the version after its writes. One eventually consistent GetItem
 *   of a random shard confirms every copy whose service's counter has not moved; only a service whose
 *   counter moved (or whose copy came from the snapshot) is queried again. A confirmation counts as of
 *   VERSION_READ_LAG_MS before the read was sent: an eventually consistent read may miss a write of
 *   the last second (DynamoDB Developer Guide, "Read consistency"). No version item (a table no
 *   writer of this release has touched): every revalidation is a Query, as before.
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
 * The table is read with hand-signed Query requests, no SDK client to load (cold-start budget).
 */
import { type AttributeValue, unmarshallItem } from '../../../shared/attribute-value';
import { breakerPartition, ENV, POLICY_VERSION, TABLE } from '../../../shared/names';
import { DEFAULTS, type PolicySnapshot } from '../../../shared/policy';
import { bucketOf, versionCounters, versionKey } from '../../../shared/policy-version';
import { authorize, type Freshness } from '../policy-decision';
import type { EffectivePolicy } from './effective-policy';
import { groupSnapshot, type LoadedSnapshot, loadSnapshot } from './policy-snapshot';
import type { GetItemInput, GetItemOutput, QueryInput, QueryOutput } from './policy-table-query';
import { buildServicePolicy, emptyServicePolicy, type InvalidItem, type ServicePolicy } from './service-policy';

/** The part of a DynamoDB client the cache uses (a real `DynamoDBClient` fits). */
export interface PolicyTableClient {
  send(command: unknown): Promise<unknown>;
}

export interface PolicyCacheOptions {
  /** @default process.env.MESH_POLICY_TABLE; unset = snapshot only, no table reads */
  readonly tableName?: string;
  /** Path of the snapshot JSON. @default process.env.MESH_POLICY_SNAPSHOT; null = no snapshot */
  readonly snapshotPath?: string | null;
  /** A snapshot given directly (wins over snapshotPath). */
  readonly snapshot?: PolicySnapshot;
  /** @default process.env.MESH_POLICY_TTL_MS, else DEFAULTS.policyTtlMs (5000) */
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

/**
 * How far back an eventually consistent read of the version item may lag behind the writes it
 * announces: "all copies of data usually reach consistency within a second" (DynamoDB Developer
 * Guide, "Read consistency"). A confirmation counts as this much older than the read.
 */
export const VERSION_READ_LAG_MS = 1_000;

/** How long a table found without a version item is served by Queries alone before it is asked again. */
export const LEGACY_RECHECK_MS = 60_000;

/** First backoff after a throttled read; doubles per throttled read in a row, capped at the TTL. */
export const THROTTLE_BACKOFF_MS = 250;

/** One read of the version item: when it was sent and its counters (undefined = no version item). */
interface VersionPoll {
  readonly sentAt: number;
  readonly counters: readonly number[] | undefined;
}

interface Entry {
  policy: ServicePolicy;
  /** No background refresh before this (backs off after a failed read). */
  retryAfter: number;
  /** `key` of each malformed item reported for the current copy, so each is reported once. */
  reported: Set<string>;
  /** The last table read failed (a failure streak is logged once). */
  failing?: boolean;
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
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ServicePolicy>>();
  private snapshot: LoadedSnapshot | undefined | null = null; // null = not loaded yet
  private readonly client: PolicyTableClient | undefined;
  private wire: import('./policy-table-query').PolicyTableQuery | undefined;
  private readonly random: () => number;
  private versionInflight: Promise<VersionPoll> | undefined;
  private lastPoll: VersionPoll | undefined;
  /** Queries sent (pages count one each). */
  tableReads = 0;
  /** GetItems of the version item sent. */
  versionReads = 0;
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
    this.client = options.client;
    this.random = options.random ?? Math.random;
    this.maxAuthorizationAgeMs = this.tableName ? this.ttlMs + AUTHORIZATION_GRACE_MS : Infinity;
  }

  /**
   * `authorize` with this cache's bound: may `source` call the service of `policy`? `at` is when the
   * call started (read it before `get`): a read the call waited for is as fresh as the call, however
   * long the table took to answer.
   */
  authorize(policy: ServicePolicy, source: string, at: number = this.now()): EffectivePolicy {
    return authorize(policy, source, this.freshness(at));
  }

  freshness(at: number = this.now()): Freshness {
    return { now: at, maxAgeMs: this.maxAuthorizationAgeMs };
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
      if (age <= this.maxAuthorizationAgeMs) {
        this.refresh(service).catch(() => undefined); // never rejects; belt and braces
        return entry.policy;
      }
      const read = await this.refresh(service);
      // Joined a read sent too long before this call (a slow table): one more, sent now.
      const stale = read !== entry.policy && now - read.loadedAt > this.maxAuthorizationAgeMs;
      return stale ? this.refresh(service) : read;
    }
    // Nothing good known. After a failed read, answer "nothing" for one TTL instead of hitting a
    // broken table on every call.
    if (entry && now < entry.retryAfter) return entry.policy;
    return this.refresh(service);
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
    const previous = this.entries.get(service);
    if (!this.tableName) {
      if (previous) return previous.policy;
      const none = {
        policy: emptyServicePolicy(service, this.now()),
        retryAfter: Infinity,
        reported: new Set<string>(),
      };
      this.entries.set(service, none);
      return none.policy;
    }
    // The version first, the Query after it: a copy is never older than the counter it is filed under.
    // A failed version read costs only the saving: the service's Query still goes out.
    const poll = await this.pollVersion().catch((err: unknown) => {
      this.countThrottling(err, service);
      return undefined;
    });
    const bucketSeen = poll?.counters?.[bucketOf(service)];
    const current = this.entries.get(service);
    const confirmed =
      current?.policy.origin === 'table' && bucketSeen !== undefined && current.bucketSeen === bucketSeen;
    if (confirmed && !query) {
      // Confirmed by the poll (confirm()); breaker state still has to be read.
      if (!this.sharedBreakers) return current.policy;
      try {
        return await this.withBreakers(service, current);
      } catch (err) {
        return this.readFailed(err, service, current);
      }
    }
    // The copy is as old as the moment the read went out: the table answers with every write that
    // finished before it (ConsistentRead), and perhaps later ones.
    const sentAt = this.now();
    let raw: unknown[];
    try {
      raw = await this.queryWithBreakers(service);
    } catch (err) {
      return this.readFailed(err, service, previous);
    }
    const reported = new Set<string>();
    const policy = buildServicePolicy(service, raw, {
      origin: 'table',
      loadedAt: sentAt,
      previous: previous?.policy,
      onInvalid: (inv) => this.reportInvalid(inv, previous?.reported, reported),
    });
    this.entries.set(service, { policy, retryAfter: 0, reported, bucketSeen });
    return policy;
  }

  /** Counts a throttled read (policy_read_throttled_total); true if it was one. */
  private countThrottling(err: unknown, service: string): boolean {
    if (!isThrottling(err)) return false;
    this.throttledReads++;
    this.notify(() => this.opts.onThrottled?.(service));
    return true;
  }

  /**
   * A read failed: the last good copy stays (or nothing is known), and the next read waits one TTL,
   * or after throttling a jittered backoff that doubles with each throttled read in a row.
   */
  private readFailed(err: unknown, service: string, previous: Entry | undefined): ServicePolicy {
    const now = this.now();
    const throttled = this.countThrottling(err, service);
    this.notify(() => this.opts.onTableError?.(err, service));
    if (!previous?.failing) {
      this.warn({
        msg: 'mesh policy: table read failed; keeping the last good copy',
        service,
        table: this.tableName,
        error: errorText(err),
        kept: previous ? previous.policy.origin : 'none',
      });
    }
    const streak = throttled ? (previous?.throttled ?? 0) + 1 : 0;
    const retryAfter = now + (throttled ? this.throttleBackoff(streak) : this.ttlMs);
    if (previous) {
      previous.retryAfter = retryAfter;
      previous.failing = true;
      previous.throttled = streak;
      return previous.policy;
    }
    const none: Entry = {
      policy: emptyServicePolicy(service, now),
      retryAfter,
      reported: new Set(),
      failing: true,
      throttled: streak,
    };
    this.entries.set(service, none);
    return none.policy;
  }

  /**
   * The version item, read once for every service whose copy is due (one read in flight). A table
   * without one (no writer of this release touched it) is asked again only every LEGACY_RECHECK_MS:
   * meanwhile every revalidation is a Query, as before versions, without a GetItem on top.
   */
  private pollVersion(): Promise<VersionPoll> {
    const last = this.lastPoll;
    if (last && !last.counters && this.now() - last.sentAt < LEGACY_RECHECK_MS) return Promise.resolve(last);
    this.versionInflight ??= this.readVersion().finally(() => {
      this.versionInflight = undefined;
    });
    return this.versionInflight;
  }

  private async readVersion(): Promise<VersionPoll> {
    const sentAt = this.now();
    const shard = Math.min(POLICY_VERSION.shards - 1, Math.floor(this.random() * POLICY_VERSION.shards));
    this.versionReads++;
    // Eventually consistent: half the price of a consistent read; its lag is counted in confirm().
    const out = await this.sendGet({ TableName: this.tableName!, Key: versionKey(shard) });
    const poll: VersionPoll = { sentAt, counters: out.Item ? versionCounters(unmarshallItem(out.Item)) : undefined };
    this.lastPoll = poll;
    if (poll.counters && !this.sharedBreakers) this.confirm(poll);
    return poll;
  }

  /**
   * One poll revalidates every table copy whose service's counter has not moved: as of the read's
   * sending, less the lag of an eventually consistent read.
   */
  private confirm(poll: VersionPoll): void {
    const asOf = poll.sentAt - VERSION_READ_LAG_MS;
    for (const [service, entry] of this.entries) {
      if (entry.policy.origin !== 'table' || entry.bucketSeen !== poll.counters?.[bucketOf(service)]) continue;
      if (entry.policy.loadedAt >= asOf) continue;
      entry.policy = { ...entry.policy, loadedAt: asOf };
      entry.retryAfter = 0;
      entry.failing = false;
      entry.throttled = 0;
    }
  }

  /**
   * Shared breakers change without a version bump (sandboxes write them): a confirmed copy still reads
   * its breaker partition, and is rebuilt with the policy items it holds.
   */
  private async withBreakers(service: string, entry: Entry): Promise<ServicePolicy> {
    const asOf = (this.lastPoll?.sentAt ?? this.now()) - VERSION_READ_LAG_MS;
    const breakers = await this.query(breakerPartition(service));
    const own = [...entry.policy.items.values()].filter((item) => item.pk === service);
    const policy = buildServicePolicy(service, [...own, ...breakers], {
      origin: 'table',
      loadedAt: Math.max(entry.policy.loadedAt, asOf),
      previous: entry.policy,
      onInvalid: (inv) => this.reportInvalid(inv, entry.reported, entry.reported),
    });
    this.entries.set(service, { ...entry, policy, retryAfter: 0, failing: false, throttled: 0 });
    return policy;
  }

  /** Equal jitter: half the doubled delay fixed, half random, so throttled sandboxes spread out. */
  private throttleBackoff(streak: number): number {
    const delay = Math.min(this.ttlMs, THROTTLE_BACKOFF_MS * 2 ** (streak - 1));
    return delay / 2 + this.random() * (delay / 2);
  }

  private reportInvalid(inv: InvalidItem, before: Set<string> | undefined, now: Set<string>): void {
    const key = `${inv.sk ?? '?'}\u0000${inv.error}`;
    now.add(key);
    if (before?.has(key)) return;
    this.notify(() => this.opts.onInvalidItem?.(inv));
    this.warn({
      msg: 'mesh policy: ignoring malformed item',
      service: inv.service,
      sk: inv.sk,
      error: inv.error,
      kept: inv.keptLastGood ? 'last good version' : 'nothing',
    });
  }

  /** The service's partition and, with shared breakers on, its breaker partition, read at once. */
  private async queryWithBreakers(service: string): Promise<unknown[]> {
    if (!this.sharedBreakers) return this.query(service);
    const [own, breakers] = await Promise.all([this.query(service), this.query(breakerPartition(service))]);
    return own.concat(breakers);
  }

  private async query(pk: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      this.tableReads++;
      const out = await this.send({
        TableName: this.tableName!,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ExclusiveStartKey: startKey,
        Limit: this.opts.pageLimit,
        // A deny must be seen by the first read after it: eventually consistent reads may miss it.
        ConsistentRead: true,
      });
      for (const it of out.Items ?? []) items.push(unmarshallItem(it));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * One Query page: through the given client (an SDK DynamoDBClient), or else on the wire with a
   * hand-signed request (policy-table-query.ts): no SDK to load on a cold sandbox's first call.
   */
  private send(input: QueryInput): Promise<QueryOutput> {
    if (this.client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { QueryCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      return this.client.send(new QueryCommand(input as never)) as Promise<QueryOutput>;
    }
    return this.wireClient().query(input);
  }

  /** One GetItem: through the given client, or else on the wire like `send`. */
  private sendGet(input: GetItemInput): Promise<GetItemOutput> {
    if (this.client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { GetItemCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      return this.client.send(new GetItemCommand(input as never)) as Promise<GetItemOutput>;
    }
    return this.wireClient().getItem(input);
  }

  private wireClient(): import('./policy-table-query').PolicyTableQuery {
    if (!this.wire) {
      const { PolicyTableQuery } = require('./policy-table-query') as typeof import('./policy-table-query');
      this.wire = new PolicyTableQuery({ env: this.env, now: this.now });
    }
    return this.wire;
  }

  private fromSnapshot(service: string, now: number): Entry | undefined {
    if (this.snapshot === null) this.snapshot = this.readSnapshot();
    const raw = this.snapshot?.byService.get(service);
    if (!raw) return undefined;
    const reported = new Set<string>();
    const policy = buildServicePolicy(service, raw, {
      origin: 'snapshot',
      // As old as its generation: a deny written after it is not in it. Without a table it is all
      // there is, and never stale.
      loadedAt: this.tableName ? snapshotTime(this.snapshot?.generatedAt, now) : now,
      onInvalid: (inv) => this.reportInvalid(inv, undefined, reported),
    });
    const entry: Entry = { policy, retryAfter: 0, reported };
    this.entries.set(service, entry);
    return entry;
  }

  private readSnapshot(): LoadedSnapshot | undefined {
    if (this.opts.snapshot) return groupSnapshot(this.opts.snapshot);
    const path = this.opts.snapshotPath === undefined ? this.env[ENV.policySnapshot] : this.opts.snapshotPath;
    if (!path) return undefined;
    try {
      return loadSnapshot(path);
    } catch (err) {
      this.warn({
        msg: 'mesh policy: no snapshot; the first call of each service reads the table',
        error: errorText(err),
      });
      return undefined;
    }
  }

  /** Runs a listener; a listener that throws must not break policy reads. */
  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warn({ msg: 'mesh policy: a policy cache listener threw', error: errorText(err) });
    }
  }

  /** A bad TTL setting is reported, not fatal: the function still serves with the default. */
  private parseTtl(v: string | undefined): number {
    if (v === undefined || v === '') return DEFAULTS.policyTtlMs;
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) return n;
    this.warn({
      msg: `mesh policy: ${ENV.policyTtlMs} = ${JSON.stringify(v)} must be a number of ms >= 0; using ${DEFAULTS.policyTtlMs}`,
    });
    return DEFAULTS.policyTtlMs;
  }

  private warn(fields: Record<string, unknown>): void {
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

/** DynamoDB's answers to a partition or table read past its throughput. */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return THROTTLING.has(e?.name ?? '') || THROTTLING.has(e?.code ?? '');
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
