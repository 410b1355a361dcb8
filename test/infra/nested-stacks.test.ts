/**
 * A mesh past one template: its functions in nested stacks of the mesh's stack. Each template stays
 * under CloudFormation's 500 resources, no template holds a dependency cycle or a reference to another
 * template's resource (parent -> nested goes through parameters, nested -> parent through outputs), and
 * the mesh is still one mesh: one table, one snapshot of every service and edge. Built without bundling.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { DASHBOARD_BODY_BUDGET, DASHBOARD_WIDGETS_MAX } from '../../infra/private/dashboard-budget';
import { readCloudAssembly } from '../../local/assembly/cloud-assembly';
import { METRICS, ENV as NAMES, SORT_KEY } from '../../shared/names';
import { graphs, synthesizedDashboard, TEMPLATE_BYTES_MAX } from '../support/dashboard-body';
import { DEMO, ENV, newApp, snapshotFromAssembly } from './infra-fixture';
import { danglingReferences, findCycle, type TemplateJson } from './template-cycles';

/** CloudFormation's cap on resources in one template. */
const TEMPLATE_RESOURCES_MAX = 500;
const SERVICES = 120;

/**
 * 120 services: the hub `s000` in the mesh's stack, the rest over three nested stacks. Every service
 * calls the hub and its neighbour (across nested stacks), one function per stack has a gated deployment,
 * one a pinned canary, and a queue of the mesh's stack carries messages from one nested stack to another.
 */
function bigMesh() {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'big' });
  const nested = [0, 1, 2].map((i) => new NestedStack(stack, `Services${i}`));
  const service = (i: number) => `s${String(i).padStart(3, '0')}`;
  const fns = Array.from(
    { length: SERVICES },
    (_, i) =>
      new MeshFunction(i === 0 ? stack : nested[i % 3]!, `S${i}`, {
        mesh,
        service: service(i),
        entry: join(DEMO, 'inventory.ts'),
        ...(i <= 3 ? { deployment: {} } : {}),
        ...(i === 4 ? { canary: { weight: 0.1, stableVersion: '1' } } : {}),
      }),
  );
  const edges: [string, string][] = [];
  for (let i = 1; i < SERVICES; i++) {
    const neighbour = i + 1 < SERVICES ? i + 1 : 1;
    fns[i]!.allowCallsTo(fns[0]!);
    fns[i]!.allowCallsTo(fns[neighbour]!);
    edges.push([service(i), service(0)], [service(i), service(neighbour)]);
  }
  fns[0]!.allowCallsTo(fns[1]!);
  edges.push([service(0), service(1)]);
  const queue = new sqs.Queue(stack, 'Events');
  fns[5]!.allowSendTo(queue);
  fns[6]!.receiveFrom(queue, { from: [fns[5]!] });
  const assembly = app.synth();
  const parent = assembly.getStackByName(stack.stackName).template as TemplateJson;
  const templates: Record<string, TemplateJson> = { Test: parent };
  for (const [id, r] of Object.entries(parent.Resources) as [
    string,
    { Type?: string; Metadata?: Record<string, string> },
  ][]) {
    if (r.Type !== 'AWS::CloudFormation::Stack') continue;
    templates[id] = JSON.parse(readFileSync(join(assembly.directory, r.Metadata!['aws:asset:path']!), 'utf8'));
  }
  return { templates, parent, edges, assemblyDir: assembly.directory };
}

