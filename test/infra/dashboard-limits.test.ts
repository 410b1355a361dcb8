/**
 * The mesh's dashboard deploys at any mesh size: CloudWatch takes at most 500 widgets in a dashboard, and
 * CloudFormation a template of at most 1 MB, which the dashboard's body must leave room in. A mesh too big
 * for a widget per edge is graphed in the compact form, where each graph's lines are edges or versions,
 * and synth says so. Built without bundling.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { MeshDashboard } from '../../infra/mesh-dashboard';
import { DASHBOARD_BODY_BUDGET, DASHBOARD_WIDGETS_MAX } from '../../infra/private/dashboard-budget';
import { METRICS } from '../../shared/names';
import { graphs, synthesizedDashboard, TEMPLATE_BYTES_MAX } from '../support/dashboard-body';
import { ENV, meshStack, NO_FUNCTION_LOG_GROUPS, newApp } from './infra-fixture';

const SERVICES = 40;
const service = (i: number) => `s${String(i).padStart(2, '0')}`;

/** 40 services in the mesh's stack, each calling the hub `s00` and its next neighbour: 77 edges. */
function fortyServices() {
  const { app, stack, fn } = meshStack('big', ENV, { context: NO_FUNCTION_LOG_GROUPS });
  const fns = Array.from({ length: SERVICES }, (_, i) => fn(`S${i}`, service(i)));
  const edges: [string, string][] = [];
  for (let i = 1; i < SERVICES; i++) {
    fns[i]!.allowCallsTo(fns[0]!);
    edges.push([service(i), service(0)]);
    if (i + 1 < SERVICES) {
      fns[i]!.allowCallsTo(fns[i + 1]!);
      edges.push([service(i), service(i + 1)]);
    }
  }
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  return { artifact, edges, templateBytes: statSync(join(assembly.directory, artifact.templateFile)).size };
}

describe('the dashboard of a mesh of 40 services and 77 edges in one stack', () => {
  const { artifact, edges, templateBytes } = fortyServices();
  const dashboard = synthesizedDashboard(artifact.template);

  it('stays within 500 widgets and its body budget, and the template well under 1 MB', () => {
    assert.equal(edges.length, 77);
    assert.ok(dashboard.widgets.length <= DASHBOARD_WIDGETS_MAX, `${dashboard.widgets.length} widgets`);
    assert.ok(dashboard.bodyBytes <= DASHBOARD_BODY_BUDGET, `a body of ${dashboard.bodyBytes} bytes`);
    assert.ok(templateBytes < 0.8 * TEMPLATE_BYTES_MAX, `a template of ${templateBytes} bytes`);
  });

  it('still graphs every edge and every service', () => {
    for (const [source, target] of edges) {
      const dims = { source_workload: source, destination_workload: target, reporter: 'source' };
      for (const metric of [METRICS.requestsTotal, METRICS.requestErrorsTotal, METRICS.requestDurationMs]) {
        assert.ok(graphs(dashboard, metric, METRICS.edgeDimensions, dims), `${metric} of ${source} -> ${target}`);
      }
      assert.ok(
        graphs(dashboard, METRICS.retriesTotal, METRICS.edgeDimensions, dims),
        `retries of ${source} -> ${target}`,
      );
    }
    for (let i = 0; i < SERVICES; i++) {
      const dims = { destination_workload: service(i), destination_version: '1', reporter: 'destination' };
      assert.ok(
        graphs(dashboard, METRICS.requestsTotal, METRICS.versionDimensions[0], dims),
        `${service(i)}'s versions`,
      );
    }
  });

  it('says at synth that it graphs the mesh in its compact form', () => {
    const infos = artifact.messages.filter((m) => m.level === 'info').map((m) => String(m.entry.data));
    assert.ok(
      infos.some((m) => /compact form/.test(m) && /77 edges/.test(m) && /40 services/.test(m)),
      infos.join('\n'),
    );
  });
});

describe('the compact form of a mesh with long service names', () => {
  it('keeps each SEARCH within CloudWatch’s 1,024 characters, and graphs callers outside the mesh by their callee', () => {
    // GIVEN 100 services of the longest names a service may have, each calling the hub, which callers
    // outside the mesh call too
    const stack = new Stack(newApp(), 'Test');
    const dashboard = new MeshDashboard(stack, 'Dashboard', { meshName: 'big', discover: false });
    const name = (i: number) => `checkout-fulfilment-platform-service-${String(i).padStart(3, '0')}`;
    for (let i = 1; i < 100; i++) dashboard.addEdge(name(i), name(0));
    dashboard.addEdge('external', name(0));
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    const synthesized = synthesizedDashboard(template.toJSON() as Parameters<typeof synthesizedDashboard>[0]);
    assert.ok(synthesized.queries.length > 0);
    for (const query of synthesized.queries)
      assert.ok(query.text.length <= 1024, `${query.text.length}: ${query.text}`);
    const edges = [
      ...Array.from({ length: 99 }, (_, i) => [name(i + 1), name(0), 'source']),
      ['external', name(0), 'destination'],
    ];
    for (const [source, target, reporter] of edges) {
      const dims = { source_workload: source!, destination_workload: target!, reporter: reporter! };
      assert.ok(graphs(synthesized, METRICS.requestsTotal, METRICS.edgeDimensions, dims), `${source} -> ${target}`);
    }
    const infos = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('compact form'));
    assert.equal(infos.length, 1);
  });
});

describe('a dashboard that cannot fit even in its compact form', () => {
  it('is refused at synth, naming its size and the fix', () => {
    // GIVEN 200 services, each with two versions graphed one by one (three widgets each)
    const stack = new Stack(newApp(), 'Test');
    const dashboard = new MeshDashboard(stack, 'Dashboard', { meshName: 'big', discover: false, alarms: false });
    for (let i = 0; i < 200; i++) dashboard.addService(`s${i}`, { versions: ['1', '2'] });
    // THEN
    assert.throws(() => dashboard.node.validate(), {
      name: 'MeshValidationError',
      message: /MeshDashboard Test\/Dashboard: even its compact form takes \d+ widgets and \d+ KB,.*versions/,
    });
  });
});
