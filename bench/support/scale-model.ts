/**
 * The scale model: per-sandbox figures measured by the simulation (scale-sim.ts), scaled to fleets of
 * 1,000 to 100,000 concurrent sandboxes, priced at the us-east-1 on-demand prices below. Pure.
 */
import { POLICY_VERSION } from '../../shared/names';
import {
  DEFAULT_METRIC_DIMENSIONS,
  METRIC_DIMENSIONS,
  type MetricDimensions,
} from '../../shared/telemetry/metric-dimensions';
import type { BumperCost } from './bumper-cost';
import type { SimResult } from './scale-sim';

/**
 * us-east-1 prices, read on 2026-11-30 from stored copies of the public pricing pages (no internet
 * here): "Amazon DynamoDB pricing" (on-demand), "Amazon CloudWatch pricing", "AWS X-Ray pricing" and
 * "AWS Lambda pricing" (x86).
 */
export const PRICES = {
  lookedUp: '2026-11-30',
  /** On-demand, per million read request units. */
  dynamoReadPerMillion: 0.125,
  /** On-demand, per million write request units (a transactional write of up to 1 KB takes 2). */
  dynamoWritePerMillion: 0.625,
  /** Per million Lambda requests. */
  lambdaRequestPerMillion: 0.2,
  /** Per GB-second of Lambda duration (x86, first tier). */
  lambdaGbSecond: 0.0000166667,
  /** Per custom metric per month, first 10,000 metrics. */
  customMetricPerMonth: 0.3,
  /** Per million traces recorded. */
  xrayTracePerMillion: 5,
} as const;

/** DynamoDB's read limit per partition, read units per second ("Service, account, and table quotas"). */
export const PARTITION_LIMIT = 3_000;
const MONTH_S = 30 * 24 * 3600;
/** X-Ray's default sampling rule records about 5% of requests past the first each second. */
const XRAY_SAMPLED = 0.05;

export interface ScaleRow {
  readonly design: string;
  readonly topology: string;
  readonly sandboxes: number;
  readonly hottestPartitionUnits: number;
  readonly hottestPartition: string;
  readonly totalUnits: number;
  readonly readCostPerMonth: number;
  /** Custom metrics and their monthly cost, per dimension setting (`metricDimensions`). */
  readonly customMetrics: Readonly<Record<MetricDimensions, number>>;
  readonly metricCostPerMonth: Readonly<Record<MetricDimensions, number>>;
  readonly xrayCostPerMonth: number;
}

/** Per sandbox per second, from one run. */
export function perSandbox(run: SimResult) {
  const s = run.sandboxes * run.seconds;
  const kinds = Object.fromEntries(
    Object.entries(run.reads).map(([op, t]) => [
      op,
      { readsPerSecond: t.count / s, bytesPerRead: t.bytes / t.count, unitsPerRead: t.units / t.count },
    ]),
  );
  return {
    kinds,
    unitsPerSecond: Object.values(run.reads).reduce((a, t) => a + t.units, 0) / s,
    callsPerSecond: run.calls / s,
    /** Of the default setting. */
    emfLinesPerCall: run.emfLines[DEFAULT_METRIC_DIMENSIONS] / run.calls,
    metricKeysPerEdge: run.metricKeys[DEFAULT_METRIC_DIMENSIONS] / run.edges,
  };
}

/**
 * A fleet of `sandboxes`, spread over the services as in the run. The hottest partition: the run's,
 * scaled; a version shard carries 1/shards of all polls (the run's busiest shard is kept when higher:
 * random picks are never perfectly even).
 */
export function scale(run: SimResult, design: string, topology: string, sandboxes: number): ScaleRow {
  const k = sandboxes / run.sandboxes;
  const [hottest, units] = [...run.unitsByPartition].reduce((a, b) => (b[1] > a[1] ? b : a), ['-', 0]);
  const hottestPartitionUnits = (units / run.seconds) * k;
  const totalUnits = (Object.values(run.reads).reduce((a, t) => a + t.units, 0) / run.seconds) * k;
  const p = perSandbox(run);
  return {
    design,
    topology,
    sandboxes,
    hottestPartitionUnits,
    hottestPartition: partitionName(hottest),
    totalUnits,
    readCostPerMonth: (totalUnits * MONTH_S * PRICES.dynamoReadPerMillion) / 1e6,
    customMetrics: run.metricKeys,
    metricCostPerMonth: bySetting((d) => run.metricKeys[d] * PRICES.customMetricPerMonth),
    xrayCostPerMonth: (sandboxes * p.callsPerSecond * XRAY_SAMPLED * MONTH_S * PRICES.xrayTracePerMillion) / 1e6,
  };
}