describe('a mesh in nested stacks', () => {
  const { templates, parent, edges, assemblyDir } = bigMesh();

  it('keeps every template under 500 resources, with no cycle and no reference to another template', () => {
    assert.equal(Object.keys(templates).length, 4, 'the mesh stack and its three nested stacks');
    for (const [name, template] of Object.entries(templates)) {
      const count = Object.keys(template.Resources).length;
      assert.ok(count < TEMPLATE_RESOURCES_MAX, `${name} holds ${count} resources`);
      assert.equal(findCycle(template), undefined, `${name} holds a dependency cycle`);
      assert.deepEqual(danglingReferences(template), [], `${name} refers to names it does not hold`);
    }
  });

  it('names the one policy table in every function, and ships one snapshot of all 120 services and their edges', () => {
    const envs = Object.values(templates)
      .flatMap((t) => Object.values(t.Resources) as { Type?: string; Properties?: Record<string, any> }[])
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>)
      .filter((v) => v[NAMES.meshName] === 'big');
    assert.equal(envs.length, SERVICES);
    assert.deepEqual(new Set(envs.map((v) => v[NAMES.policyTable])), new Set(['big-policy']));
    const snapshot = snapshotFromAssembly(Template.fromJSON(parent), assemblyDir);
    const items = snapshot.items as { pk: string; sk: string }[];
    const services = items.filter((i) => i.sk === SORT_KEY.service).map((i) => i.pk);
    assert.equal(new Set(services).size, SERVICES);
    const allows = new Set(items.map((i) => `${i.pk}/${i.sk}`));
    for (const [source, target] of edges) {
      assert.ok(allows.has(`${target}/${SORT_KEY.allow(source)}`), `the edge ${source} -> ${target}`);
    }
  });

  it('graphs every service and edge on one dashboard within 500 widgets and its body budget', () => {
    const dashboard = synthesizedDashboard(parent);
    assert.ok(dashboard.widgets.length <= DASHBOARD_WIDGETS_MAX, `${dashboard.widgets.length} widgets`);
    assert.ok(dashboard.bodyBytes <= DASHBOARD_BODY_BUDGET, `a body of ${dashboard.bodyBytes} bytes`);
    // As cdk.out holds it, the size CloudFormation is sent.
    const bytes = JSON.stringify(parent, undefined, 1).length;
    assert.ok(bytes < 0.8 * TEMPLATE_BYTES_MAX, `the mesh's template takes ${bytes} bytes`);
    // The queue's consumer reports the edge from its sender.
    const reported = [...edges.map(([s, t]) => [s, t, 'source']), ['s005', 's006', 'destination']];
    for (const [source, target, reporter] of reported) {
      const dims = { source_workload: source!, destination_workload: target!, reporter: reporter! };
      for (const metric of [METRICS.requestsTotal, METRICS.requestErrorsTotal, METRICS.requestDurationMs]) {
        assert.ok(graphs(dashboard, metric, METRICS.edgeDimensions, dims), `${metric} of ${source} -> ${target}`);
      }
    }
    for (let i = 0; i < SERVICES; i++) {
      const s = `s${String(i).padStart(3, '0')}`;
      const dims = { destination_workload: s, destination_version: '1', reporter: 'destination' };
      assert.ok(graphs(dashboard, METRICS.requestsTotal, METRICS.versionDimensions[0], dims), `${s}'s versions`);
    }
  });
});

describe('the local mesh and nested stacks', () => {
  it("reads the functions of nested stacks as functions of the mesh's stack, wired through parameters", () => {
    // GIVEN a mesh whose payments function sits in a nested stack, beside an unrelated nested stack
    const app = newApp();
    const stack = new Stack(app, 'Test', { env: ENV });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    new sqs.Queue(new NestedStack(stack, 'Queues'), 'Jobs');
    const entry = join(DEMO, 'inventory.ts');
    const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry });
    orders.allowCallsTo(
      new MeshFunction(new NestedStack(stack, 'Services'), 'Payments', { mesh, service: 'payments', entry }),
    );
    // THEN the local mesh reads one stack that holds the nested stacks' resources
    const [read, ...others] = readCloudAssembly(app.synth().directory);
    assert.deepEqual(others, [], 'one stack, the nested ones in it');
    const resources = Object.entries(read!.template.Resources ?? {});
    const payments = resources.find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ServicesPayments'),
    );
    assert.ok(payments, 'the nested function joins the stack under the nested stack id');
    // The layers came in as parameters: the parent's own layers stand in for them.
    const layers = (payments[1].Properties?.Layers ?? []) as { Ref?: string }[];
    const types = layers.map((l) => read!.template.Resources?.[String(l.Ref)]?.Type);
    assert.deepEqual(types, ['AWS::Lambda::LayerVersion', 'AWS::Lambda::LayerVersion']);
    assert.ok(resources.some(([id, r]) => r.Type === 'AWS::SQS::Queue' && id.startsWith('QueuesJobs')));
    assert.doesNotMatch(JSON.stringify(read!.template), /"Ref":"referenceto/, 'no parameter of a nested stack is left');
  });
});

describe('the template checks', () => {
  it('find a cycle through a nested stack, and a reference to another template', () => {
    const cyclic: TemplateJson = {
      Resources: {
        Hook: { Properties: { Role: { 'Fn::GetAtt': ['HookPolicy', 'Arn'] } } },
        HookPolicy: { Properties: { Resource: { 'Fn::GetAtt': ['Nested', 'Outputs.VersionArn'] } } },
        Nested: { DependsOn: 'Hook', Properties: {} },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        Sub: { Properties: { Name: { 'Fn::Sub': '${Nested.Outputs.X}-${AWS::Region}-${!Literal}' } } },
      },
    };
    assert.deepEqual(findCycle(cyclic), ['Hook', 'HookPolicy', 'Nested', 'Hook']);
    assert.deepEqual(danglingReferences(cyclic), []);
    const apart: TemplateJson = { Resources: { A: { Properties: { X: { Ref: 'ElsewhereB' } } } } };
    assert.equal(findCycle(apart), undefined);
    assert.deepEqual(danglingReferences(apart), ['ElsewhereB']);
  });
});
