/**
 * A small mesh on the real constructs (Mesh, MeshFunction) and the real runtime layer, for the local
 * mesh's resilience tests: `caller` -> `flaky` (release 2 = a canary that always throws, on stable "1")
 * and `caller` -> `busy` (reserved concurrency 1, so concurrent calls are throttled and retried).
 * Breakers are shared (`sharedBreakers`), so an opening lands in the target's breaker partition.
 * Usage: tsx app.ts <outdir> <release>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Mesh } from '../../../../infra/mesh';
import { MeshFunction } from '../../../../infra/mesh-function';

const [outdir, releaseArg] = process.argv.slice(2);
const release = Number(releaseArg ?? '2');
const app = new App({ outdir });
const stack = new Stack(app, 'LocalMeshResilience', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'fxm', policyTtl: Duration.seconds(1), sharedBreakers: true });
const common = { mesh, timeout: Duration.seconds(10), memorySize: 256 };

const caller = new MeshFunction(stack, 'Caller', { ...common, service: 'caller', entry: join(__dirname, 'caller.ts') });
const flaky = new MeshFunction(stack, 'Flaky', {
  ...common,
  service: 'flaky',
  entry: join(__dirname, 'flaky.ts'),
  environment: { FAIL: release === 1 ? '0' : '1' },
  canary: release === 1 ? undefined : { weight: 0.5, stableVersion: '1' },
});
const busy = new MeshFunction(stack, 'Busy', {
  ...common,
  service: 'busy',
  entry: join(__dirname, 'busy.ts'),
  reservedConcurrentExecutions: 1,
});

caller.allowExternal();
caller.allowCallsTo(flaky, {
  idempotent: true,
  retries: { maxAttempts: 3, retryOn: ['function-error', 'throttled'] },
  breaker: { consecutiveFailures: 3, openDuration: Duration.seconds(60) },
});
// Ten attempts: the throttled call's nine full-jitter back-offs (ceilings 100, 200, 400, then 800 ms)
// must outlast the other call's hold on the only environment, even on a machine with busy cores.
caller.allowCallsTo(busy, {
  retries: { maxAttempts: 10, baseDelay: Duration.millis(100), maxDelay: Duration.millis(800), retryOn: ['throttled'] },
});

app.synth();