/** How the table names a partition: a version shard, a change shard, or the service's own. */
function partitionName(pk: string): string {
  if (pk.startsWith(POLICY_VERSION.changesPartition(0).slice(0, -1))) return 'a change shard';
  return pk.startsWith(POLICY_VERSION.partitionPrefix) ? 'a version shard' : pk;
}

/**
 * What a busy sandbox reads of the version, per second: one GetItem each time its confirmation (as of
 * the read, less the consistency lag) is a TTL old.
 */
export function modelVersionReadsPerSecond(ttlMs: number, lagMs: number): number {
  return 1000 / (ttlMs - lagMs);
}

/**
 * What the version bumper is taken to run per invocation: its memory (the construct's default, 128 MB)
 * and a duration of one TransactWriteItems round trip and a little (an assumption: not measurable here).
 */
export const BUMPER_INVOCATION = { memoryGb: 0.125, seconds: 0.1 } as const;

/** A policy change to the most touched service, at one fleet size. */
export interface ChangeRow {
  /** How the bumps were made (with or without the changes in the version item). */
  readonly design: string;
  readonly sandboxes: number;
  readonly service: string;
  /** Read units the change makes the fleet spend on the service's partition (its re-queries). */
  readonly readUnits: number;
  /** Read units on that partition in the busiest second after the change. */
  readonly peakUnitsPerSecond: number;
  /** Read units the fleet spends on change items (shared/change-items.ts), all shards together. */
  readonly changeItemUnits: number;
  /**
   * Read units on the busiest change shard in the busiest second, from the bytes answered: the reads of
   * the busiest second of all shards together, scaled, as the random pick may heap them on one shard
   * (`busiestShardReads`), at the units a read measured.
   */
  readonly changeShardPeakUnitsPerSecond: number;
  /** The same, at the read units DynamoDB bills (the item's size, not its JSON). */
  readonly changeShardPeakBilledUnitsPerSecond: number;
  /** Dollars per 1,000 such changes: the fleet's reads (re-queries and change items), and the bumper (CLI change / other writer). */
  readonly readCostPer1000: number;
  readonly bumperCostPer1000: Readonly<Record<'cli' | 'raw', number>>;
}

/** One bumper's cost per change in dollars: its invocations and the version items it and the CLI write. */
export function bumperDollars(c: BumperCost): number {
  const invocation =
    PRICES.lambdaRequestPerMillion / 1e6 +
    BUMPER_INVOCATION.memoryGb * BUMPER_INVOCATION.seconds * PRICES.lambdaGbSecond;
  return c.invocations * invocation + (c.writeUnits * PRICES.dynamoWritePerMillion) / 1e6;
}

/** The change items one bump writes, in dollars: one per change shard, a write unit per KB (not in a transaction). */
export function changeItemWriteDollars(itemBytes: number): number {
  if (itemBytes === 0) return 0;
  return (POLICY_VERSION.changeShards * Math.ceil(itemBytes / 1024) * PRICES.dynamoWritePerMillion) / 1e6;
}

/**
 * The chance, per second, that the busiest shard takes more than `busiestShardReads` says: small enough
 * that a deploy's few seconds of change item reads never see it.
 */
export const BUSIEST_SHARD_RISK = 1e-6;

/**
 * The reads the busiest of `shards` partitions takes when `reads` reads each pick one at random, as
 * sandboxes pick a change shard: the smallest count that any shard exceeds with a chance under `risk`
 * (the binomial tail of one shard, times the shards: a union bound). Computed, not measured: a thousand
 * simulated sandboxes over 64 shards are too few to show how a fleet's picks heap up, and the ratio
 * of their busiest shard to the mean shrinks as the reads grow (about 1 + z / sqrt(reads / shards)).
 */
export function busiestShardReads(reads: number, shards: number, risk = BUSIEST_SHARD_RISK): number {
  const n = Math.round(reads);
  if (n <= 0 || shards <= 1) return Math.max(0, n);
  const p = 1 / shards;
  // log P(X = k), k = 0..n, each from the one before (no factorials to overflow).
  const log = new Float64Array(n + 1);
  log[0] = n * Math.log1p(-p);
  const ratio = Math.log(p) - Math.log1p(-p);
  for (let k = 0; k < n; k++) log[k + 1] = log[k]! + Math.log(n - k) - Math.log(k + 1) + ratio;
  let tail = 0; // P(X >= k), summed from the top
  for (let k = n; k > 0; k--) {
    tail += Math.exp(log[k]!);
    if (shards * tail >= risk) return k; // P(X > k) was under risk / shards
  }
  return 0;
}

/**
 * A change as the run with `change` measured it, scaled to `sandboxes`: the re-queries and the change
 * item reads grow with the sandboxes that touch the service, and so do their busiest seconds (the run's
 * sandboxes start evenly over a TTL, so their polls, and the reads that follow, fall as a fleet's do).
 * The bumper's writes of change items (the CLI's bump, or the stream's for another writer) are added to
 * its measured cost.
 */
