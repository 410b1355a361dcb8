/**
 * Two meshes in one account and region (Beta and Gamma stages of one app, each with its own meshName and
 * the same services) must not read each other's metrics: a failing canary in one stage must not roll
 * back the other's deployment, nor hide behind the other's traffic. GIVEN both stages synthesized, WHEN
 * their alarms and dashboards are read, THEN no series of one is a series of the other, and each reads
 * the namespace its own functions publish under.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Template } from 'aws-cdk-lib/assertions';
import { ENV, metricNamespace } from '../../shared/names';
import { synthesizedDashboard } from '../support/dashboard-body';
import { sameAccountStages } from './infra-fixture';

interface MetricRef {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: unknown;
}

/** Every metric the template's alarms read (single-metric alarms and the metrics of math alarms). */
function alarmMetrics(template: Template): MetricRef[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap((a) => {
    const p = a.Properties as MetricRef & { Metrics?: { MetricStat?: { Metric: MetricRef } }[] };
    if (p.Namespace) return [{ Namespace: p.Namespace, MetricName: p.MetricName, Dimensions: p.Dimensions }];
    return (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
  });
}

/**
 * A metric as CloudWatch tells series apart. A `Ref` to a function is its name: the literal one (which
 * holds the mesh name), or the one CloudFormation makes up, unique to its stack (`stack`). A version's
 * number is a version number: both stages may publish version 3 of payments.
 */
function seriesKey(stack: string, template: Template, m: MetricRef): string {
  const resources = template.toJSON().Resources as Record<string, { Properties?: { FunctionName?: unknown } }>;
  return JSON.stringify(m, (_k, v) => {
    const ref = (v as { Ref?: string } | null)?.Ref;
    if (ref) {
      const name = resources[ref]?.Properties?.FunctionName;
      return typeof name === 'string' ? name : `${stack}/${ref}`;
    }
    const att = (v as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
    return att?.[1] === 'Version' ? 'a version number' : v;
  });
}

/** The namespace every mesh function of the template publishes its EMF metrics under. */
function publishedNamespaces(template: Template): Set<string> {
  const names = Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f) => f.Properties.Environment?.Variables?.[ENV.meshName] as string | undefined)
    .filter((n): n is string => typeof n === 'string');
  return new Set(names.map(metricNamespace));
}

const MESHES = ['shop-beta', 'shop-gamma'] as const;

function synthBoth() {
  const stages = sameAccountStages(MESHES);
  return { beta: stages.get('shop-beta')!, gamma: stages.get('shop-gamma')! };
}

describe('each mesh reads its own metrics', () => {
  it("a gated deployment's alarms read no series the other mesh's alarms read", () => {
    const { beta, gamma } = synthBoth();
    const gammaSeries = new Set(alarmMetrics(gamma).map((m) => seriesKey('Gamma', gamma, m)));
    const shared = alarmMetrics(beta).filter((m) => gammaSeries.has(seriesKey('Beta', beta, m)));
    assert.deepEqual(shared, [], 'series both meshes alarm on');
  });

  it("the alarms on mesh metrics read the namespace the mesh's own functions publish under", () => {
    for (const [meshName, template] of sameAccountStages(MESHES)) {
      assert.deepEqual([...publishedNamespaces(template)], [metricNamespace(meshName)]);
      const mesh = alarmMetrics(template).filter((m) => m.Namespace !== 'AWS/Lambda');
      assert.ok(mesh.length > 0, `${meshName} alarms on mesh metrics`);
      assert.deepEqual([...new Set(mesh.map((m) => m.Namespace))], [metricNamespace(meshName)]);
    }
  });

  it("each dashboard's SEARCH and Metrics Insights queries read its own mesh's namespace only", () => {
    for (const [meshName, template] of sameAccountStages(MESHES)) {
      const queries = synthesizedDashboard(template.toJSON() as Parameters<typeof synthesizedDashboard>[0]).queries;
      assert.ok(queries.length > 0);
      assert.deepEqual([...new Set(queries.map((q) => q.namespace))], [metricNamespace(meshName)]);
    }
  });
});
