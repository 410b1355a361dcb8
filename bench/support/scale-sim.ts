/**
 * The measurement behind the scale model: many simulated sandboxes, each a real PolicyCache (its own
 * clock offset, its own seeded randomness, its own wire client signing requests by hand) and a real
 * MeshTelemetry, calling their targets for a stretch of simulated time against the local endpoint's
 * DynamoDB (dynalite with its transactions) on 127.0.0.1. A proxy in front of it counts every read by
 * operation and partition, and the bytes answered.
 * Simulated time advances in steps; every read a step started is answered before the next step.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { seed } from '../../functions/control/policy-seeder';
import { versionWriter } from '../../functions/control/version-writer';
import { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { createPolicyTable, seedItems, serveDynamo } from '../../local/endpoint/dynamodb';
import type { PolicyItem } from '../../shared/policy';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { METRIC_DIMENSIONS, type MetricDimensions } from '../../shared/telemetry/metric-dimensions';
import { seeded } from '../../test/support/seeded-random';

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
   * (one of `service`'s callers) written to `service`'s partition, the version bumped at once, and bumped
   * again `streamDelayMs` later (the table's stream bumps every change, the CLI's too). `atMs` counts
   * from the end of the warm-up, in steps of 100 ms.
   */
  readonly change?: {
    readonly service: string;
    readonly source: string;
    readonly atMs: number;
    readonly streamDelayMs?: number;
    /** false: the bumps carry no changes (the design before), every sandbox queries. @default true */
    readonly carried?: boolean;
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
}

/** What one read kind cost, summed over the run. */
export interface ReadTally {
  count: number;
  bytes: number;
  /** Read units as DynamoDB bills them (4 KB steps; an eventually consistent read is half). */
  units: number;
}

