/**
 * A small mesh for end-to-end scenarios of the traffic policy (test/integration/local-mesh-scenarios):
 * `probe` (external callers) calls through the mesh and reports each outcome; `work` and `idem` run the
 * same handler, which does what the request asks (answer, throw, or outlast its own function timeout).
 * - probe -> work: not idempotent, every outcome retryable: only an attempt that never started may repeat;
 * - probe -> idem: idempotent, timeouts retried: a callee stopped at its timeout is tried again.
 * - probe -> brk: idempotent, function errors retried, a breaker that opens after two failures in a row
 *   for two seconds.
 * - probe -> relay -> work: a hop in the middle, with a three-second function timeout, that waits
 *   before its own call: the deadline it was given, and its own remaining time, bound that call.
 * On the first two, breakers are out of the way (a scenario about retries must not end on an open breaker).
 * - probe -> jitter: throttles retried with backoffs (up to a second) longer than the call's 600 ms.
 * - probe -> split: idempotent, one attempt; release 2 publishes split's version 2 (the alias moves to it),
 *   so a route item can weigh, pin and stick calls to either version.
 * Usage: tsx app.ts <outdir> <release>
 */
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Mesh } from '../../../../infra/mesh';
import { MeshFunction } from '../../../../infra/mesh-function';
import type { EdgeOptions } from '../../../../infra/traffic-options';

const [outdir, releaseArg] = process.argv.slice(2);
const release = Number(releaseArg ?? '1');
const app = new App({ outdir });
const stack = new Stack(app, 'LocalMeshScenarios', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'fxs', policyTtl: Duration.seconds(1) });

const probe = new MeshFunction(stack, 'Probe', {
  mesh,
  service: 'probe',
  entry: join(__dirname, 'probe.ts'),
  timeout: Duration.seconds(30),
  memorySize: 256,
});
// A one-second function timeout: a request to outlast it costs a scenario about a second per attempt.
const worker = (id: string, service: string, environment?: Record<string, string>) =>
  new MeshFunction(stack, id, {
    mesh,
    service,
    entry: join(__dirname, 'work.ts'),
    timeout: Duration.seconds(1),
    memorySize: 256,
    environment,
  });
const work = worker('Work', 'work');
const idem = worker('Idem', 'idem');
const brk = worker('Brk', 'brk');
const split = worker('Split', 'split', { RELEASE: String(release) });
const jitter = worker('Jitter', 'jitter');
const relay = new MeshFunction(stack, 'Relay', {
  mesh,
  service: 'relay',
  entry: join(__dirname, 'relay.ts'),
  timeout: Duration.seconds(3),
  memorySize: 256,
});

probe.allowExternal();
const edge: EdgeOptions = {
  timeout: Duration.seconds(12),
  perTryTimeout: Duration.seconds(3),
  retries: { maxAttempts: 3, baseDelay: Duration.millis(10), maxDelay: Duration.millis(50) },
  breaker: { consecutiveFailures: 1_000, failureRateThreshold: 1 },
};
probe.allowCallsTo(work, {
  ...edge,
  idempotent: false,
  retries: { ...edge.retries, retryOn: ['throttled', 'service-error', 'timeout', 'function-error'] },
});
probe.allowCallsTo(idem, { ...edge, idempotent: true, retries: { ...edge.retries, retryOn: ['timeout'] } });
probe.allowCallsTo(brk, {
  ...edge,
  idempotent: true,
  retries: { ...edge.retries, retryOn: ['function-error'] },
  breaker: { consecutiveFailures: 2, openDuration: Duration.seconds(2) },
});

// Not retried: each scenario through the relay is about one call's deadline.
probe.allowCallsTo(relay, {
  timeout: Duration.seconds(12),
  perTryTimeout: Duration.seconds(6),
  retries: { maxAttempts: 1 },
});
probe.allowCallsTo(jitter, {
  timeout: Duration.millis(600),
  perTryTimeout: Duration.millis(600),
  retries: { maxAttempts: 10, baseDelay: Duration.millis(200), maxDelay: Duration.seconds(1), retryOn: ['throttled'] },
});
probe.allowCallsTo(split, { ...edge, idempotent: true, retries: { maxAttempts: 1 } });
relay.allowCallsTo(work, { timeout: Duration.seconds(3), retries: { maxAttempts: 1 } });

app.synth();
