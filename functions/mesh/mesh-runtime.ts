/**
 * One mesh runtime: this function's service name, its policy cache, breakers, budgets, telemetry and
 * transport, shared by the wrapper (inbound) and `call()` (outbound). The layer makes one from the
 * environment; tests make several in one process (one per service).
 *
 * The invocation being served (deadline, trace, caller, idempotency key) lives in `invocations`, one
 * async context per invocation, so concurrent invocations in one process (Lambda Managed Instances)
 * each see their own.
 */

import { ENV, metricNamespace } from '../../shared/names';
import type { CallOptions, CallWithMeta, ClientDeps, MeshClient, SendReceipt, Signer } from './client';
import type { IdentityLoader, LoadedIdentity } from './identity/identity-loader';
import type { RequestBinding } from './identity/request-binding';
import { type InvocationScope, InvocationScopes } from './invocation-scope';
import { PolicyCache, type PolicyCacheOptions } from './policy/policy-cache';
import type { RateLimitLeaser } from './resilience/rate-limit-lease';
import { type RuntimeConfig, readConfig, withConfig } from './runtime-config';
import { MeshTelemetry, type TelemetrySink } from './telemetry/mesh-telemetry';
import type { SegmentDoc } from './telemetry/xray-emitter';
import type { InvokeTransport } from './transport/lambda-invoke';

/** What the wrapper needs of identity (identity/identity.ts `Identity` fits). */
export interface IdentityLike extends Signer {
  /** Settles once the identity may be used (Identity.ready: an expired certificate is read again first). */
  ready?(): Promise<unknown> | undefined;
  /**
   * Verifies the token against the request as received (payload, key, deadline, HTTP request line)
   * and the metadata it binds (`context`); `payload` undefined is one no caller can have signed,
   * refused. `contextBound` absent: the token vouched for no mirror mark or routing header.
   */
  verify(
    input: { token: unknown; source: unknown; audience?: string; async?: boolean } & Omit<RequestBinding, 'payload'> & {
        payload: RequestBinding['payload'] | undefined;
      },
  ): { ok: true; contextBound?: true } | { ok: false; reason: string };
}

export interface MeshRuntimeOptions {
  readonly config?: Partial<RuntimeConfig>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A ready policy cache, or options for one (default: from the environment). */
  readonly policy?: PolicyCache | PolicyCacheOptions;
  readonly transport?: InvokeTransport;
  /** Where EMF and access-log lines go (default stdout). */
  readonly sink?: TelemetrySink;
  /** Receives X-Ray segment documents instead of the UDP emitter (tests). */
  readonly onSegment?: (doc: SegmentDoc) => void;
  /**
   * Identity loader (default: functions/mesh/identity `loadIdentity`, required on first need); with
   * a region, this service's identity in that region (`loadIdentityIn`), for fallbacks there.
   */
  readonly identity?: (region?: string) => Promise<IdentityLike | undefined>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /**
   * Shares opened breakers through the policy table (`breaker#<version>` items). @default a writer
   * to MESH_POLICY_TABLE when it is set, its module and the DynamoDB client required on the first opening.
   */
  readonly sharedBreakers?: ClientDeps['sharedBreakers'] | false;
  /** The clock of breakers, budgets and deadlines (tests). @default Date.now */
  readonly now?: () => number;
  /** The transport of a channel `send` reaches (tests). @default SQS, SNS or EventBridge on the wire */
  readonly channelTransport?: ClientDeps['channelTransport'];
  /**
   * Where rate-limit slices are leased. @default the policy table (MESH_POLICY_TABLE), its module
   * loaded on the first call to a limited target; without a table, each sandbox alone
   */
  readonly rateLimitLeaser?: () => RateLimitLeaser;
}

export class MeshRuntime {
  readonly config: RuntimeConfig;
  readonly policy: PolicyCache;
  readonly telemetry: MeshTelemetry;
  /** The invocations being served (the wrapper runs each in its own). */
  readonly invocations = new InvocationScopes();
  /** Draws of the inbound fault injection (the `fault` item); injectable for tests. */
  readonly random: () => number;
  /** Waits of the inbound fault injection (an injected delay); injectable for tests. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Loads this function's identity; undefined = identity off (nothing to verify or sign with). */
  private readonly loadIdentity: (() => Promise<IdentityLike | undefined>) | undefined;
  private identityLoader: IdentityLoader<IdentityLike | undefined> | undefined;
  private readonly clock: (() => number) | undefined;
  private outbound: MeshClient | undefined;
  private readonly makeClient: () => MeshClient;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private inbound: ReadonlyMap<string, string> | string | undefined;