export interface SimResult {
  readonly sandboxes: number;
  /** Measured after the warm-up. */
  readonly seconds: number;
  /** Queries a sandbox sent in its warm-up (its start: each service it touches). */
  readonly startupQueriesPerSandbox: number;
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

export async function simulate(opts: SimOptions): Promise<SimResult> {
  const { topology } = opts;
  const durationMs = opts.durationMs ?? 60_000;
  const callEvery = opts.callEveryMs ?? 1_000;
  const ttlMs = opts.ttlMs ?? 5_000;
  const table = 'scale-policy';
  const db = await serveDynamo();
  const dbPort = Number(new URL(db.url).port);
  const clock = { t: 1_700_000_000_000 };
  const proxy = readCounter(dbPort, () => clock.t);
  const proxyPort = await listen(proxy.server);
  const admin = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${dbPort}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    await createPolicyTable(`http://127.0.0.1:${dbPort}`, table);
    const services = [...new Set(topology.edges.flat())].sort();
    const items = policyItems(topology, services);
    if (opts.versioned ?? true) {
      await seed(
        admin,
        { RequestType: 'Create', ResourceProperties: { TableName: table, Items: JSON.stringify(items) } },
        () => undefined,
      );
    } else {
      await seedItems(`http://127.0.0.1:${dbPort}`, table, items as never); // no version item
    }
    proxy.reset();

    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxyPort}`,
    };
    const targets = new Map<string, string[]>();
    for (const [from, to] of topology.edges) targets.set(from, [...(targets.get(from) ?? []), to]);
    const callers = services.filter((s) => targets.has(s));
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
    const touching = new Map<string, number>();
    const sandboxes = Array.from({ length: opts.sandboxes }, (_, i) => {
      const service = callers[i % callers.length]!;
      const own = seeded((opts.seed ?? 1) * 7919 + i);
      // Each sandbox started at its own moment: its calls and reads fall at its own phase.
      const phase = Math.floor(own() * (opts.startSpreadMs ?? callEvery));
      const cache = new PolicyCache({
        tableName: table,
        snapshotPath: null,
        ttlMs,
        now: () => clock.t,
        env,
        random: own,
        log: () => undefined,
      });
      for (const s of [service, ...targets.get(service)!]) touching.set(s, (touching.get(s) ?? 0) + 1);
      return { service, cache, phase, next: 0, own };
    });

    let calls = 0;
    const stepMs = 100;
    const start = clock.t;
    const warmupMs = opts.warmupMs ?? ttlMs + 1_000;
    let startupQueries = 0;
    const change = opts.change && changeSchedule(opts.change, warmupMs, ttlMs, admin, table);
    for (let elapsed = 0; elapsed < durationMs + warmupMs; elapsed += stepMs) {
      clock.t = start + elapsed;
      if (change) await change.step(elapsed, proxy, clock.t);
      if (elapsed === warmupMs) {
        await proxy.idle();
        startupQueries = proxy.reads.Query?.count ?? 0;
        proxy.reset();
        calls = 0;
        for (const d of METRIC_DIMENSIONS) lines[d] = 0;
      }
      const started: Promise<void>[] = [];
      for (const sb of sandboxes) {
        if (elapsed < sb.phase || elapsed - sb.phase < sb.next) continue;
        sb.next += callEvery;
        calls++;
        const at = clock.t;
        started.push(
          oneCall(sb, targets.get(sb.service)!, telemetry, topology, at).then((c) => change?.called(sb.service, c, at)),
        );
      }
      await Promise.all(started);
      await Promise.all(sandboxes.map((sb) => sb.cache.settled()));
    }
    await proxy.idle();
    return {
      sandboxes: opts.sandboxes,
      seconds: durationMs / 1000,
      startupQueriesPerSandbox: startupQueries / opts.sandboxes,
      calls,
      reads: proxy.reads,
      unitsByPartition: proxy.unitsByPartition,
      touching,
      emfLines: lines,
      metricKeys: Object.fromEntries(METRIC_DIMENSIONS.map((d) => [d, keys[d]!.size])) as Record<
        MetricDimensions,
        number
      >,
      edges: topology.edges.length,
      ...(change ? { burst: change.burst(proxy) } : {}),
    };
  } finally {
    admin.destroy();
    await close(proxy.server);
    await db.close();
  }
}

/** One call as the runtime makes it: the caller's own policy and its target's, authorization, telemetry on both sides. */
async function oneCall(
  sb: { service: string; cache: PolicyCache; own: () => number },
  targets: readonly string[],
  telemetry: readonly MeshTelemetry[],
  topology: Topology,
  at: number,
): Promise<{ target: string; allowed: boolean }> {
  const target = targets[Math.floor(sb.own() * targets.length)]!;
  // A busy sandbox reaches each of its targets within its first TTL: here, at its first call.
  if (sb.cache.peek(sb.service) === undefined) await Promise.all(targets.map((t) => sb.cache.get(t)));
  await sb.cache.get(sb.service);
  const policy = await sb.cache.get(target);
  const allowed = sb.cache.authorize(policy, sb.service, at).allowed;
  const r = sb.own();
  let code = allowed ? 200 : 403;
  let calleeCode: number | undefined = code;
  let acc = 0;
  for (const [c, p, callee] of CODES) {
    acc += p;
    if (code === 200 && r < acc) [code, calleeCode] = [c, callee];
  }
  const version = sb.own() < (topology.canaries?.[target] ?? 0) ? '2' : '1';
  const base = {
    source: sb.service,
    destination: target,
    version,
    code,
    outcome: code === 200 ? 'ok' : 'error',
    durationMs: 12,
  };
  for (const t of telemetry) {
    t.record({ ...base, reporter: 'source', retries: code === 503 ? 1 : 0, denied: !allowed });
    if (calleeCode !== undefined) t.record({ ...base, code: calleeCode, reporter: 'destination', denied: !allowed });
  }
  return { target, allowed };
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

/**
 * The change of `SimOptions.change`: at its moment the item and the CLI's bump, a stream delay later
 * the stream's bump; from the change on, the proxy tallies the changed partition second by second.
 */
function changeSchedule(
  change: NonNullable<SimOptions['change']>,
  warmupMs: number,
  ttlMs: number,
  admin: DynamoDBClient,
  table: string,
) {
  const at = warmupMs + change.atMs;
  let changedAt = Number.POSITIVE_INFINITY;
  const pastBound = { calls: 0, allowed: 0 };
  const streamAt = at + (change.streamDelayMs ?? 1_000);
  const keys = [{ pk: change.service, sk: `deny#${change.source}` }];
  const bump = () =>
    bumpPolicyVersion(versionWriter(admin), table, [change.service], change.carried === false ? {} : { keys });
  return {
    async step(elapsed: number, proxy: ReturnType<typeof readCounter>, now: number) {
      if (elapsed === at) {
        await admin.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              pk: { S: change.service },
              sk: { S: `deny#${change.source}` },
              source: { S: change.source },
              managedBy: { S: 'operator' },
            },
          }),
        );
        await bump();
        proxy.watch(change.service, now);
        changedAt = now;
      }
      if (elapsed === streamAt) await bump();
    },
    /** A call the simulation made: counted when it is the denied edge's, past the deny bound. */
    called(source: string, call: { target: string; allowed: boolean }, at: number) {
      if (source !== change.source || call.target !== change.service || at <= changedAt + ttlMs + 1_000) return;
      pastBound.calls++;
      if (call.allowed) pastBound.allowed++;
    },
    burst(proxy: ReturnType<typeof readCounter>): ChangeBurst {
      const unitsBySecond = Array.from(proxy.watched.unitsBySecond, (u) => u ?? 0);
      return {
        service: change.service,
        unitsBySecond,
        queries: proxy.watched.queries,
        allowedPastBound: pastBound.allowed,
        callsPastBound: pastBound.calls,
      };
    },
  };
}

