/** The canary controller's pure decisions: flags, the gate after a step, and what comes next. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeStep, nextAction, parseRolloutOptions, ROLLOUT_DEFAULTS } from '../../cli/commands/rollout-gate';
import { processContext } from '../../cli/context';
import { UsageError } from '../../cli/errors';
import { main } from '../../cli/main';

const o = { ...ROLLOUT_DEFAULTS, steps: [50, 100], minSuccess: 99, maxP99Ms: 500, minRequests: 20 };

describe('rollout gate', () => {
  test('passes a healthy canary with enough requests', () => {
    assert.deepEqual(judgeStep({ requests: 100, successRate: 1, p99: 120 }, o, '2', false), { verdict: 'pass' });
    // exactly at the thresholds passes
    assert.deepEqual(judgeStep({ requests: 20, successRate: 0.99, p99: 500 }, o, '2', false), { verdict: 'pass' });
  });

  test('fails on the success rate, naming metric, value and threshold', () => {
    const v = judgeStep({ requests: 50, successRate: 0.8, p99: 100 }, o, '2', false);
    assert.equal(v.verdict, 'fail');
    assert.equal(v.verdict === 'fail' && v.metric, 'success');
    assert.equal(v.verdict === 'fail' && v.reason, 'success rate of v2 = 80%, below --min-success 99%');
  });

  test('fails on latency', () => {
    const v = judgeStep({ requests: 50, successRate: 1, p99: 812.4 }, o, '3', false);
    assert.equal(v.verdict === 'fail' && v.metric, 'p99');
    assert.equal(v.verdict === 'fail' && v.reason, 'p99 of v3 = 812ms, above --max-p99 500ms');
  });

  test('errors are reported before latency when both fail', () => {
    const v = judgeStep({ requests: 50, successRate: 0.5, p99: 5000 }, o, '2', false);
    assert.equal(v.verdict === 'fail' && v.metric, 'success');
  });

  test('too few requests waits once, then fails', () => {
    const first = judgeStep({ requests: 3, successRate: 1, p99: 10 }, o, '2', false);
    assert.equal(first.verdict, 'wait');
    const second = judgeStep({ requests: 3, successRate: 1, p99: 10 }, o, '2', true);
    assert.equal(second.verdict, 'fail');
    assert.equal(second.verdict === 'fail' && second.reason, 'requests to v2 = 3, below --min-requests 20');
    // no traffic at all (the version is absent from the snapshot)
    assert.equal(judgeStep(undefined, o, '2', false).verdict, 'wait');
    assert.equal(judgeStep(undefined, o, '2', true).verdict, 'fail');
  });

  test('unknown latency with enough requests waits once, then fails', () => {
    assert.equal(judgeStep({ requests: 30, successRate: 1, p99: null }, o, '2', false).verdict, 'wait');
    assert.equal(judgeStep({ requests: 30, successRate: 1, p99: null }, o, '2', true).verdict, 'fail');
  });
});

describe('rollout next action', () => {
  test('pass moves to the next share, the last pass promotes', () => {
    assert.deepEqual(nextAction(0, o, { verdict: 'pass' }), { action: 'shift', step: 1, percent: 100 });
    assert.deepEqual(nextAction(1, o, { verdict: 'pass' }), { action: 'promote' });
  });
  test('fail rolls back with the reason; wait extends the same step', () => {
    assert.deepEqual(nextAction(0, o, { verdict: 'fail', metric: 'p99', reason: 'r' }), {
      action: 'rollback',
      reason: 'r',
    });
    assert.deepEqual(nextAction(1, o, { verdict: 'wait', reason: 'r' }), { action: 'extend', step: 1 });
  });
});

describe('rollout flags', () => {
  test('defaults and valid values', () => {
    assert.deepEqual(parseRolloutOptions({}), ROLLOUT_DEFAULTS);
    assert.deepEqual(
      parseRolloutOptions({
        steps: '5, 12.5,50%,100',
        interval: '3s',
        'min-success': '99.5%',
        'max-p99': '2s',
        'min-requests': '5',
      }),
      { steps: [5, 12.5, 50, 100], intervalMs: 3000, minSuccess: 99.5, maxP99Ms: 2000, minRequests: 5 },
    );
    assert.equal(parseRolloutOptions({ 'max-p99': '250' }).maxP99Ms, 250);
  });
  for (const [flag, value, hint] of [
    ['steps', '50,25', '--steps "50,25"'],
    ['steps', '10,150', '--steps "10,150"'],
    ['steps', '0,50', '--steps "0,50"'],
    ['steps', 'ten', '--steps "ten"'],
    ['interval', 'soon', '--interval "soon"'],
    ['interval', '100ms', '--interval "100ms"'],
    ['min-success', '101', '--min-success "101"'],
    ['max-p99', 'fast', '--max-p99 "fast"'],
    ['min-requests', '0', '--min-requests "0"'],
    ['min-requests', '2.5', '--min-requests "2.5"'],
  ] as const) {
    test(`--${flag} ${value} is refused with the value and an example`, () => {
      assert.throws(
        () => parseRolloutOptions({ [flag]: value }),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message.startsWith(hint) &&
          e.message.includes(`mesh rollout payments --${flag} `),
      );
    });
  }
});

describe('rollout registration', () => {
  test('`mesh help rollout` and `mesh rollout --help` print the rollout help; `mesh --help` lists it', async () => {
    const out: string[] = [];
    const ctx = processContext({ env: {}, out: (t) => out.push(t), err: (t) => out.push(`ERR ${t}`) });
    assert.equal(await main(['help', 'rollout'], ctx), 0);
    assert.equal(await main(['rollout', '--help'], ctx), 0);
    assert.equal(await main(['--help'], ctx), 0);
    assert.match(out[0]!, /^mesh rollout <service> \[--steps 10,25,50,100\]/);
    assert.equal(out[1], out[0]);
    assert.match(out[2]!, /\n {2}rollout <service> +progressive canary/);
  });
});