export function changeCost(
  run: SimResult,
  design: string,
  bumper: Readonly<Record<'cli' | 'raw', BumperCost>>,
  sandboxes: number,
): ChangeRow {
  if (!run.burst) throw new Error('changeCost needs a run with a change (SimOptions.change)');
  const k = sandboxes / run.sandboxes;
  const { changeItems } = run.burst;
  const readUnits = run.burst.unitsBySecond.reduce((a, b) => a + b, 0) * k;
  const changeItemUnits = changeItems.unitsBySecond.reduce((a, b) => a + b, 0) * k;
  const writes = changeItemWriteDollars(changeItems.itemBytes);
  const peak = busiestSecond(changeItems.readsBySecond);
  const shardReads = busiestShardReads((changeItems.readsBySecond[peak] ?? 0) * k, POLICY_VERSION.changeShards);
  const perRead = (bySecond: readonly number[]) =>
    bySecond[peak] ? bySecond[peak] / changeItems.readsBySecond[peak]! : 0;
  return {
    design,
    sandboxes,
    service: run.burst.service,
    readUnits,
    peakUnitsPerSecond: Math.max(0, ...run.burst.unitsBySecond) * k,
    changeItemUnits,
    changeShardPeakUnitsPerSecond: shardReads * perRead(changeItems.unitsBySecond),
    changeShardPeakBilledUnitsPerSecond: shardReads * perRead(changeItems.billedUnitsBySecond),
    readCostPer1000: (1000 * (readUnits + changeItemUnits) * PRICES.dynamoReadPerMillion) / 1e6,
    bumperCostPer1000: {
      cli: 1000 * (bumperDollars(bumper.cli) + writes),
      raw: 1000 * (bumperDollars(bumper.raw) + writes),
    },
  };
}

/** The second with the most reads (0 when none). */
function busiestSecond(readsBySecond: readonly number[]): number {
  let busiest = 0;
  for (const [s, n] of readsBySecond.entries()) if (n > (readsBySecond[busiest] ?? 0)) busiest = s;
  return busiest;
}

export function changeTable(rows: readonly ChangeRow[]): string {
  const head =
    '| design | sandboxes | changed service | re-query read units | busiest second, RU/s on its partition | change item read units | busiest second, RU/s on the busiest change shard (wire bytes / billed) | fleet’s reads $ per 1,000 changes | bumper $ per 1,000 changes (CLI / other writer) |\n' +
    '|---|--:|---|--:|--:|--:|--:|--:|--:|\n';
  const none = (r: ChangeRow) => r.changeItemUnits === 0;
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.design} | ${r.sandboxes.toLocaleString('en-US')} | ${r.service} | ${num(r.readUnits)} | ${units(r.peakUnitsPerSecond)} | ${none(r) ? '–' : num(r.changeItemUnits)} | ${none(r) ? '–' : `${units(r.changeShardPeakUnitsPerSecond)} / ${units(r.changeShardPeakBilledUnitsPerSecond)}`} | ${usd(r.readCostPer1000)} | ${usd(r.bumperCostPer1000.cli)} / ${usd(r.bumperCostPer1000.raw)} |`,
      )
      .join('\n')
  );
}

/** Read units a second, flagged past the partition limit. */
const units = (n: number) => `${num(n)}${n > PARTITION_LIMIT ? ' **over the limit**' : ''}`;

function bySetting(f: (d: MetricDimensions) => number): Record<MetricDimensions, number> {
  return Object.fromEntries(METRIC_DIMENSIONS.map((d) => [d, f(d)])) as Record<MetricDimensions, number>;
}

const usd = (n: number) => `$${n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')}`;
/** A figure as the tables print it: one decimal under 10, else a rounded whole number. */
export const num = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));

export function markdownTable(rows: readonly ScaleRow[]): string {
  const head =
    `| design | topology | sandboxes | hottest partition RU/s | total RU/s | policy reads $/month | custom metrics (${METRIC_DIMENSIONS.join(' / ')}) | metrics $/month (${METRIC_DIMENSIONS.join(' / ')}) | X-Ray $/month |\n` +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|\n';
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.design} | ${r.topology} | ${r.sandboxes.toLocaleString('en-US')} | ${num(r.hottestPartitionUnits)} (${r.hottestPartition})${r.hottestPartitionUnits > PARTITION_LIMIT ? ' **over the limit**' : ''} | ${num(r.totalUnits)} | ${usd(r.readCostPerMonth)} | ${METRIC_DIMENSIONS.map((d) => r.customMetrics[d].toLocaleString('en-US')).join(' / ')} | ${METRIC_DIMENSIONS.map((d) => usd(r.metricCostPerMonth[d])).join(' / ')} | ${usd(r.xrayCostPerMonth)} |`,
      )
      .join('\n')
  );
}
