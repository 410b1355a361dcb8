/**
 * The scale model's busiest shard (bench/support/scale-model.ts `busiestShardReads`): the reads the
 * busiest of the change shards takes when every read picks one at random, as the policy cache picks
 * them. Held against seeded random picks: the bound is exceeded about as often as its risk says, and
 * not much less often (it is not loose). And the read units DynamoDB bills, from the items answered
 * (bench/support/read-counter.ts `answeredItemBytes`), against the bytes on the wire.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answeredItemBytes } from '../../bench/support/read-counter';
import { busiestShardReads } from '../../bench/support/scale-model';
import { itemBytes, readUnits } from '../../shared/item-size';
import { POLICY_VERSION } from '../../shared/names';
import { seeded } from '../support/seeded-random';

/** The busiest of `shards` after `reads` picks at random. */
function busiestOf(reads: number, shards: number, random: () => number): number {
  const counts = new Array<number>(shards).fill(0);
  for (let i = 0; i < reads; i++) counts[Math.floor(random() * shards)]!++;
  return Math.max(...counts);
}

describe('scale model: the busiest change shard', () => {
  it('is exceeded by random picks about as often as its risk, not more and not much less', () => {
    // Prepare
    const shards = POLICY_VERSION.changeShards;
    const reads = 2_000;
    const risk = 0.1;
    const bound = busiestShardReads(reads, shards, risk);
    const random = seeded(7);
    const trials = 2_000;
    // Act
    let over = 0;
    let overOneLess = 0;
    for (let t = 0; t < trials; t++) {
      const busiest = busiestOf(reads, shards, random);
      if (busiest > bound) over++;
      if (busiest > bound - 1) overOneLess++;
    }
    // Assess: a union bound errs high, so at most the risk (with three standard deviations of sampling)...
    assert.ok(
      over / trials <= risk + 3 * Math.sqrt((risk * (1 - risk)) / trials),
      `${over} of ${trials} over ${bound}`,
    );
    // ...and one read less is exceeded more often than the risk allows: the bound is the smallest that holds.
    assert.ok(overOneLess / trials > risk * 0.7, `${overOneLess} of ${trials} over ${bound - 1}`);
  });

  it('heaps less, relative to the mean, as the reads grow; one shard takes all; no reads, none', () => {
    const shards = POLICY_VERSION.changeShards;
    const ratio = (reads: number) => busiestShardReads(reads, shards) / (reads / shards);
    assert.ok(ratio(1_000) > ratio(10_000) && ratio(10_000) > ratio(100_000), 'the excess shrinks');
    assert.ok(ratio(100_000) > 1, 'but never to an even share');
    assert.equal(busiestShardReads(250, 1), 250);
    assert.equal(busiestShardReads(0, shards), 0);
  });

  it('counts billed read units from the items answered, not the JSON on the wire', () => {
    const item = { pk: { S: 'mesh#version#changes#0' }, sk: { S: '21.0' }, x: { S: 'y'.repeat(3_000) } };
    const get = Buffer.from(JSON.stringify({ Item: item }));
    assert.equal(answeredItemBytes(get), itemBytes(item));
    const query = Buffer.from(JSON.stringify({ Items: [item, item], Count: 2 }));
    assert.equal(answeredItemBytes(query), 2 * itemBytes(item), 'a Query’s items summed');
    assert.equal(answeredItemBytes(Buffer.from('{}')), 0, 'nothing found');
    assert.equal(answeredItemBytes(Buffer.from('not json')), 0);
    // 3,048 bytes of item, one 4 KB step, as DynamoDB bills it; its JSON answer alone is no bigger.
    assert.equal(readUnits(answeredItemBytes(get), false), 0.5);
  });
});