  constructor(options: MeshRuntimeOptions = {}) {
    const env = options.env ?? process.env;
    this.env = env;
    this.config = withConfig(readConfig(env), options.config);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
    this.telemetry = new MeshTelemetry(
      options.sink,
      this.config.xrayAddress,
      options.onSegment,
      this.config.metricDimensions,
      metricNamespace(this.config.meshName),
    );
    this.policy =
      options.policy instanceof PolicyCache
        ? options.policy
        : new PolicyCache({
            env,
            onThrottled: (service) => this.telemetry.policyReadThrottled(this.config.service, service),
            ...options.policy,
          });
    // Identity off: neither side loads identity's file (a mesh caller's metadata is read, not verified).
    const identityOff = !options.identity && !env[ENV.identitySecret];
    this.loadIdentity = identityOff
      ? undefined
      : (options.identity ??
        (() =>
          (require('./identity') as typeof import('./identity')).loadIdentity() as Promise<IdentityLike | undefined>));
    this.clock = options.now;
    // The outbound pipeline and its transport are their own file in the layer: a function that makes
    // no call never loads them (outbound-client.ts builds the client, and signs with this service's
    // identity in other regions for fallbacks there).
    this.makeClient = () => {
      const { createMeshClient } = require('./outbound-entry') as typeof import('./outbound-entry');
      const ownIdentity = () => this.loadedIdentity();
      return createMeshClient({ runtime: this, options, env, identityOff, ownIdentity });
    };
  }

  /** The outbound pipeline, made on first use. */
  get client(): MeshClient {
    this.outbound ??= this.makeClient();
    return this.outbound;
  }

  /**
   * This function's identity (undefined = identity off). While there is none yet (see
   * identity/identity-loader.ts), a stand-in whose every check refuses with `identity-unavailable`.
   */
  async identity(): Promise<IdentityLike | undefined> {
    const r = await this.loadedIdentity();
    if ('identity' in r) return r.identity;
    const { unavailableIdentity } = require('./identity') as typeof import('./identity');
    return unavailableIdentity(this.config.service, r.missing);
  }

  /**
   * The identity, or why there is none; with identity on, the loader comes from identity's file
   * (identity/identity-loader.ts), required on the first need.
   */
  private loadedIdentity(): Promise<LoadedIdentity<IdentityLike | undefined>> {
    if (!this.loadIdentity) return Promise.resolve({ identity: undefined });
    if (!this.identityLoader) {
      const { IdentityLoader } = require('./identity') as typeof import('./identity');
      this.identityLoader = new IdentityLoader(this.loadIdentity, {
        now: this.clock,
        onMissing: (reason) => this.telemetry.identityUnavailable(this.config.service, reason),
      });
    }
    return this.identityLoader.get();
  }

  /**
   * The invocation being served where this runs (the wrapper's), else the scope set here for code that
   * runs outside any invocation (a script or a test acting as one).
   */
  get scope(): InvocationScope | undefined {
    return this.invocations.current();
  }

  set scope(scope: InvocationScope | undefined) {
    this.invocations.outside = scope;
  }

  call<T = unknown>(
    target: string,
    payload: unknown,
    options: CallOptions & { withMeta: true },
  ): Promise<CallWithMeta<T>>;
  call<T = unknown>(target: string, payload?: unknown, options?: CallOptions): Promise<T>;
  call<T = unknown>(target: string, payload?: unknown, options?: CallOptions): Promise<T | CallWithMeta<T>> {
    return this.client.call<T>(target, payload, options);
  }

  /** An asynchronous message to a service (Event invoke) or a declared channel; resolves once accepted. */
  send(target: string, payload?: unknown, options?: CallOptions): Promise<SendReceipt> {
    return this.client.send(target, payload, options);
  }

  /**
   * The channels this function consumes (MESH_INBOUND_CHANNELS): channel -> source ARN, or the reason
   * the value is malformed (then every channel record is refused). Read on the first batch.
   */
  get inboundChannels(): ReadonlyMap<string, string> | string {
    if (this.inbound === undefined) {
      const { parseInboundChannels } = require('../../shared/channel') as typeof import('../../shared/channel');
      this.inbound = parseInboundChannels(this.env[ENV.inboundChannels]);
    }
    return this.inbound;
  }
}
