import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { Mesh, MeshFunction, type MeshFunctionProps } from 'lambda-mesh';

const DEMO_DIR = join(__dirname, '..', 'functions', 'demo');

export interface ShopStackProps extends StackProps {
  /**
   * Which release of the shop to synthesize. Payments' deployments are gated in both: 1 is
   * the first deploy (the alias is created on its version); 2 ships new payments code and config, which
   * CodeDeploy shifts in as a canary (10% for 5 minutes), rolled back when its alarms fire.
   * @default 2
   */
  readonly release?: 1 | 2;
  /**
   * Name of the mesh.
   * @default 'shop'
   */
  readonly meshName?: string;
  /**
   * Share of calls release 2's payments fails (its canary's defect). Tests set 0 for a healthy
   * canary (`-c paymentsFailureRate=0`).
   * @default 0.2
   */
  readonly paymentsFailureRate?: number;
  /**
   * How release 2 ships payments' new version: `gated` (a CodeDeploy canary, no version numbers) or
   * `pinned` (the advanced `canary` prop: 10% on this deploy's version, the rest pinned to version "1",
   * for operators who step it by hand with `mesh shift` / `mesh rollout`).
   * @default 'gated'
   */
  readonly paymentsCanary?: 'gated' | 'pinned';
  /**
   * Another region the shop is deployed to (a stack of its own): orders fails over to payments there
   * when payments here is down (breaker open, throttled past the retries, service errors).
   * @default none — no region fallback
   */
  readonly fallbackRegion?: string;
}

/**
 * The example app: a small shop in one mesh. frontend -> orders -> payments and inventory;
 * frontend admits external callers; frontend -> payments is not declared, so it is denied. orders'
 * charges are rate limited mesh-wide (the payment provider's quota) and, with `fallbackRegion`, fail
 * over to payments in that region. orders tells notifications of each order asynchronously, through
 * the `order-events` queue.
 */
export class ShopStack extends Stack {
  public readonly mesh: Mesh;
  public readonly frontend: MeshFunction;
  public readonly orders: MeshFunction;
  public readonly payments: MeshFunction;
  public readonly inventory: MeshFunction;
  public readonly notifications: MeshFunction;
  /** orders -> notifications, asynchronously: `order-placed` messages. */
  public readonly orderEvents: sqs.Queue;

  constructor(scope: Construct, id: string, props: ShopStackProps = {}) {
    super(scope, id, props);
    this.mesh = new Mesh(this, 'Mesh', {
      meshName: props.meshName ?? 'shop',
      removalPolicy: RemovalPolicy.DESTROY,
      // The other region's orders signs its fallbacks here with orders' identity here.
      ...(props.fallbackRegion ? { identity: { peerRegions: [props.fallbackRegion] } } : {}),
    });
    // The shop's front door also takes plain HTTP calls into the mesh from its own processes ($MESH_ENDPOINT).
    this.frontend = this.service('Frontend', 'frontend', { localEndpoint: true });
    this.orders = this.service('Orders', 'orders');
    this.inventory = this.service('Inventory', 'inventory');
    this.payments = this.paymentsFunction(props);
    this.notifications = this.service('Notifications', 'notifications');
    this.orderEvents = this.orderEventsQueue();
    this.declareEdges(props);
  }

  /** A demo service: its handler in functions/demo/<service>.ts, the shop's timeout and memory. */
  private service(id: string, service: string, props: Partial<MeshFunctionProps> = {}): MeshFunction {
    return new MeshFunction(this, id, {
      mesh: this.mesh,
      timeout: Duration.seconds(10),
      memorySize: 256,
      service,
      entry: join(DEMO_DIR, `${service}.ts`),
      ...props,
    });
  }

  private paymentsFunction(props: ShopStackProps): MeshFunction {
    const release = props.release ?? 2;
    return this.service('Payments', 'payments', {
      environment:
        release === 1
          ? { DEMO_RELEASE: '1' }
          : // Release 2: the new payments fails a fifth of its calls and is slower.
            {
              DEMO_RELEASE: '2',
              PAYMENTS_FAILURE_RATE: String(props.paymentsFailureRate ?? 0.2),
              PAYMENTS_DELAY_MS: '40',
            },
      // Every deploy of a new payments version is a gated canary: no version number here (the pinned
      // split is the advanced way, stepped by hand).
      ...(props.paymentsCanary === 'pinned'
        ? { canary: release === 1 ? undefined : { weight: 0.1, stableVersion: '1' } }
        : { deployment: {} }),
    });
  }

  private orderEventsQueue(): sqs.Queue {
    // A message refused or failed three times is kept in the dead-letter queue, never lost.
    const deadLetters = new sqs.Queue(this, 'OrderEventsDeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });
    return new sqs.Queue(this, 'OrderEvents', {
      visibilityTimeout: Duration.seconds(60),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
      enforceSSL: true,
    });
  }

  private declareEdges(props: ShopStackProps): void {
    this.frontend.allowExternal({ description: 'the shop is public' });
    // Not idempotent (an order charges): a timed-out attempt is never repeated, so each attempt gets the
    // whole call's time; attempts that never reached orders (throttled) are still retried within it.
    this.frontend.allowCallsTo(this.orders, { timeout: Duration.seconds(8), perTryTimeout: Duration.seconds(8) });
    this.orders.allowCallsTo(this.inventory, { timeout: Duration.seconds(3), retries: { maxAttempts: 3 } });
    // Charges carry the mesh's idempotency key, so a failed attempt may be retried (on either version).
    this.orders.allowCallsTo(this.payments, {
      timeout: Duration.seconds(5),
      perTryTimeout: Duration.seconds(2),
      idempotent: true,
      retries: { maxAttempts: 3, retryOn: ['throttled', 'service-error', 'timeout', 'function-error'] },
      breaker: { consecutiveFailures: 5, openDuration: Duration.seconds(30) },
      // The payment provider's quota, shared by every orders sandbox (leased from the policy table).
      rateLimit: { perSecond: 50, burst: 100 },
      ...(props.fallbackRegion ? { fallback: { functionArn: this.paymentsIn(props.fallbackRegion) } } : {}),
    });
    this.orders.allowSendTo(this.orderEvents, { description: 'order-placed, for notifications' });
    this.notifications.receiveFrom(this.orderEvents, { from: [this.orders], batchSize: 10 });
  }

  /**
   * payments' function in another region of the same account: the same name, deployed by that region's
   * stack. The fallback must be a literal ARN (the constructs check it at synth), so the partition is
   * written out.
   */
  private paymentsIn(region: string): string {
    return `arn:aws:lambda:${region}:${Stack.of(this).account}:function:${this.mesh.meshName}-payments`;
  }
}
