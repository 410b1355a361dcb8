/**
 * A small mesh on the real constructs for the identity tests: `front` -> `back`; release 2 adds the
 * service `late` and the edges `front` -> `late` and `late` -> `back` (a stack update that adds a
 * service; going back to release 1 removes it).
 * Usage: tsx app.ts <outdir> <release>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

const [outdir, releaseArg] = process.argv.slice(2);
const release = Number(releaseArg ?? '1');
const app = new App({ outdir });
const stack = new Stack(app, 'IdentityBootstrap', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'idm', policyTtl: Duration.seconds(1) });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256 };

const front = new MeshFunction(stack, 'Front', {
  ...common,
  service: 'front',
  entry: join(__dirname, '..', 'local-mesh-app', 'mesh', 'caller.ts'),
});
const back = new MeshFunction(stack, 'Back', { ...common, service: 'back', entry: join(__dirname, 'echo.ts') });
front.allowExternal();
front.allowCallsTo(back);
if (release >= 2) {
  const late = new MeshFunction(stack, 'Late', { ...common, service: 'late', entry: join(__dirname, 'echo.ts') });
  front.allowCallsTo(late);
  late.allowCallsTo(back);
}

app.synth();
