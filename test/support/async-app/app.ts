/**
 * A small mesh for the asynchronous edges on the local mesh: `sender` (public) sends with `mesh.send`
 * to `worker` (an Event invoke; its failures go to the `failures` queue after two retries) and to the
 * `jobs` queue, which `consumer` reads (only `sender` may send there; refused records end in the
 * `jobs-dead` queue after two receives), and to the `events` queue, which `consumer` reads too (its
 * mapping gathers records for up to 5 seconds, so messages sent one after another arrive as batches of
 * several records even though the mapping runs several batches at once). `legacy` reads the `orders`
 * queue, which senders outside the mesh write to (a mapping on its alias, admitted by allowExternal),
 * and calls `payments` for each message. Usage: tsx app.ts <outdir>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { CfnEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'AsyncEdges', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'asy', policyTtl: Duration.seconds(1) });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256 };
const entry = (file: string) => join(__dirname, file);

const failures = new sqs.Queue(stack, 'Failures', { queueName: 'asy-failures' });
const dead = new sqs.Queue(stack, 'JobsDead', { queueName: 'asy-jobs-dead' });
const jobs = new sqs.Queue(stack, 'Jobs', {
  queueName: 'asy-jobs',
  visibilityTimeout: Duration.seconds(1),
  deadLetterQueue: { queue: dead, maxReceiveCount: 2 },
});

const events = new sqs.Queue(stack, 'Events', { queueName: 'asy-events', visibilityTimeout: Duration.seconds(30) });

const sender = new MeshFunction(stack, 'Sender', { ...common, service: 'sender', entry: entry('sender.ts') });
const worker = new MeshFunction(stack, 'Worker', {
  ...common,
  service: 'worker',
  entry: entry('worker.ts'),
  onFailure: new SqsDestination(failures),
  retryAttempts: 2,
});
const consumer = new MeshFunction(stack, 'Consumer', { ...common, service: 'consumer', entry: entry('worker.ts') });

sender.allowExternal();
sender.allowSendTo(worker);
sender.allowSendTo(jobs);
consumer.receiveFrom(jobs, { from: [sender], batchSize: 10 });
sender.allowSendTo(events);
consumer.receiveFrom(events, { from: [sender], batchSize: 10 });
// receiveFrom sets no batching window: the mapping's own resource takes it.
for (const c of stack.node.findAll()) {
  if (c instanceof CfnEventSourceMapping && c.eventSourceArn === events.queueArn) c.maximumBatchingWindowInSeconds = 5;
}

const orders = new sqs.Queue(stack, 'Orders', { queueName: 'asy-orders' });
const legacy = new MeshFunction(stack, 'Legacy', { ...common, service: 'legacy', entry: entry('legacy.ts') });
const payments = new MeshFunction(stack, 'Payments', { ...common, service: 'payments', entry: entry('worker.ts') });
legacy.liveAlias.addEventSource(new SqsEventSource(orders));
legacy.allowExternal();
legacy.allowCallsTo(payments);

app.synth();
