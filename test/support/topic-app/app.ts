/**
 * A small mesh with an SNS topic on the local mesh: `sender` (public) sends with `mesh.send` to the
 * `notices` topic, which `listener` consumes (`receiveFrom`, only `sender` may send there); `picky`
 * consumes it too, its subscription filtered on the body (`note` must be `for-picky`). Usage: tsx app.ts <outdir>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'TopicEdges', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'tpc', policyTtl: Duration.seconds(1) });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256 };
const entry = (file: string) => join(__dirname, file);

const notices = new sns.Topic(stack, 'Notices', { topicName: 'tpc-notices' });
const sender = new MeshFunction(stack, 'Sender', {
  ...common,
  service: 'sender',
  entry: join(__dirname, '..', 'async-app', 'sender.ts'),
});
const listener = new MeshFunction(stack, 'Listener', { ...common, service: 'listener', entry: entry('listener.ts') });
const picky = new MeshFunction(stack, 'Picky', { ...common, service: 'picky', entry: entry('listener.ts') });

sender.allowExternal();
sender.allowSendTo(notices);
listener.receiveFrom(notices, { from: [sender] });
picky.receiveFrom(notices, { from: [sender] });
// receiveFrom sets no filter policy: the subscription's own resource takes it.
for (const c of stack.node.findAll()) {
  if (c instanceof sns.CfnSubscription && c.endpoint === picky.liveAlias.functionArn) {
    c.filterPolicyScope = 'MessageBody';
    c.filterPolicy = { note: ['for-picky'] };
  }
}

app.synth();
