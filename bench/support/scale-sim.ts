/**
 * The measurement behind the scale model: many simulated sandboxes, each a real PolicyCache (its own
 * clock offset, its own seeded randomness, its own wire client signing requests by hand) and a real
 * MeshTelemetry, calling their targets for a stretch of simulated time against the local endpoint's
 * DynamoDB (dynalite with its transactions) on 127.0.0.1. A proxy in front of it counts every read by
 * operation and partition, and the bytes answered.
 * Simulated time advances in steps; every read a step started is answered before the next step.
 */
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { seed } from '../../functions/control/policy-seeder';
import { bumpForStream } from '../../functions/control/policy-stream';
import { versionWriter } from '../../functions/control/version-writer';
import { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { createPolicyTable, seedItems, serveDynamo } from '../../local/endpoint/dynamodb';
import type { AttributeValue } from '../../shared/attribute-value';
import { itemBytes } from '../../shared/item-size';
import { POLICY_VERSION } from '../../shared/names';
import type { PolicyItem } from '../../shared/policy';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { METRIC_DIMENSIONS, type MetricDimensions } from '../../shared/telemetry/metric-dimensions';
import { seeded } from '../../test/support/seeded-random';
import { close, listen, type ReadCounter, type ReadTally, readCounter } from './read-counter';

/** A mesh to simulate: services, who calls whom, and the share of sandboxes each service runs. */
export interface Topology {
  readonly name: string;
  readonly edges: readonly (readonly [string, string])[];
  /** Services with a canary: the callee answers from version 2 on this share of calls. */
  readonly canaries?: Readonly<Record<string, number>>;
}

export interface SimOptions {
  readonly topology: Topology;
  readonly sandboxes: number;
  /** Simulated time. @default 60_000 */
  readonly durationMs?: number;
  /** A busy sandbox starts a call this often. @default 1_000 */
  readonly callEveryMs?: number;
  /** @default 5_000 */
  readonly ttlMs?: number;
  /** false: no version item (the design before: a Query per service per TTL). @default true */
  readonly versioned?: boolean;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Reads of the first stretch are not counted: every sandbox starts at once here, so its start-up
   * Queries would be counted as if a whole fleet were cold in the same minute. @default ttlMs + 1_000
   */
  readonly warmupMs?: number;
  /**
   * A policy change in the middle of the run, as the CLI makes it: an operator's deny of `source`
   * (one of `service`'s callers) written to `service`'s partition, the version bumped at once, and its
   * record handed to the stream's bumper `streamDelayMs` later (which bumps again only when the CLI's
   * bump did not carry it: the design before always did). `atMs` counts
   * from the end of the warm-up, in steps of 100 ms.
   */
  readonly change?: {
    readonly service: string;
    readonly source: string;
    readonly atMs: number;
    readonly streamDelayMs?: number;
    /** false: the bumps carry no changes (the design before), every sandbox queries. @default true */
    readonly carried?: boolean;
    /**
     * Items written to `service`'s partition with the deny, as a deploy writes them (new allows of made-up
     * callers): past MAX_CARRIED_CHANGES the version item cannot carry them. @default 0
     */
    readonly deployItems?: number;
    /**
     * false: a change too big for the version item is bumped without it, as before change items (every
     * sandbox queries). @default true: its entry goes to the change items (shared/change-items.ts)
     */
    readonly changeItems?: boolean;
  };
  /**
   * Sandboxes start at random moments over this stretch. Over a whole TTL, their polls fall evenly over
   * time, as a fleet's do, which a burst is measured against. @default callEveryMs
   */
  readonly startSpreadMs?: number;
}

/** What the reads of the changed service's partition cost after a change, second by second. */
export interface ChangeBurst {
  readonly service: string;
  /** Calls of the denied source to the service, allowed though they started more than TTL + 1 s after the change. */
  readonly allowedPastBound: number;
  /** Calls of the denied source to the service that started more than TTL + 1 s after the change. */
  readonly callsPastBound: number;
  /** Read units on its partition in each second from the change on. */
  readonly unitsBySecond: readonly number[];
  /** Queries of its partition from the change on. */
  readonly queries: number;
  /** The change items' partitions (all shards together) from the change on. */
  readonly changeItems: {
    /** Read units in each second, from the bytes answered. */
    readonly unitsBySecond: readonly number[];
    /** Read units in each second as DynamoDB bills them (the items' size). */
    readonly billedUnitsBySecond: readonly number[];
    /** Reads in each second. */
    readonly readsBySecond: readonly number[];
    readonly reads: number;
    /** Read units of the busiest change shard over the whole run, over the mean of the shards. */
    readonly busiestShardOverMean: number;
    /** Bytes of one change item as DynamoDB sizes it (0: none written). */
    readonly itemBytes: number;
  };
}

export interface SimResult {
  readonly sandboxes: number;
  /** Measured after the warm-up. */
  readonly seconds: number;
  /** Queries a sandbox sent in its warm-up (its start: each service it touches). */
  readonly startupQueriesPerSandbox: number;
  /**
   * Table reads that failed in the warm-up, per sandbox (a read that timed out on a starved machine:
   * the cache reads again one TTL later, so each may add a Query to the start-up's).
   */
  readonly startupReadFailuresPerSandbox: number;
  readonly calls: number;
  /** By operation (GetItem, Query). */
  readonly reads: Readonly<Record<string, ReadTally>>;
  /** Read units by partition key. */
  readonly unitsByPartition: ReadonlyMap<string, number>;
  /** Sandboxes that touch each service's partition. */
  readonly touching: ReadonlyMap<string, number>;
  /** EMF lines written after the warm-up, per dimension setting. */
  readonly emfLines: Readonly<Record<MetricDimensions, number>>;
  /**
   * Distinct CloudWatch metrics (namespace, name, dimension names and values) the lines define, per
   * dimension setting: the same calls recorded by one MeshTelemetry per setting.
   */
  readonly metricKeys: Readonly<Record<MetricDimensions, number>>;
  readonly edges: number;
  /** With `change`: the reads of the changed partition after it. */
  readonly burst?: ChangeBurst;
}

/** The example shop: frontend -> orders -> payments, inventory. */
export const SHOP: Topology = {
  name: 'example shop (4 services)',
  edges: [
    ['frontend', 'orders'],
    ['orders', 'payments'],
    ['orders', 'inventory'],
  ],
  canaries: { payments: 0.1 },
};

/**
 * 50 services with skewed fan-in: every service calls `s00` (the hub), and two neighbours, so each
 * service has about three callers and the hub 49; five services run a canary.
 */
export function skewedMesh(services = 50): Topology {
  const name = (i: number) => `s${String(i).padStart(2, '0')}`;
  const edges: [string, string][] = [];
  for (let i = 1; i < services; i++) {
    edges.push([name(i), name(0)]);
    for (const step of [1, 2]) {
      const j = 1 + ((i - 1 + step) % (services - 1));
      if (j !== i) edges.push([name(i), name(j)]);
    }
  }
  const canaries: Record<string, number> = {};
  for (const i of [0, 10, 20, 30, 40]) canaries[name(i)] = 0.1;
  return { name: `skewed mesh (${services} services, one called by all)`, edges, canaries };
}

/**
 * Response codes a call ends with as its caller records them, how often (the rest are 200), and what
 * the callee records of the same call: nothing when the call never reached it (an open breaker,
 * throttling), 200 for a call it finished after the caller gave up, 500 for its handler's error.
 */
const CODES: readonly [caller: number, share: number, callee: number | undefined][] = [
  [503, 0.01, undefined],
  [504, 0.005, 200],
  [429, 0.002, undefined],
  [502, 0.003, 500],
];

/** The table the simulation's policies are in. */
const TABLE = 'scale-policy';

/** The simulated clock's first moment (epoch ms). */
const SIM_EPOCH = 1_700_000_000_000;

/** Simulated time advances in steps of this many ms. */
const STEP_MS = 100;

/** `SimOptions` with the defaults filled in. */
interface SimSettings {
  readonly topology: Topology;
  readonly sandboxes: number;
  readonly durationMs: number;
  readonly callEveryMs: number;
  readonly ttlMs: number;
  readonly warmupMs: number;
  readonly versioned: boolean;
  readonly seed: number;
  readonly startSpreadMs: number;
  readonly change?: NonNullable<SimOptions['change']>;
}

/** Who calls whom: every service, and the targets of each service that calls (the services sandboxes run). */
interface MeshShape {
  readonly services: readonly string[];
  readonly targets: ReadonlyMap<string, readonly string[]>;
  readonly callers: readonly string[];
}

/** What a run talks to: dynalite, the counting proxy in front of it, an admin client, and the simulated clock. */
interface SimWorld {
  readonly dbUrl: string;
  readonly proxy: ReadCounter;
  readonly proxyPort: number;
  readonly admin: DynamoDBClient;
  readonly clock: { t: number };
  close(): Promise<void>;
}

/** One simulated sandbox: the service it runs, its own policy cache, its phase and its own randomness. */
interface Sandbox {
  readonly service: string;
  readonly cache: PolicyCache;
  /** When (ms into the run) it makes its first call. */
  readonly phase: number;
  /** When (ms after its phase) it makes its next call. */
  next: number;
  readonly own: () => number;
}

/** The sandboxes, and how many of them touch each service's partition. */
interface Fleet {
  readonly sandboxes: readonly Sandbox[];
  readonly touching: Map<string, number>;
  /** Table reads of all its caches that failed. */
  readonly readFailures: { count: number };
}

/** Everything a run steps through. */
interface SimRun {
  readonly settings: SimSettings;
  readonly world: SimWorld;
  readonly mesh: MeshShape;
  readonly fleet: Fleet;
  readonly meter: MetricsMeter;
  readonly change?: ChangeSchedule;
}

/** What the run counts besides the proxy's reads. */
interface RunCount {
  /** Calls started after the warm-up. */
  calls: number;
  /** Queries sent in the warm-up. */
  startupQueries: number;
  /** Table reads that failed in the warm-up. */
  startupReadFailures: number;
}

export async function simulate(opts: SimOptions): Promise<SimResult> {
  const settings = settingsOf(opts);
  const world = await openWorld();
  try {
    const mesh = meshShape(settings.topology);
    await seedPolicies(world, settings.versioned, policyItems(settings.topology, mesh.services));
    const run: SimRun = {
      settings,
      world,
      mesh,
      fleet: startFleet(settings, mesh, world),
      meter: metricsMeter(),
      ...(settings.change ? { change: changeSchedule(settings.change, settings, world) } : {}),
    };
    const count: RunCount = { calls: 0, startupQueries: 0, startupReadFailures: 0 };
    for (let elapsed = 0; elapsed < settings.durationMs + settings.warmupMs; elapsed += STEP_MS) {
      await step(run, elapsed, count);
    }
    await world.proxy.idle();
    return await resultOf(run, count);
  } finally {
    await world.close();
  }
}

function settingsOf(opts: SimOptions): SimSettings {
  const ttlMs = opts.ttlMs ?? 5_000;
  const callEveryMs = opts.callEveryMs ?? 1_000;
  return {
    topology: opts.topology,
    sandboxes: opts.sandboxes,
    durationMs: opts.durationMs ?? 60_000,
    callEveryMs,
    ttlMs,
    warmupMs: opts.warmupMs ?? ttlMs + 1_000,
    versioned: opts.versioned ?? true,
    seed: opts.seed ?? 1,
    startSpreadMs: opts.startSpreadMs ?? callEveryMs,
    ...(opts.change ? { change: opts.change } : {}),
  };
}

function meshShape(topology: Topology): MeshShape {
  const services = [...new Set(topology.edges.flat())].sort();
  const targets = new Map<string, string[]>();
  for (const [from, to] of topology.edges) targets.set(from, [...(targets.get(from) ?? []), to]);
  return { services, targets, callers: services.filter((s) => targets.has(s)) };
}

/** dynalite, the read counter in front of it (on the simulated clock) and an admin client straight to dynalite. */
async function openWorld(): Promise<SimWorld> {
  const db = await serveDynamo();
  const dbPort = Number(new URL(db.url).port);
  const dbUrl = `http://127.0.0.1:${dbPort}`;
  const clock = { t: SIM_EPOCH };
  const proxy = readCounter(dbPort, () => clock.t);
  const proxyPort = await listen(proxy.server);
  const admin = new DynamoDBClient({
    endpoint: dbUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return {
    dbUrl,
    proxy,
    proxyPort,
    admin,
    clock,
    async close() {
      admin.destroy();
      await close(proxy.server);
      await db.close();
    },
  };
}

/** The deploy-time items, with the version item (as the seeder writes them) or without (the design before). */
async function seedPolicies(world: SimWorld, versioned: boolean, items: PolicyItem[]): Promise<void> {
  await createPolicyTable(world.dbUrl, TABLE);
  if (versioned) {
    await seed(
      world.admin,
      { RequestType: 'Create', ResourceProperties: { TableName: TABLE, Items: JSON.stringify(items) } },
      () => undefined,
    );
  } else {
    await seedItems(world.dbUrl, TABLE, items as never); // no version item
  }
  world.proxy.reset();
}

/** The EMF lines of one MeshTelemetry per dimension setting, counted, and the distinct metrics they define. */
interface MetricsMeter {
  /** The same calls go to each: one per setting. */
  readonly telemetry: readonly MeshTelemetry[];
  readonly lines: Record<MetricDimensions, number>;
  /** Forgets the lines counted so far (the metrics they defined stay). */
  resetLines(): void;
  metricKeys(): Record<MetricDimensions, number>;
}

function metricsMeter(): MetricsMeter {
  const lines = Object.fromEntries(METRIC_DIMENSIONS.map((d) => [d, 0])) as Record<MetricDimensions, number>;
  const keys = Object.fromEntries(METRIC_DIMENSIONS.map((d) => [d, new Set<string>()]));
  const telemetry = METRIC_DIMENSIONS.map((d) => {
    const sink = (text: string) => {
      for (const line of text.split('\n')) {
        if (!line.startsWith('{"_aws"')) continue;
        lines[d]++;
        for (const k of metricKeysOf(JSON.parse(line))) keys[d]!.add(k);
      }
    };
    return new MeshTelemetry(sink, undefined, () => undefined, d);
  });
  return {
    telemetry,
    lines,
    resetLines() {
      for (const d of METRIC_DIMENSIONS) lines[d] = 0;
    },
    metricKeys: () =>
      Object.fromEntries(METRIC_DIMENSIONS.map((d) => [d, keys[d]!.size])) as Record<MetricDimensions, number>,
  };
}

/** The sandboxes, spread over the calling services in turn, each a real PolicyCache reading through the proxy. */
function startFleet(settings: SimSettings, mesh: MeshShape, world: SimWorld): Fleet {
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${world.proxyPort}`,
  };
  const touching = new Map<string, number>();
  const readFailures = { count: 0 };
  const sandboxes = Array.from({ length: settings.sandboxes }, (_, i): Sandbox => {
    const service = mesh.callers[i % mesh.callers.length]!;
    const own = seeded(settings.seed * 7919 + i);
    // Each sandbox started at its own moment: its calls and reads fall at its own phase.
    const phase = Math.floor(own() * settings.startSpreadMs);
    const cache = new PolicyCache({
      tableName: TABLE,
      snapshotPath: null,
      ttlMs: settings.ttlMs,
      now: () => world.clock.t,
      env,
      random: own,
      log: () => undefined,
      onTableError: () => {
        readFailures.count++;
      },
    });
    for (const s of [service, ...mesh.targets.get(service)!]) touching.set(s, (touching.get(s) ?? 0) + 1);
    return { service, cache, phase, next: 0, own };
  });
  return { sandboxes, touching, readFailures };
}

/** One step of simulated time: the change's moments, the end of the warm-up, the calls due, their reads answered. */
async function step(run: SimRun, elapsed: number, count: RunCount): Promise<void> {
  run.world.clock.t = SIM_EPOCH + elapsed;
  if (run.change) await run.change.step(elapsed, run.world.clock.t);
  if (elapsed === run.settings.warmupMs) await endWarmup(run, count);
  await Promise.all(startCalls(run, elapsed, count));
  await Promise.all(run.fleet.sandboxes.map((sb) => sb.cache.settled()));
}

/** The warm-up's reads are counted apart (its Queries, as start-up), then forgotten with its calls and lines. */
async function endWarmup(run: SimRun, count: RunCount): Promise<void> {
  await run.world.proxy.idle();
  count.startupQueries = run.world.proxy.reads.Query?.count ?? 0;
  count.startupReadFailures = run.fleet.readFailures.count;
  run.world.proxy.reset();
  count.calls = 0;
  run.meter.resetLines();
}

/** Starts the call of each sandbox due one in this step. */
function startCalls(run: SimRun, elapsed: number, count: RunCount): Promise<void>[] {
  const started: Promise<void>[] = [];
  for (const sb of run.fleet.sandboxes) {
    if (elapsed < sb.phase || elapsed - sb.phase < sb.next) continue;
    sb.next += run.settings.callEveryMs;
    count.calls++;
    const at = run.world.clock.t;
    const call = {
      targets: run.mesh.targets.get(sb.service)!,
      telemetry: run.meter.telemetry,
      canaries: run.settings.topology.canaries,
      at,
    };
    started.push(oneCall(sb, call).then((c) => run.change?.called(sb.service, c, at)));
  }
  return started;
}

async function resultOf(run: SimRun, count: RunCount): Promise<SimResult> {
  const { settings, world } = run;
  return {
    sandboxes: settings.sandboxes,
    seconds: settings.durationMs / 1000,
    startupQueriesPerSandbox: count.startupQueries / settings.sandboxes,
    startupReadFailuresPerSandbox: count.startupReadFailures / settings.sandboxes,
    calls: count.calls,
    reads: world.proxy.reads,
    unitsByPartition: world.proxy.unitsByPartition,
    touching: run.fleet.touching,
    emfLines: run.meter.lines,
    metricKeys: run.meter.metricKeys(),
    edges: settings.topology.edges.length,
    ...(run.change ? { burst: await run.change.burst() } : {}),
  };
}

/** What one call needs besides its sandbox. */
interface CallContext {
  /** The caller's targets: it calls one of them. */
  readonly targets: readonly string[];
  readonly telemetry: readonly MeshTelemetry[];
  readonly canaries: Topology['canaries'];
  /** When the call starts (simulated epoch ms). */
  readonly at: number;
}

/** One call as the runtime makes it: the caller's own policy and its target's, authorization, telemetry on both sides. */
async function oneCall(sb: Sandbox, call: CallContext): Promise<{ target: string; allowed: boolean }> {
  const { targets } = call;
  const target = targets[Math.floor(sb.own() * targets.length)]!;
  // A busy sandbox reaches each of its targets within its first TTL: here, at its first call.
  if (sb.cache.peek(sb.service) === undefined) await Promise.all(targets.map((t) => sb.cache.get(t)));
  await sb.cache.get(sb.service);
  const policy = await sb.cache.get(target);
  const allowed = sb.cache.authorize(policy, sb.service, call.at).allowed;
  const { code, calleeCode } = callCodes(allowed, sb.own());
  const version = sb.own() < (call.canaries?.[target] ?? 0) ? '2' : '1';
  const base = {
    source: sb.service,
    destination: target,
    version,
    code,
    outcome: code === 200 ? 'ok' : 'error',
    durationMs: 12,
  };
  for (const t of call.telemetry) {
    t.record({ ...base, reporter: 'source', retries: code === 503 ? 1 : 0, denied: !allowed });
    if (calleeCode !== undefined) t.record({ ...base, code: calleeCode, reporter: 'destination', denied: !allowed });
  }
  return { target, allowed };
}

/**
 * Pure: the codes a call ends with, for the caller and the callee (undefined: it never reached the callee). A
 * denied call is a 403 on both sides; an allowed one draws from `CODES` with `r` (0..1), else 200.
 */
function callCodes(allowed: boolean, r: number): { code: number; calleeCode: number | undefined } {
  let code = allowed ? 200 : 403;
  let calleeCode: number | undefined = code;
  let acc = 0;
  for (const [c, p, callee] of CODES) {
    acc += p;
    if (code === 200 && r < acc) [code, calleeCode] = [c, callee];
  }
  return { code, calleeCode };
}

/** The distinct metrics an EMF line defines: one per metric name and dimension set, with the values. */
export function metricKeysOf(doc: Record<string, unknown>): string[] {
  const keys: string[] = [];
  const directives = (
    doc._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
  ).CloudWatchMetrics;
  for (const d of directives) {
    for (const set of d.Dimensions) {
      const dims = set.map((name) => `${name}=${String(doc[name])}`).join(',');
      for (const m of d.Metrics) keys.push(`${d.Namespace}|${m.Name}|${dims}`);
    }
  }
  return keys;
}

/** Deploy-time items: each service's registration and one allow item per edge. */
function policyItems(topology: Topology, services: readonly string[]): PolicyItem[] {
  const items: Record<string, unknown>[] = services.map((s) => ({
    pk: s,
    sk: 'service',
    functionName: `scale-${s}`,
    alias: 'live',
    managedBy: 'deploy',
  }));
  for (const [from, to] of topology.edges)
    items.push({ pk: to, sk: `allow#${from}`, source: from, managedBy: 'deploy' });
  return items as unknown as PolicyItem[];
}

/** What a call ended with, as the change's schedule counts it. */
interface CallOutcome {
  readonly target: string;
  readonly allowed: boolean;
}

/** The change of a run, at its moments, and what it counts. */
interface ChangeSchedule {
  /** Makes the change (or the stream's bump) when `elapsed` is its moment; `now` is the simulated clock. */
  step(elapsed: number, now: number): Promise<void>;
  /** A call the simulation made: counted when it is the denied edge's, past the deny bound. */
  called(source: string, call: CallOutcome, at: number): void;
  burst(): Promise<ChangeBurst>;
}

/**
 * The change of `SimOptions.change`: at its moment the item and the CLI's bump, a stream delay later
 * the stream's bump; from the change on, the proxy tallies the changed partition second by second.
 */
function changeSchedule(
  change: NonNullable<SimOptions['change']>,
  settings: SimSettings,
  world: SimWorld,
): ChangeSchedule {
  const at = settings.warmupMs + change.atMs;
  let changedAt = Number.POSITIVE_INFINITY;
  const pastBound = { calls: 0, allowed: 0 };
  const streamAt = at + (change.streamDelayMs ?? 1_000);
  const deployed = Array.from({ length: change.deployItems ?? 0 }, (_, i) => deployItem(change.service, i));
  const keys = [
    { pk: change.service, sk: `deny#${change.source}` },
    ...deployed.map((item) => ({ pk: item.pk.S, sk: item.sk.S })),
  ];
  const changeItems = change.changeItems !== false;
  const bump = () =>
    bumpPolicyVersion(
      versionWriter(world.admin),
      TABLE,
      [change.service],
      change.carried === false ? {} : { keys, changeItems },
    );
  return {
    async step(elapsed, now) {
      if (elapsed === at) {
        await world.admin.send(denyItem(change));
        for (const Item of deployed) await world.admin.send(new PutItemCommand({ TableName: TABLE, Item }));
        await bump();
        world.proxy.watch(change.service, now, CHANGE_SHARD_PREFIX);
        changedAt = now;
      }
      // The stream's bumper gets the deny's record: carried by the CLI's bump, it bumps nothing more.
      if (elapsed === streamAt) {
        if (change.carried === false) await bump();
        else {
          const records = [
            denyRecord(change),
            ...deployed.map((image) => ({
              eventName: 'INSERT',
              dynamodb: { Keys: { pk: image.pk, sk: image.sk }, NewImage: image },
            })),
          ];
          await bumpForStream(versionWriter(world.admin), TABLE, { Records: records }, { changeItems });
        }
      }
    },
    called(source, call, at) {
      if (source !== change.source || call.target !== change.service || at <= changedAt + settings.ttlMs + 1_000) {
        return;
      }
      pastBound.calls++;
      if (call.allowed) pastBound.allowed++;
    },
    burst: () => burstOf(change.service, world, pastBound),
  };
}

/** What the proxy counted from the change on, with the calls of the denied caller past the bound. */
async function burstOf(
  service: string,
  world: SimWorld,
  pastBound: { readonly calls: number; readonly allowed: number },
): Promise<ChangeBurst> {
  const { watched } = world.proxy;
  return {
    service,
    unitsBySecond: Array.from(watched.unitsBySecond, (u) => u ?? 0),
    queries: watched.queries,
    allowedPastBound: pastBound.allowed,
    callsPastBound: pastBound.calls,
    changeItems: {
      unitsBySecond: Array.from(watched.groupUnitsBySecond, (u) => u ?? 0),
      billedUnitsBySecond: Array.from(watched.groupBilledUnitsBySecond, (u) => u ?? 0),
      readsBySecond: Array.from(watched.groupReadsBySecond, (u) => u ?? 0),
      reads: watched.groupReads,
      busiestShardOverMean: busiestOverMean(world.proxy.unitsByPartition, CHANGE_SHARD_PREFIX),
      itemBytes: await changeItemSize(world.admin),
    },
  };
}

/** The key prefix of the change items' partitions. */
const CHANGE_SHARD_PREFIX = POLICY_VERSION.changesPartition(0).slice(0, -1);

/** The busiest change shard, whose partitions start with `prefix` (read units over the run), over their mean. */
function busiestOverMean(units: ReadonlyMap<string, number>, prefix: string): number {
  const shards = [...units].filter(([pk]) => pk.startsWith(prefix)).map(([, u]) => u);
  if (shards.length === 0) return 0;
  const mean = shards.reduce((a, b) => a + b, 0) / POLICY_VERSION.changeShards;
  return Math.max(...shards) / mean;
}

/** The size of the biggest change item in shard 0's partition, as DynamoDB sizes it (0: none). */
async function changeItemSize(admin: DynamoDBClient): Promise<number> {
  const { Items } = await admin.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: POLICY_VERSION.changesPartition(0) } },
    }),
  );
  return Math.max(0, ...(Items ?? []).map((i) => itemBytes(i as Record<string, AttributeValue>)));
}

/** The operator's deny of the change's source, written to the changed service's partition. */
function denyItem(change: NonNullable<SimOptions['change']>): PutItemCommand {
  return new PutItemCommand({ TableName: TABLE, Item: denyAttributes(change) });
}

/** The `i`th item of a deploy to `service`: an allow of a caller no sandbox runs. */
function deployItem(service: string, i: number) {
  const source = `deployed-${i}`;
  return {
    pk: { S: service },
    sk: { S: `allow#${source}` },
    source: { S: source },
    managedBy: { S: 'deploy' },
  };
}

/** The deny's stream record, as a `NEW_IMAGE` stream delivers it. */
function denyRecord(change: NonNullable<SimOptions['change']>) {
  const image = denyAttributes(change);
  return { eventName: 'INSERT', dynamodb: { Keys: { pk: image.pk, sk: image.sk }, NewImage: image } };
}

function denyAttributes(change: NonNullable<SimOptions['change']>) {
  return {
    pk: { S: change.service },
    sk: { S: `deny#${change.source}` },
    source: { S: change.source },
    managedBy: { S: 'operator' },
  };
}
