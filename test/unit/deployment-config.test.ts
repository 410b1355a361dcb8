/** Gated deployments' traffic routing: CodeDeploy's configs as steps, positions and both wire spellings. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_LAMBDA_CONFIG,
  describeRouting,
  PREDEFINED_LAMBDA_CONFIGS,
  parseTrafficRouting,
  shiftDurationMs,
  stepAt,
  type TrafficRouting,
  trafficRoutingApiShape,
  trafficSteps,
} from '../../shared/deployment-config';

const MIN = 60_000;

describe('deployment config', () => {
  test('a canary shifts its share at once and everything one interval later', () => {
    assert.deepEqual(trafficSteps(PREDEFINED_LAMBDA_CONFIGS[DEFAULT_LAMBDA_CONFIG]!), [
      { afterMs: 0, weight: 0.1 },
      { afterMs: 5 * MIN, weight: 1 },
    ]);
    assert.equal(shiftDurationMs(PREDEFINED_LAMBDA_CONFIGS[DEFAULT_LAMBDA_CONFIG]!), 5 * MIN);
  });

  test('linear adds its share every interval until all traffic; all at once is one step', () => {
    const steps = trafficSteps(PREDEFINED_LAMBDA_CONFIGS['CodeDeployDefault.LambdaLinear10PercentEvery1Minute']!);
    assert.equal(steps.length, 10);
    assert.deepEqual(steps[0], { afterMs: 0, weight: 0.1 });
    assert.deepEqual(steps[2], { afterMs: 2 * MIN, weight: 0.3 });
    assert.deepEqual(steps[9], { afterMs: 9 * MIN, weight: 1 });
    assert.deepEqual(trafficSteps({ type: 'TimeBasedLinear', percentage: 40, intervalMinutes: 2 }), [
      { afterMs: 0, weight: 0.4 },
      { afterMs: 2 * MIN, weight: 0.8 },
      { afterMs: 4 * MIN, weight: 1 },
    ]);
    assert.deepEqual(trafficSteps({ type: 'AllAtOnce' }), [{ afterMs: 0, weight: 1 }]);
  });

  test('stepAt: the current step, the time to the next shift and the share after it', () => {
    const steps = trafficSteps({ type: 'TimeBasedCanary', percentage: 20, intervalMinutes: 5 });
    assert.deepEqual(stepAt(steps, 60_000), { index: 0, count: 2, weight: 0.2, nextShiftInMs: 4 * MIN, nextWeight: 1 });
    assert.deepEqual(stepAt(steps, 5 * MIN), { index: 1, count: 2, weight: 1 });
    assert.deepEqual(stepAt(steps, -5), { index: 0, count: 2, weight: 0.2, nextShiftInMs: 5 * MIN + 5, nextWeight: 1 });
  });

  test('describeRouting', () => {
    assert.equal(describeRouting({ type: 'AllAtOnce' }), 'all at once');
    assert.equal(describeRouting(PREDEFINED_LAMBDA_CONFIGS[DEFAULT_LAMBDA_CONFIG]!), 'canary 10% for 5 min, then all');
    assert.equal(
      describeRouting(PREDEFINED_LAMBDA_CONFIGS['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes']!),
      'linear 10% every 3 min',
    );
  });

  test('CloudFormation and API spellings parse to the same routing and back', () => {
    const cases: [unknown, TrafficRouting][] = [
      [{ Type: 'AllAtOnce' }, { type: 'AllAtOnce' }],
      [
        { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 15, CanaryInterval: 3 } },
        { type: 'TimeBasedCanary', percentage: 15, intervalMinutes: 3 },
      ],
      [
        { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 1 } },
        { type: 'TimeBasedLinear', percentage: 25, intervalMinutes: 1 },
      ],
    ];
    for (const [raw, routing] of cases) {
      assert.deepEqual(parseTrafficRouting(raw), routing);
      assert.deepEqual(parseTrafficRouting(trafficRoutingApiShape(routing)), routing);
    }
  });

  test('malformed routings are refused', () => {
    for (const raw of [
      undefined,
      'canary',
      { Type: 'Blue' },
      { Type: 'TimeBasedCanary' },
      { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 0, CanaryInterval: 5 } },
      { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 10, LinearInterval: 0.5 } },
      { Type: 'TimeBasedLinear', TimeBasedLinear: 'x' },
    ]) {
      assert.equal(parseTrafficRouting(raw), undefined, JSON.stringify(raw));
    }
  });
});