/** A proxy that counts each DynamoDB read by operation and partition, with the bytes answered. */
function readCounter(upstreamPort: number, now: () => number) {
  const reads: Record<string, ReadTally> = {};
  const unitsByPartition = new Map<string, number>();
  /** One partition's reads second by second from a moment on (`watch`). */
  const watched = { pk: '', since: 0, unitsBySecond: [] as number[], queries: 0 };
  let open = 0;
  let wake: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    open++;
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '?';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const input = JSON.parse(body.toString() || '{}') as {
        Key?: { pk?: { S?: string } };
        ExpressionAttributeValues?: Record<string, { S?: string }>;
        ConsistentRead?: boolean;
      };
      const pk = input.Key?.pk?.S ?? input.ExpressionAttributeValues?.[':pk']?.S ?? '?';
      const up = http.request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            const answer = Buffer.concat(out);
            const units = Math.max(1, Math.ceil(answer.length / 4096)) * (input.ConsistentRead ? 1 : 0.5);
            reads[op] ??= { count: 0, bytes: 0, units: 0 };
            const t = reads[op];
            t.count++;
            t.bytes += answer.length;
            t.units += units;
            unitsByPartition.set(pk, (unitsByPartition.get(pk) ?? 0) + units);
            if (pk === watched.pk) {
              const second = Math.floor((now() - watched.since) / 1000);
              watched.unitsBySecond[second] = (watched.unitsBySecond[second] ?? 0) + units;
              if (op === 'Query') watched.queries++;
            }
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(answer);
            if (--open === 0) wake?.();
          });
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  return {
    server,
    reads,
    unitsByPartition,
    watched,
    watch(pk: string, since: number) {
      Object.assign(watched, { pk, since, unitsBySecond: [], queries: 0 });
    },
    reset() {
      for (const k of Object.keys(reads)) delete reads[k];
      unitsByPartition.clear();
    },
    idle: () =>
      new Promise<void>((r) => {
        if (open === 0) r();
        else wake = r;
      }),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  });
}
