import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareVersions, signatureOf, WeightedRoundRobin } from '../../functions/mesh/routing/weighted-round-robin';

/** The largest gap, in percentage points, between a version's share and its expected share over any `window` consecutive picks. */
function worstWindowError(
  picks: readonly string[],
  expected: Readonly<Record<string, number>>,
  window = 1000,
): {
  pp: number;
  version: string;
  at: number;
} {
  let worst = { pp: 0, version: '', at: 0 };
  for (const version of Object.keys(expected)) {
    const prefix = new Int32Array(picks.length + 1);
    for (let i = 0; i < picks.length; i++) prefix[i + 1] = prefix[i] + (picks[i] === version ? 1 : 0);
    for (let start = 0; start + window <= picks.length; start++) {
      const share = (prefix[start + window] - prefix[start]) / window;
      const pp = Math.abs(share - expected[version]) * 100;
      if (pp > worst.pp) worst = { pp, version, at: start };
    }
  }
  return worst;
}

function run(wrr: WeightedRoundRobin, n: number, excluded?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(wrr.pick(excluded)!);
  return out;
}

describe('smooth weighted round-robin', () => {
  const sets: Array<Record<string, number>> = [
    { '1': 0.9, '2': 0.1 },
    { '1': 0.333, '2': 0.333, '3': 0.334 },
    { '1': 0.01, '2': 0.99 },
    { '3': 0.5, '7': 0.25, '9': 0.125, '12': 0.125 },
    { '1': 0.05, '2': 0.15, '3': 0.2, '4': 0.25, '5': 0.35 },
  ];
  for (const weights of sets) {
    it(`keeps every 1,000-pick window within 1 pp of ${JSON.stringify(weights)} over 20,000 picks`, () => {
      // Prepare
      const wrr = new WeightedRoundRobin(weights);
      // Act
      const picks = run(wrr, 20_000);
      // Assess
      const worst = worstWindowError(picks, weights);
      assert.ok(
        worst.pp <= 1,
        `version ${worst.version} is off by ${worst.pp.toFixed(2)} pp in the window at ${worst.at}`,
      );
    });
  }

  it('holds the 1 pp bound for arbitrary weight sets (property)', () => {
    const weightSet = fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 6 }).map((raw) => {
      const sum = raw.reduce((a, b) => a + b, 0);
      return Object.fromEntries(raw.map((r, i) => [String(i + 1), r / sum]));
    });
    fc.assert(
      fc.property(weightSet, (weights) => {
        const picks = run(new WeightedRoundRobin(weights), 6_000);
        const worst = worstWindowError(picks, weights);
        return worst.pp <= 1;
      }),
      { numRuns: 40 },
    );
  });

  it('spreads picks smoothly: 0.9/0.1 never sends two 2s in a row nor more than nine 1s in a row', () => {
    const picks = run(new WeightedRoundRobin({ '1': 0.9, '2': 0.1 }), 1_000).join('');
    assert.ok(!picks.includes('22'));
    assert.ok(!picks.includes('1'.repeat(10)));
  });

  it('is deterministic: the same weights in any key order give the same sequence', () => {
    const a = run(new WeightedRoundRobin({ '1': 0.333, '2': 0.333, '3': 0.334 }), 300);
    const b = run(new WeightedRoundRobin({ '3': 0.334, '2': 0.333, '1': 0.333 }), 300);
    assert.deepEqual(a, b);
  });

  it('gives an excluded version share to the others in proportion to their weights', () => {
    // Prepare
    const weights = { '1': 0.5, '2': 0.3, '3': 0.2 };
    const wrr = new WeightedRoundRobin(weights);
    run(wrr, 777); // mid-cycle, so exclusion starts from an arbitrary position
    // Act
    const picks = run(wrr, 10_000, new Set(['2']));
    // Assess
    assert.ok(!picks.includes('2'));
    const worst = worstWindowError(picks, { '1': 0.5 / 0.7, '3': 0.2 / 0.7 });
    assert.ok(worst.pp <= 1, `version ${worst.version} off by ${worst.pp.toFixed(2)} pp`);
  });

  it('returns to the full weights once the exclusion ends', () => {
    const weights = { '1': 0.9, '2': 0.1 };
    const wrr = new WeightedRoundRobin(weights);
    run(wrr, 500, new Set(['1']));
    const picks = run(wrr, 5_000);
    const worst = worstWindowError(picks, weights);
    assert.ok(worst.pp <= 1, `off by ${worst.pp.toFixed(2)} pp after the exclusion ended`);
  });

  it('returns undefined when every weighted version is excluded, and never picks a zero weight', () => {
    const wrr = new WeightedRoundRobin({ '1': 1, '2': 0 });
    assert.equal(wrr.pick(new Set(['1'])), undefined);
    assert.ok(run(wrr, 100).every((v) => v === '1'));
  });

  it('orders versions numerically and signs weights independently of key order', () => {
    assert.deepEqual(['10', '2', '1'].sort(compareVersions), ['1', '2', '10']);
    assert.equal(signatureOf({ '2': 0.5, '1': 0.5 }), signatureOf({ '1': 0.5, '2': 0.5 }));
    assert.notEqual(signatureOf({ '1': 0.4, '2': 0.6 }), signatureOf({ '1': 0.5, '2': 0.5 }));
  });

  it('compares text versions as text and a number before a word, the same both ways', () => {
    assert.equal(compareVersions('a', 'b'), -1);
    assert.equal(compareVersions('b', 'a'), 1);
    assert.equal(compareVersions('a', 'a'), 0);
    assert.equal(compareVersions('10', '9'), 1);
    assert.equal(compareVersions('2', 'x'), -1, '"2" sorts before "x" as text');
    assert.equal(compareVersions('x', '10'), 1);
  });

  it('sorts text versions and lists a signature in that order, comma-separated', () => {
    // Text keys keep their insertion order in an object, unlike integer-like keys: only the sort orders them.
    assert.deepEqual(new WeightedRoundRobin({ blue: 1, green: 2, amber: 1 }).versions, ['amber', 'blue', 'green']);
    assert.equal(signatureOf({ blue: 0.25, amber: 0.75 }), 'amber=0.75,blue=0.25');
    assert.equal(signatureOf({ '10': 1, '2': 0 }), '2=0,10=1');
  });

  it('gives a tie to the first version in order, then alternates equal weights', () => {
    assert.deepEqual(run(new WeightedRoundRobin({ b: 1, a: 1 }), 4), ['a', 'b', 'a', 'b']);
  });

  it('restarts its cycle when the exclusion changes, and only then', () => {
    // Prepare: after one pick, a's score is 1 - 2 = -1 and b's is 1.
    const wrr = new WeightedRoundRobin({ a: 1, b: 1 });
    assert.equal(wrr.pick(), 'a');
    // Act: excluding a, then excluding nothing, restarts from zero twice.
    assert.equal(wrr.pick(new Set(['a'])), 'b');
    // Assess: from zero, the tie goes to a; kept scores (a 0, b 2) would have picked b.
    assert.equal(wrr.pick(), 'a');
    assert.equal(wrr.pick(new Set()), 'b', 'an empty exclusion is no exclusion: the cycle goes on');
  });

  it('knows an exclusion by its members, whatever their order or how they join', () => {
    // The same set built in two orders: one cycle, c and d alternating.
    const wrr = new WeightedRoundRobin({ a: 1, b: 1, c: 1, d: 1 });
    const picks = [0, 1, 2, 3].map((i) => wrr.pick(new Set(i % 2 ? ['b', 'a'] : ['a', 'b'])));
    assert.deepEqual(picks, ['c', 'd', 'c', 'd']);
    // Sets {1, 23} and {12, 3} would read the same without a separator: each switch must restart.
    const numbered = new WeightedRoundRobin({ '1': 1, '3': 2, '12': 1, '23': 2 });
    const sequence = [0, 1, 2, 3, 4, 5].map((i) => numbered.pick(new Set(i % 2 ? ['12', '3'] : ['1', '23'])));
    assert.deepEqual(sequence, ['3', '23', '3', '23', '3', '23']);
  });
});
