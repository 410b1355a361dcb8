/**
 * A mesh past one template for the local mesh: `front` in the mesh's stack, `orders` in the nested
 * stack `Checkout`, `search` in the nested stack `Catalog`; `front` -> `orders` -> `search` (edges into
 * and across nested stacks), and the `jobs` queue of the mesh's stack from `orders` to `search`.
 * Usage: tsx app.ts <outdir>
 */
import { join } from 'node:path';
import { App, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'NestedMesh', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'nst', policyTtl: Duration.seconds(1) });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256, entry: join(__dirname, 'relay.ts') };

const front = new MeshFunction(stack, 'Front', { ...common, service: 'front' });
const orders = new MeshFunction(new NestedStack(stack, 'Checkout'), 'Orders', { ...common, service: 'orders' });
const search = new MeshFunction(new NestedStack(stack, 'Catalog'), 'Search', { ...common, service: 'search' });
const jobs = new sqs.Queue(stack, 'Jobs', { queueName: 'nst-jobs', visibilityTimeout: Duration.seconds(30) });

front.allowExternal();
front.allowCallsTo(orders);
orders.allowCallsTo(search);
orders.allowSendTo(jobs);
search.receiveFrom(jobs, { from: [orders] });

app.synth();
