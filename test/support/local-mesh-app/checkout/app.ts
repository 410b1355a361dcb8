/**
 * A checkout on the real constructs and the real runtime layer, for the chaos tests of
 * test/security/checkout-chaos.test.ts: `checkout` (external callers) charges through two edges,
 * - `charge`: not idempotent; the leaf writes one ledger item per charge it completes;
 * - `charge-once`: idempotent; the same leaf code, deduplicated with Powertools idempotency on the
 *   mesh's idempotency key (DynamoDB persistence through the local endpoint).
 * The leaves inject their own faults when the checkout asks (a share of calls slow or failing); both
 * have reserved concurrency, so bursts are throttled for real.
 * Usage: tsx app.ts <outdir>
 */
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Mesh } from '../../../../infra/mesh';
import { MeshFunction } from '../../../../infra/mesh-function';
import type { EdgeOptions } from '../../../../infra/traffic-options';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'LocalMeshCheckout', { env: { account: '000000000000', region: 'us-east-1' } });
const mesh = new Mesh(stack, 'Mesh', { meshName: 'chk', policyTtl: Duration.seconds(1) });

const ledger = new Table(stack, 'Ledger', {
  partitionKey: { name: 'pk', type: AttributeType.STRING },
  sortKey: { name: 'sk', type: AttributeType.STRING },
  billingMode: BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});
// Powertools idempotency's default layout: key `id`, expiry in `expiration`.
const idempotency = new Table(stack, 'Idempotency', {
  partitionKey: { name: 'id', type: AttributeType.STRING },
  timeToLiveAttribute: 'expiration',
  billingMode: BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});

const checkout = new MeshFunction(stack, 'Checkout', {
  mesh,
  service: 'checkout',
  entry: join(__dirname, 'checkout.ts'),
  timeout: Duration.seconds(20),
  memorySize: 256,
});
const leaf = (id: string, service: string, dedupe: boolean) => {
  const fn = new MeshFunction(stack, id, {
    mesh,
    service,
    entry: join(__dirname, 'charge.ts'),
    timeout: Duration.seconds(10),
    memorySize: 256,
    reservedConcurrentExecutions: 4,
    environment: {
      LEDGER_TABLE: ledger.tableName,
      IDEMPOTENCY_TABLE: idempotency.tableName,
      DEDUPE: String(dedupe),
      SLOW_MS: '1500',
    },
  });
  ledger.grantWriteData(fn);
  if (dedupe) idempotency.grantReadWriteData(fn);
  return fn;
};
const charge = leaf('Charge', 'charge', false);
const chargeOnce = leaf('ChargeOnce', 'charge-once', true);

checkout.allowExternal();
const edge: EdgeOptions = {
  timeout: Duration.seconds(8),
  perTryTimeout: Duration.millis(500),
  retries: {
    maxAttempts: 6,
    baseDelay: Duration.millis(100),
    maxDelay: Duration.seconds(1),
    retryOn: ['throttled', 'service-error', 'timeout', 'function-error'],
  },
  // The chaos is the point: a breaker opening would only end calls early.
  breaker: { consecutiveFailures: 1_000, failureRateThreshold: 1 },
};
checkout.allowCallsTo(charge, { ...edge, idempotent: false });
checkout.allowCallsTo(chargeOnce, { ...edge, idempotent: true });

app.synth();
