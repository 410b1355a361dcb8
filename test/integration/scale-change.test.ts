/**
 * What a policy change costs, as the scale model counts it (bench/scale.ts, "A policy change"): the
 * fleet's re-queries of the changed partition, measured on 200 simulated sandboxes (the runtime's own
 * policy caches against dynalite) when an operator denies one of the skewed mesh's hub's callers, and the
 * version bumper's invocations and writes per change, on the local endpoint's DynamoDB and stream.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BumperCost, measureBumper } from '../../bench/support/bumper-cost';
import {
  bumperDollars,
  busiestShardReads,
  changeCost,
  changeItemWriteDollars,
  PARTITION_LIMIT,
} from '../../bench/support/scale-model';
import { simulate, skewedMesh } from '../../bench/support/scale-sim';
import { VERSION_READ_LAG_MS } from '../../functions/mesh/policy/policy-table-reader';
import { CHANGE_ITEM_MAX_BYTES } from '../../shared/change-items';
import { POLICY_VERSION } from '../../shared/names';

describe('scale: a policy change to the hub', () => {
  const topology = skewedMesh(50);
  const changeRun = (carried: boolean, deployItems = 0) =>
    simulate({
      topology,
      sandboxes: 200,
      durationMs: 14_000,
      ttlMs: 5_000,
      // One poll period: the sandboxes' polls fall evenly over time (bench/scale.ts).
      startSpreadMs: 5_000 - VERSION_READ_LAG_MS,
      change: { service: 's00', source: 's01', atMs: 2_000, carried, deployItems },
    });

  // The bumper's cost per change does not depend on the run it prices (its own table, its own stream):
  // measured once for the three runs below, not once each.
  let bumpers: Promise<{ cli: BumperCost; raw: BumperCost }> | undefined;
  const bumperCosts = () => {
    bumpers ??= Promise.all([measureBumper('cli', 2), measureBumper('raw', 2)]).then(([cli, raw]) => ({ cli, raw }));
    return bumpers;
  };

  it('bumps that carry the change: no sandbox queries the hub, and the deny holds past TTL + 1 s', async () => {
    const run = await changeRun(true);
    const burst = run.burst!;
    assert.equal(burst.queries, 0, 'the changed item came with the version read');
    assert.ok(burst.callsPastBound > 0, 'the denied caller kept calling');
    assert.equal(burst.allowedPastBound, 0, `${burst.allowedPastBound} calls allowed past TTL + 1 s`);
    const bumper = await bumperCosts();
    const at100k = changeCost(run, topology.name, bumper, 100_000);
    assert.ok(at100k.peakUnitsPerSecond < 1_000, `${at100k.peakUnitsPerSecond} RU/s on the hub at 100,000`);
  });

  it('bumps without the change: every sandbox that touches the hub queries it, a burst the model scales', async () => {
    const run = await changeRun(false);
    const burst = run.burst!;
    const touching = run.touching.get('s00')!;
    // About one Query per sandbox that touches the hub (some two: between the CLI's bump and the stream's).
    assert.ok(burst.queries >= touching * 0.9, `${burst.queries} re-queries for ${touching} sandboxes`);
    assert.ok(burst.queries <= touching * 1.5, `${burst.queries} re-queries for ${touching} sandboxes`);
    assert.equal(burst.allowedPastBound, 0, `${burst.allowedPastBound} calls allowed past TTL + 1 s`);
    const bumper = await bumperCosts();
    const at100k = changeCost(run, topology.name, bumper, 100_000);
    const total = burst.unitsBySecond.reduce((a, b) => a + b, 0);
    assert.equal(at100k.readUnits, total * 500);
    assert.equal(at100k.peakUnitsPerSecond, Math.max(0, ...burst.unitsBySecond) * 500);
    assert.ok(at100k.peakUnitsPerSecond > PARTITION_LIMIT, `${at100k.peakUnitsPerSecond} RU/s at 100,000`);
  });

  it('a deploy of 40 items in change items: one change item read per sandbox, no Query of the hub, the deny holds', async () => {
    const run = await changeRun(true, 39);
    const burst = run.burst!;
    const touching = run.touching.get('s00')!;
    assert.equal(burst.queries, 0, 'the deploy came from the change items');
    assert.equal(burst.changeItems.reads, touching, 'one change item read per sandbox that touches the hub');
    assert.ok(burst.callsPastBound > 0, 'the denied caller kept calling');
    assert.equal(burst.allowedPastBound, 0, `${burst.allowedPastBound} calls allowed past TTL + 1 s`);
    assert.ok(burst.changeItems.itemBytes > 2_000 && burst.changeItems.itemBytes <= CHANGE_ITEM_MAX_BYTES);
    const bumper = await bumperCosts();
    const at100k = changeCost(run, topology.name, bumper, 100_000);
    assert.equal(at100k.peakUnitsPerSecond, 0, 'nothing read on the hub’s partition');
    const total = burst.changeItems.unitsBySecond.reduce((a, b) => a + b, 0);
    assert.equal(at100k.changeItemUnits, total * 500);
    // The busiest shard in the busiest second: that second's reads, scaled, as the random pick heaps them.
    const reads = burst.changeItems.readsBySecond;
    const peak = reads.indexOf(Math.max(...reads));
    const shardReads = busiestShardReads(reads[peak]! * 500, POLICY_VERSION.changeShards);
    assert.ok(shardReads > (reads[peak]! * 500) / POLICY_VERSION.changeShards, 'more than an even share');
    assert.equal(
      at100k.changeShardPeakUnitsPerSecond,
      (shardReads * burst.changeItems.unitsBySecond[peak]!) / reads[peak]!,
    );
    assert.equal(
      at100k.changeShardPeakBilledUnitsPerSecond,
      (shardReads * burst.changeItems.billedUnitsBySecond[peak]!) / reads[peak]!,
    );
    // Billed by the item's size (one 4 KB step, eventually consistent), not by its JSON on the wire.
    assert.equal(burst.changeItems.billedUnitsBySecond[peak]! / reads[peak]!, 0.5);
    assert.ok(
      at100k.changeShardPeakUnitsPerSecond < PARTITION_LIMIT / 3,
      `${at100k.changeShardPeakUnitsPerSecond} RU/s on the busiest change shard at 100,000`,
    );
    const writes = changeItemWriteDollars(burst.changeItems.itemBytes);
    assert.ok(writes > 0, 'the bump wrote the change items');
    assert.equal(writes, (POLICY_VERSION.changeShards * 4 * 0.625) / 1e6, 'a write unit per KB of each of 64 items');
    assert.equal(at100k.bumperCostPer1000.cli, 1000 * (bumperDollars(bumper.cli) + writes));
  });

  it('the bumper: one invocation per change, one bump per change whoever wrote it, every shard written', async () => {
    const cli = await measureBumper('cli', 3);
    const raw = await measureBumper('raw', 3);
    // The CLI bumps; its record reaches the stream's bumper, which finds it carried and bumps nothing.
    assert.equal(cli.versionWrites, POLICY_VERSION.shards);
    assert.equal(cli.invocations, 1);
    // Any other writer: the stream's bump only. The version items' records are filtered out of the mapping.
    assert.equal(raw.versionWrites, POLICY_VERSION.shards);
    assert.equal(raw.invocations, 1);
    // Each shard write is transactional, 2 write units per KB of the version item, which stays one read unit.
    assert.ok(raw.versionItemBytes < 4096, `${raw.versionItemBytes} bytes`);
    assert.equal(raw.writeUnits, 2 * POLICY_VERSION.shards * Math.ceil(raw.versionItemBytes / 1024));
  });
});
