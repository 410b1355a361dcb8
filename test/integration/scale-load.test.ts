/**
 * The short form of the scale measurement (bench/scale.ts runs 1,000 sandboxes per topology): 200
 * simulated sandboxes, each the runtime's own policy cache and telemetry, for 60 s of simulated time
 * against dynalite on the skewed 50-service mesh. The reads per sandbox per second are the model's,
 * no partition carries more than its share, and the metrics per edge stay within the model's count.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelVersionReadsPerSecond, perSandbox, scale } from '../../bench/support/scale-model';
import { simulate, skewedMesh } from '../../bench/support/scale-sim';
import { VERSION_READ_LAG_MS } from '../../functions/mesh/policy/policy-table-reader';
import { POLICY_VERSION } from '../../shared/names';

/**
 * Distinct metrics per edge the model counts for the skewed mesh at 1,000 sandboxes with the default
 * dimension sets (docs/scale.md: 5.4), +10%.
 */
const MODEL_METRICS_PER_EDGE = 6;
/** The bill the default dimension sets keep a 50-service mesh under. */
const MAX_METRICS_50_SERVICES = 1_000;

describe('scale: 200 simulated sandboxes for 60 s on the skewed mesh', () => {
  it('polls one version shard per TTL, queries only at start, and spreads the polls over the shards', async () => {
    const topology = skewedMesh(50);
    const run = await simulate({ topology, sandboxes: 200, durationMs: 60_000, ttlMs: 5_000 });
    const p = perSandbox(run);

    const model = modelVersionReadsPerSecond(5_000, VERSION_READ_LAG_MS);
    const polls = p.kinds.GetItem?.readsPerSecond ?? 0;
    assert.ok(
      Math.abs(polls - model) <= model * 0.1,
      `version reads ${polls.toFixed(4)}/s vs model ${model.toFixed(4)}/s`,
    );
    assert.ok((p.kinds.GetItem?.unitsPerRead ?? 1) === 0.5, 'the poll is one small eventually consistent read');

    // No policy changed: each sandbox queried each service it touches once, at start, and never again;
    // a start-up read that failed (timed out on a starved machine) is read once more, and only then.
    const touched = [...run.touching.values()].reduce((a, b) => a + b, 0) / run.sandboxes;
    const again = run.startupReadFailuresPerSandbox;
    assert.ok(
      run.startupQueriesPerSandbox >= touched && run.startupQueriesPerSandbox <= touched + again,
      `${run.startupQueriesPerSandbox} Queries per sandbox at start: one per service touched (${touched}), ` +
        `plus at most one per failed read (${again})`,
    );
    assert.equal(run.reads.Query, undefined, 'no Query after the start');

    const shards = [...run.unitsByPartition].filter(([pk]) => pk.startsWith(POLICY_VERSION.partitionPrefix));
    const mean = shards.reduce((a, [, u]) => a + u, 0) / POLICY_VERSION.shards;
    const busiest = Math.max(...shards.map(([, u]) => u));
    assert.ok(busiest <= mean * 1.6, `busiest shard ${busiest} RU vs mean ${mean.toFixed(1)} RU`);

    const at100k = scale(run, 'after', topology.name, 100_000);
    assert.ok(at100k.hottestPartitionUnits < 1_000, `${at100k.hottestPartitionUnits} RU/s on the hottest partition`);

    assert.ok(
      p.metricKeysPerEdge <= MODEL_METRICS_PER_EDGE,
      `${p.metricKeysPerEdge.toFixed(2)} metrics per edge, model ${MODEL_METRICS_PER_EDGE}`,
    );
    assert.ok(
      run.metricKeys.standard < MAX_METRICS_50_SERVICES,
      `${run.metricKeys.standard} custom metrics by default on 50 services`,
    );
    assert.ok(run.metricKeys.detailed > run.metricKeys.standard * 3, 'detailed publishes the full set on top');
  });
});
