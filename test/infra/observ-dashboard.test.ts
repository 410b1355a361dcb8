import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Mesh } from '../../infra/mesh';
import { MeshDashboard } from '../../infra/mesh-dashboard';
import { MeshFunction } from '../../infra/mesh-function';
import { ENV, LAYER } from '../../shared/names';

/** A stack shaped like a synthesized mesh: functions with the mesh env, Custom::MeshPolicy items. */
function meshStack(meshName = 'demo') {
  const app = new App();
  const stack = new Stack(app, 'Demo', { env: { account: '111111111111', region: 'us-east-1' } });
  const table = new CfnResource(stack, 'Table', {
    type: 'AWS::DynamoDB::Table',
    properties: {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    },
  });
  for (const service of ['frontend', 'orders', 'payments']) {
    new lambda.Function(stack, service, {
      functionName: `${meshName}-${service}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: LAYER.wrapperHandler,
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      environment: { [ENV.meshName]: meshName, [ENV.service]: service, [ENV.policyTable]: table.ref },
    });
  }
  const items = [
    { pk: 'frontend', sk: 'allow#external', managedBy: 'deploy' },
    { pk: 'orders', sk: 'allow#frontend', managedBy: 'deploy' },
    { pk: 'payments', sk: 'allow#orders', managedBy: 'deploy' },
    { pk: 'payments', sk: 'traffic', managedBy: 'deploy' },
  ];
  new CfnResource(stack, 'Policy', {
    type: 'Custom::MeshPolicy',
    properties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:seed',
      TableName: table.ref,
      Items: JSON.stringify(items),
    },
  });
  return { app, stack };
}

function dashboardBody(template: Template): string {
  const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
  const [d] = Object.values(dashboards) as { Properties: { DashboardBody: unknown } }[];
  const body = d!.Properties.DashboardBody;
  // The body is a string, or an Fn::Join when it holds tokens: flatten to text for assertions.
  const flat = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? v.map(flat).join('')
        : v && typeof v === 'object' && 'Fn::Join' in v
          ? flat((v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1])
          : 'TOKEN'; // a Ref inside a JSON string value (the region)
  return flat(body);
}

describe('MeshDashboard', () => {
  it('graphs every edge it finds in the app with metric math over the EMF metrics', () => {
    // GIVEN
    const { stack } = meshStack();
    // WHEN
    new MeshDashboard(stack, 'Dashboard', { meshName: 'demo' });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'demo-mesh' });
    const body = dashboardBody(template);
    const widgets = JSON.parse(body).widgets as { properties: { title?: string; metrics?: unknown[][] } }[];
    const titles = widgets.map((w) => w.properties.title).filter(Boolean);
    for (const edge of ['external → frontend', 'frontend → orders', 'orders → payments']) {
      for (const what of ['requests', 'success rate %', 'latency ms']) {
        assert.ok(titles.includes(`${edge}: ${what}`), `missing widget ${edge}: ${what}`);
      }
    }
    const success = JSON.stringify(widgets.find((w) => w.properties.title === 'orders → payments: success rate %'));
    assert.match(
      success,
      /100 \* \(1 - SUM\(SEARCH\('\{\\"LambdaMesh\/demo\\",destination_workload,reporter,source_workload\} MetricName=\\"request_errors_total\\" source_workload=\\"orders\\" destination_workload=\\"payments\\" reporter=\\"source\\"'/,
    );
    assert.doesNotMatch(success, /response_code/, 'the per-edge set has no response code');
    const latency = JSON.stringify(widgets.find((w) => w.properties.title === 'orders → payments: latency ms'));
    assert.match(latency, /MAX\(SEARCH\(.*request_duration_ms.*'p99', 60\)\)/);
    assert.ok(titles.includes('payments: requests by version'));
    assert.match(
      body,
      /SELECT SUM\(requests_total\) FROM SCHEMA\(\\"LambdaMesh\/demo\\", destination_version, destination_workload, reporter\) .*GROUP BY destination_version/,
    );
  });

  it('graphs each declared canary version: share, success rate and p99', () => {
    const { stack } = meshStack();
    const d = new MeshDashboard(stack, 'Dashboard', { meshName: 'demo', discover: false });
    d.addEdge('orders', 'payments').addService('payments', { versions: ['1', '2'] });
    const widgets = JSON.parse(dashboardBody(Template.fromStack(stack))).widgets as {
      properties: { title?: string; metrics?: unknown[][] };
    }[];
    const split = widgets.find((w) => w.properties.title === 'payments: success rate per version %');
    assert.ok(split, 'per-version success widget');
    const text = JSON.stringify(split);
    assert.match(text, /destination_version=\\"1\\"/);
    assert.match(text, /destination_version=\\"2\\"/);
    // Successes by code from the per-version set with response_code, the one a deployment's alarm reads.
    assert.match(
      text,
      /\{\\"LambdaMesh\/demo\\",destination_version,destination_workload,reporter,response_code\} MetricName=\\"requests_total\\"/,
    );
    assert.ok(widgets.some((w) => w.properties.title === 'payments: share of requests per version %'));
    assert.ok(
      !widgets.some((w) => w.properties.title?.startsWith('frontend')),
      'discover: false finds nothing on its own',
    );
  });

  it('gives every service a success-rate and a p99 alarm on its whole function (every version and alias)', () => {
    const { stack } = meshStack();
    const d = new MeshDashboard(stack, 'Dashboard', {
      meshName: 'demo',
      successRateThreshold: 95,
      p99ThresholdMs: 800,
      evaluationPeriods: 2,
      period: Duration.minutes(1),
    });
    const alarms = d.alarmsFor('payments');
    assert.equal(d.alarmsFor('payments'), alarms, 'idempotent');
    const template = Template.fromStack(stack);
    // frontend, orders and payments: two each, without asking.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 95,
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('^IF\\(FILL\\(inv, 0\\)') }),
        Match.objectLike({
          Id: 'err',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              // FunctionName alone: calls a route item sends to a version count as well as those through live.
              Dimensions: [{ Name: 'FunctionName', Value: 'demo-payments' }],
            },
            Stat: 'Sum',
          }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 800,
      MetricName: 'Duration',
      Namespace: 'AWS/Lambda',
      ExtendedStatistic: 'p99',
      Dimensions: [{ Name: 'FunctionName', Value: 'demo-payments' }],
    });
    assert.ok(dashboardBody(template).includes('payments: alarms'), 'the dashboard shows the alarms');
  });

  it('alarms: false leaves the alarms to whoever asks for them', () => {
    const { stack } = meshStack();
    new MeshDashboard(stack, 'Dashboard', { meshName: 'demo', alarms: false });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  it('graphs an external edge as its callee reports it, every denied edge, and mirror copies apart', () => {
    const { stack } = meshStack();
    new MeshDashboard(stack, 'Dashboard', { meshName: 'demo' });
    const widgets = JSON.parse(dashboardBody(Template.fromStack(stack))).widgets as {
      properties: { title?: string };
    }[];
    const titled = (t: string) => JSON.stringify(widgets.find((w) => w.properties.title === t) ?? null);
    assert.match(
      titled('external → frontend: requests'),
      /source_workload=\\"external\\" destination_workload=\\"frontend\\" reporter=\\"destination\\"/,
    );
    assert.equal(titled('external → frontend: retries and breaker opens'), 'null', 'outside callers have no client');
    assert.match(titled('frontend → orders: requests'), /reporter=\\"source\\"/);
    assert.match(titled('denied calls by edge (declared or not)'), /MetricName=\\"denied_total\\"'/);
    assert.match(titled('payments: mirror copies by version (not requests)'), /SUM\(mirror_requests_total\)/);
  });

  it('leaves another mesh alone', () => {
    const { stack } = meshStack('other');
    new MeshDashboard(stack, 'Dashboard', { meshName: 'demo' });
    const widgets = JSON.parse(dashboardBody(Template.fromStack(stack))).widgets as {
      properties: { title?: string };
    }[];
    assert.equal(widgets.filter((w) => w.properties.title?.includes('→')).length, 0);
  });

  it('rejects thresholds that cannot work, naming the value', () => {
    const { stack } = meshStack();
    assert.throws(
      () => new MeshDashboard(stack, 'A', { meshName: 'demo', successRateThreshold: 150 }),
      /successRateThreshold must be a percentage between 0 and 100, got 150/,
    );
    assert.throws(
      () => new MeshDashboard(stack, 'B', { meshName: 'demo', p99ThresholdMs: -1 }),
      /p99ThresholdMs must be a positive number of milliseconds, got -1/,
    );
    assert.throws(
      () => new MeshDashboard(stack, 'C', { meshName: 'demo', evaluationPeriods: 0 }),
      /evaluationPeriods must be a whole number of at least 1, got 0/,
    );
  });

  it('follows a mesh: its functions and allow items feed the dashboard, alarmsFor(service) gives the alarms', () => {
    // GIVEN a construct shaped like infra/mesh.ts's Mesh (functions join later, items render late)
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const joined: ((fn: { service: string; functionName: string }) => void)[] = [];
    const items: { pk: string; sk: string }[] = [];
    class FakeMesh extends Construct {
      readonly meshName = 'shop';
      onFunction(hook: (fn: { service: string; functionName: string }) => void) {
        joined.push(hook);
      }
      policyItems() {
        return items;
      }
    }
    // WHEN
    const mesh = new FakeMesh(stack, 'Mesh');
    const dashboard = new MeshDashboard(mesh, 'Dashboard', { meshName: mesh.meshName, mesh });
    const fn = new lambda.Function(stack, 'Payments', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1'),
    });
    for (const hook of joined) hook({ service: 'payments', functionName: fn.functionName });
    items.push({ pk: 'payments', sk: 'allow#orders' }, { pk: 'payments', sk: 'traffic' });
    const alarms = dashboard.alarmsFor('payments');
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Dimensions: Match.arrayWith([{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Payments') } }]),
    });
    const titles = (JSON.parse(dashboardBody(template)).widgets as { properties: { title?: string } }[]).map(
      (w) => w.properties.title,
    );
    assert.ok(titles.includes('orders → payments: success rate %'), titles.join(' | '));
    assert.equal(dashboard.alarmsFor('payments'), alarms, 'the same alarms for the same service');
  });
});

describe('Mesh with its dashboard (infra/mesh.ts hook)', () => {
  it('every Mesh gets a dashboard of its functions and edges, a canary graphed per version, and mesh.alarmsFor', () => {
    // GIVEN the real constructs, bundling skipped (the context CDK offers), the fixture's code as entry
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Shop', { env: { account: '123456789012', region: 'us-east-1' } });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    const entry = join(__dirname, '../support/observ-app/code/index.js');
    const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry, handler: 'orders' });
    const payments = new MeshFunction(stack, 'Payments', {
      mesh,
      service: 'payments',
      entry,
      handler: 'payments',
      canary: { weight: 0.1, stableVersion: '1' },
    });
    orders.allowCallsTo(payments);
    // WHEN
    const alarms = mesh.alarmsFor('payments');
    // THEN
    assert.ok(mesh.dashboard instanceof MeshDashboard);
    assert.equal(mesh.dashboard.meshName, 'shop');
    assert.equal(mesh.alarmsFor('payments'), mesh.dashboard.alarmsFor('payments'));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // orders' two, payments' two, the mesh issuer's failure alarm (identity is on by default) and the
    // policy version bumper's two
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    assert.ok(alarms.successRate && alarms.p99Latency);
    const widgets = JSON.parse(dashboardBody(template)).widgets as { properties: { title?: string } }[];
    const titles = widgets.map((w) => w.properties.title);
    assert.ok(titles.includes('orders → payments: success rate %'), titles.join(' | '));
    assert.ok(titles.includes('payments: success rate per version %'), 'the canary is graphed per version');
  });

  it('a queue is graphed as its sender edge, and the consumer reports the edge through it', () => {
    // GIVEN orders sends to a queue that notifications consumes
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Shop', { env: { account: '123456789012', region: 'us-east-1' } });
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
    const entry = join(__dirname, '../support/observ-app/code/index.js');
    const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry, handler: 'orders' });
    const notifications = new MeshFunction(stack, 'Notes', {
      mesh,
      service: 'notifications',
      entry,
      handler: 'orders',
    });
    const queue = new sqs.Queue(stack, 'OrderEvents');
    // WHEN
    orders.allowSendTo(queue);
    notifications.receiveFrom(queue, { from: [orders] });
    // THEN
    const body = dashboardBody(Template.fromStack(stack));
    const titles = (JSON.parse(body).widgets as { properties: { title?: string } }[]).map((w) => w.properties.title);
    assert.ok(titles.includes('orders → order-events: requests'), titles.join(' | '));
    assert.ok(!titles.includes('order-events: requests by version'), 'a queue has no versions to graph');
    assert.match(
      body,
      /source_workload=\\"orders\\" destination_workload=\\"notifications\\" reporter=\\"destination\\"/,
    );
    assert.match(body, /source_workload=\\"orders\\" destination_workload=\\"order-events\\" reporter=\\"source\\"/);
  });
});
