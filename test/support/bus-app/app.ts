/**
 * A small mesh with an EventBridge bus on the local mesh: `sender` (public) sends with `mesh.send` to
 * the `order-events` bus, which `consumer` receives from (a rule on `source: lambda-mesh`). A second
 * rule on the same bus hands big orders of the `shop` source to `audit`, a plain function, with only
 * their detail (InputPath). The handlers are the asynchronous edges fixture's. Usage: tsx app.ts <outdir>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'BusEdges', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'bus', policyTtl: Duration.seconds(1) });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256 };
const entry = (file: string) => join(__dirname, '..', 'async-app', file);

const bus = new events.EventBus(stack, 'OrderEvents', { eventBusName: 'bus-order-events' });
const sender = new MeshFunction(stack, 'Sender', { ...common, service: 'sender', entry: entry('sender.ts') });
const consumer = new MeshFunction(stack, 'Consumer', { ...common, service: 'consumer', entry: entry('worker.ts') });
sender.allowExternal();
sender.allowSendTo(bus);
consumer.receiveFrom(bus, { from: [sender] });

const audit = new lambda.Function(stack, 'Audit', {
  functionName: 'bus-audit',
  runtime: lambda.Runtime.NODEJS_20_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline("exports.handler = async (e) => { console.log('audited ' + JSON.stringify(e)); };"),
});
new events.Rule(stack, 'BigOrders', {
  eventBus: bus,
  eventPattern: { source: ['shop'], detail: { total: events.Match.greaterThan(100) } },
  targets: [new targets.LambdaFunction(audit, { event: events.RuleTargetInput.fromEventPath('$.detail') })],
});

app.synth();
