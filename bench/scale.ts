/**
 * `npm run scale`: measures the runtime (bench/support/scale-sim.ts: 1,000 simulated sandboxes for
 * 60 s of simulated time against dynalite, for each topology, before and after the policy version),
 * scales the per-sandbox figures to 1,000 / 10,000 / 100,000 sandboxes, prints the table and writes
 * docs/scale.md. `--sandboxes <n>` for a quicker run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION_READ_LAG_MS } from '../functions/mesh/policy/policy-table-reader';
import { METRIC_DIMENSIONS } from '../shared/telemetry/metric-dimensions';
import { measureBumper } from './support/bumper-cost';
import { type ChangeItemsMeasure, type ChangeMeasure, scaleDoc } from './support/scale-doc';
import {
  type ChangeRow,
  changeCost,
  changeTable,
  markdownTable,
  perSandbox,
  type ScaleRow,
  scale,
} from './support/scale-model';
import { SHOP, type SimResult, simulate, skewedMesh } from './support/scale-sim';

/** Items a deploy adds to the hub besides the deny: 40 in all, past what a bump carries. */
const DEPLOY_ITEMS = 39;

/** The policy TTL of every run (the runtime's default). */
const TTL_MS = 5_000;

/**
 * How often a busy sandbox reads the version: each time its confirmation, counted as of the read less
 * the consistency lag, is a TTL old. The change runs start their sandboxes over this stretch, so their
 * polls, and the change item reads that follow a change, fall evenly over time as a fleet's do (over a
 * longer stretch, the polls of its first part and its last would fall in the same second).
 */
const POLL_PERIOD_MS = TTL_MS - VERSION_READ_LAG_MS;

async function main(): Promise<void> {
  const i = process.argv.indexOf('--sandboxes');
  const sandboxes = i > 0 ? Number(process.argv[i + 1]) : 1_000;
  const rows: ScaleRow[] = [];
  const measured: string[] = [];
  for (const topology of [SHOP, skewedMesh(50)]) {
    for (const [design, versioned] of [
      ['before: Query per service per TTL', false],
      ['after: version GetItem per TTL', true],
    ] as const) {
      process.stderr.write(`scale: ${topology.name}, ${design}, ${sandboxes} sandboxes ...\n`);
      const run: SimResult = await simulate({ topology, sandboxes, versioned, ttlMs: TTL_MS });
      measured.push(measuredLine(topology.name, design, run));
      for (const n of [1_000, 10_000, 100_000]) rows.push(scale(run, design, topology.name, n));
    }
  }
  const table = markdownTable(rows);
  process.stdout.write(`${table}\n`);
  const change = await measureChange(sandboxes);
  process.stdout.write(`${changeTable(change.rows)}\n`);
  writeFileSync(join(__dirname, '..', 'docs', 'scale.md'), scaleDoc({ table, measured, sandboxes, change }));
}

/** A change to the skewed mesh's hub, by the CLI, as the fleet's re-queries and the bumper pay for it. */
async function measureChange(sandboxes: number): Promise<ChangeMeasure> {
  const topology = skewedMesh(50);
  process.stderr.write(`scale: ${topology.name}, a change to the hub, ${sandboxes} sandboxes ...\n`);
  const bumper = { cli: await measureBumper('cli'), raw: await measureBumper('raw') };
  const rows: ChangeRow[] = [];
  const requeries: Record<string, number> = {};
  const changeItems: Record<string, ChangeItemsMeasure> = {};
  for (const [design, carried, deployItems, items, name] of [
    ['before: bumps without the changes', false, 0, false, 'before'],
    ['after: bumps carrying the changes', true, 0, true, 'after'],
    [`a deploy of ${DEPLOY_ITEMS + 1} items to the hub (too many to carry)`, true, DEPLOY_ITEMS, false, 'deploy'],
    [`a deploy of ${DEPLOY_ITEMS + 1} items to the hub, in sharded change items`, true, DEPLOY_ITEMS, true, 'sharded'],
  ] as const) {
    const run = await simulate({
      topology,
      sandboxes,
      durationMs: 14_000,
      ttlMs: TTL_MS,
      startSpreadMs: POLL_PERIOD_MS,
      change: { service: 's00', source: 's01', atMs: 2_000, carried, deployItems, changeItems: items },
    });
    const scaled = [1_000, 10_000, 100_000].map((n) => changeCost(run, design, bumper, n));
    rows.push(...scaled);
    changeItems[name] = changeItemsMeasure(run, scaled.at(-1)!);
    requeries[name] = (run.burst?.queries ?? 0) / (run.touching.get('s00') ?? 1);
  }
  return { rows, bumper, requeries, changeItems };
}

/** A change run's reads of the change items, per sandbox that touches the hub, and its figures at 100,000. */
function changeItemsMeasure(run: SimResult, at100k: ChangeRow): ChangeItemsMeasure {
  const { changeItems: items, allowedPastBound, callsPastBound } = run.burst!;
  const units = items.unitsBySecond.reduce((a, b) => a + b, 0);
  return {
    readsPerSandbox: items.reads / (run.touching.get('s00') ?? 1),
    unitsPerRead: items.reads ? units / items.reads : 0,
    busiestShardOverMean: items.busiestShardOverMean,
    reads: items.reads,
    itemBytes: items.itemBytes,
    allowedPastBound,
    callsPastBound,
    hubPeakAt100k: at100k.peakUnitsPerSecond,
    shardPeakAt100k: at100k.changeShardPeakUnitsPerSecond,
    shardPeakBilledAt100k: at100k.changeShardPeakBilledUnitsPerSecond,
    peakSecondReadsAt100k: Math.max(0, ...items.readsBySecond) * (100_000 / run.sandboxes),
  };
}

function measuredLine(topology: string, design: string, run: SimResult): string {
  const p = perSandbox(run);
  const kinds = Object.entries(p.kinds)
    .map(
      ([op, k]) =>
        `${op} ${k.readsPerSecond.toFixed(3)}/s × ${Math.round(k.bytesPerRead)} B × ${k.unitsPerRead.toFixed(2)} RU`,
    )
    .join('; ');
  const startup = run.startupQueriesPerSandbox.toFixed(2);
  const metrics = METRIC_DIMENSIONS.map(
    (d) => `${d} ${run.metricKeys[d]} (${(run.metricKeys[d] / run.edges).toFixed(1)} per edge)`,
  ).join('; ');
  return `| ${topology} | ${design} | ${kinds} | ${startup} | ${p.emfLinesPerCall.toFixed(2)} | ${metrics} |`;
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
