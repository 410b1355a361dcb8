/**
 * A hostile function's EMF against the alarms that gate a deployment: the alarms MeshDeployment
 * synthesizes for payments' new version, read from the shop template, over a canary whose errors they
 * must see. Neither a flood of new series (the store evicts the least recently written) nor EMF in
 * Lambda's own namespace (CloudWatch reserves AWS/ for AWS services) may turn the failing canary's data
 * into missing or diluted data, which the alarms treat as not breaching.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlarmRegistry, parseAlarm } from '../../local/cloudwatch/alarms';
import { MetricStore } from '../../local/cloudwatch/metric-store';

const TEMPLATE = join(__dirname, '..', 'infra', 'snapshots', 'shop-release2.template.json');
const PERIOD_MS = 60_000;
const START = Date.UTC(2026, 1, 3, 4, 0);

/** The deployment alarm's properties as the local mesh resolves them, the new version being 2. */
function deploymentAlarm(logicalIdPrefix: string): Record<string, unknown> {
  const resources = JSON.parse(readFileSync(TEMPLATE, 'utf8')).Resources as Record<string, { Properties: unknown }>;
  const id = Object.keys(resources).find((k) => k.startsWith(logicalIdPrefix));
  assert.ok(id, `the template has ${logicalIdPrefix}`);
  const text = JSON.stringify(resources[id].Properties).replace(
    /\{"Fn::GetAtt":\["PaymentsCurrentVersion[^"]*","Version"\]\}/g,
    '"2"',
  );
  return JSON.parse(text);
}

/** Payments' new version behind live failing one call in two, over the alarm's two periods. */
function failingCanary(metrics: MetricStore): void {
  for (let period = 0; period < 2; period++) {
    for (let i = 0; i < 10; i++) {
      metrics.recordInvocation({
        functionName: 'shop-payments',
        qualifier: 'live',
        version: '2',
        start: START + period * PERIOD_MS + i * 1_000,
        durationMs: 5,
        outcome: i % 2 === 0 ? 'error' : 'ok',
      });
    }
  }
}

function gate(metrics: MetricStore, now: () => number): AlarmRegistry {
  const alarms = new AlarmRegistry({ metrics, now });
  const def = parseAlarm('payments-errors', deploymentAlarm('PaymentsDeploymentLambdaErrors'));
  assert.equal(typeof def, 'object', String(def));
  alarms.put(def as Exclude<typeof def, string>);
  return alarms;
}

/** One EMF line of `metrics` metrics under one dimension set, as a function prints it. */
function emfLine(namespace: string, dims: Record<string, string>, metrics: Record<string, number[]>, time: number) {
  return {
    _aws: {
      Timestamp: time,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dims)],
          Metrics: Object.keys(metrics).map((Name) => ({ Name })),
        },
      ],
    },
    ...dims,
    ...metrics,
  };
}

describe("a hostile function's EMF against a gated deployment's alarms", () => {
  it('a flood of new series does not evict the series the alarms read', () => {
    // GIVEN the Lambda error-rate alarm on payments' new version, and that version failing
    const metrics = new MetricStore();
    const now = START + 2 * PERIOD_MS + 1;
    const alarms = gate(metrics, () => now);
    failingCanary(metrics);
    // WHEN another function prints 110 lines of 100 metrics, each line under a new dimension value
    const names = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${i}`, [1]]));
    for (let line = 0; line < 110; line++) {
      metrics.recordEmf(emfLine('Spam', { order: `o-${line}` }, names, START + 2 * PERIOD_MS - 500));
    }
    // THEN the alarm still reads the canary's errors and stops the deployment
    assert.equal(alarms.evaluate('payments-errors')?.value, 'ALARM');
  });

  it("EMF in Lambda's own namespace does not dilute the canary's error rate", () => {
    const metrics = new MetricStore();
    const now = START + 2 * PERIOD_MS + 1;
    const alarms = gate(metrics, () => now);
    failingCanary(metrics);
    // WHEN another function prints 1,000 AWS/Lambda Invocations a period for payments' new version
    const dims = { ExecutedVersion: '2', FunctionName: 'shop-payments', Resource: 'shop-payments:live' };
    const taken: boolean[] = [];
    for (let period = 0; period < 2; period++) {
      for (let line = 0; line < 10; line++) {
        const ones = { Invocations: new Array(100).fill(1) };
        taken.push(metrics.recordEmf(emfLine('AWS/Lambda', dims, ones, START + period * PERIOD_MS + 30_000)));
      }
    }
    // THEN the alarm still reads one error in two calls, and CloudWatch's refusal of AWS/ took none
    assert.equal(alarms.evaluate('payments-errors')?.value, 'ALARM');
    assert.ok(!taken.includes(true), 'CloudWatch takes no custom metric in a namespace starting with AWS/');
  });
});
