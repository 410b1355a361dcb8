/**
 * One mesh runtime: this function's service name, its policy cache, breakers, budgets, telemetry and
 * transport, shared by the wrapper (inbound) and `call()` (outbound). The layer makes one from the
 * environment; tests make several in one process (one per service).
 *
 * The invocation being served (deadline, trace, caller, idempotency key) lives in `invocations`, one
 * async context per invocation, so concurrent invocations in one process (Lambda Managed Instances)
 * each see their own.
 */

import { ENV } from '../../shared/names';
import type { CallOptions, ClientDeps, MeshClient, Signer } from './client';
import { MeshIdentityUnavailableError } from './errors';
import { IDENTITY_UNAVAILABLE, IdentityLoader } from './identity/identity-loader';
import type { RequestBinding } from './identity/request-binding';
import { type InvocationScope, InvocationScopes } from './invocation-scope';
import { PolicyCache, type PolicyCacheOptions } from './policy/policy-cache';
import { type RuntimeConfig, readConfig } from './runtime-config';
import { MeshTelemetry, type TelemetrySink } from './telemetry/mesh-telemetry';
import type { SegmentDoc } from './telemetry/xray-emitter';
import type { InvokeTransport } from './transport/lambda-invoke';

/** What the wrapper needs of identity (identity/identity.ts `Identity` fits). */
export interface IdentityLike extends Signer {
  /** Verifies the token against the request as received (payload, key, deadline, HTTP request line). */
  verify(input: { token: unknown; source: unknown } & RequestBinding): { ok: true } | { ok: false; reason: string };
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
  /** Identity loader (default: functions/mesh/identity `loadIdentity`, required on first need). */
  readonly identity?: () => Promise<IdentityLike | undefined>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /**
   * Shares opened breakers through the policy table (`breaker#<version>` items). @default a writer
   * to MESH_POLICY_TABLE when it is set, its module and the DynamoDB client required on the first opening.
   */
  readonly sharedBreakers?: ClientDeps['sharedBreakers'] | false;
  /** The clock of breakers, budgets and deadlines (tests). @default Date.now */
  readonly now?: () => number;
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
  private readonly identityLoader: IdentityLoader<IdentityLike | undefined>;
  private outbound: MeshClient | undefined;
  private readonly makeClient: () => MeshClient;

  constructor(options: MeshRuntimeOptions = {}) {
    const env = options.env ?? process.env;
    this.config = { ...readConfig(env), ...options.config };
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
    this.telemetry = new MeshTelemetry(
      options.sink,
      this.config.xrayAddress,
      options.onSegment,
      this.config.metricDimensions,
    );
    this.policy =
      options.policy instanceof PolicyCache
        ? options.policy
        : new PolicyCache({
            env,
            onThrottled: (service) => this.telemetry.policyReadThrottled(this.config.service, service),
            ...options.policy,
          });
    this.identityLoader = new IdentityLoader(
      options.identity ??
        (() =>
          (require('./identity') as typeof import('./identity')).loadIdentity() as Promise<IdentityLike | undefined>),
      {
        now: options.now,
        onMissing: (reason) => this.telemetry.identityUnavailable(this.config.service, reason),
      },
    );
    const identityOff = !options.identity && !env.MESH_IDENTITY_SECRET;
    // The outbound pipeline and its transport are their own file in the layer: a function that makes
    // no call never loads them.
    this.makeClient = () => {
      const { MeshClient, LambdaInvokeTransport } = require('./outbound-entry') as typeof import('./outbound-entry');
      return new MeshClient({
        meshName: this.config.meshName,
        service: this.config.service,
        policy: this.policy,
        transport: options.transport ?? new LambdaInvokeTransport({ env }),
        telemetry: this.telemetry,
        // Identity off: no module load, no promise per call.
        identity: identityOff ? () => Promise.resolve(undefined) : () => this.signer(),
        scope: () => this.invocations.current(),
        httpTargets: this.config.httpTargets,
        routeHeaderNames: this.config.routeHeaders,
        sleep: options.sleep,
        random: options.random,
        now: options.now,
        sharedBreakers:
          options.sharedBreakers === false
            ? undefined
            : (options.sharedBreakers ?? lazyBreakerWriter(this.policy.tableName, env, options.sink)),
      });
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
    const r = await this.identityLoader.get();
    return 'identity' in r ? r.identity : unavailableIdentity(this.config.service, r.missing);
  }

  /** What outbound calls sign with; rejects with MeshIdentityUnavailableError while there is no identity. */
  private async signer(): Promise<Signer | undefined> {
    const r = await this.identityLoader.get();
    if ('identity' in r) return r.identity;
    throw new MeshIdentityUnavailableError(
      `mesh: ${this.config.service} has no identity yet (${r.missing}); its mesh calls are refused until its identity secret holds one`,
    );
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

  call<T = unknown>(target: string, payload?: unknown, options?: CallOptions): Promise<T> {
    return this.client.call<T>(target, payload, options);
  }
}

/** Stands in for a missing identity: refuses every caller, signs nothing. */
function unavailableIdentity(service: string, reason: string): IdentityLike {
  return {
    verify: () => ({ ok: false, reason: IDENTITY_UNAVAILABLE }),
    sign: () => {
      throw new MeshIdentityUnavailableError(`mesh: ${service} has no identity yet (${reason})`);
    },
  };
}

/** A breaker writer that loads nothing until a breaker opens (cold start stays lean). */
function lazyBreakerWriter(
  tableName: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  log?: (line: string) => void,
): ClientDeps['sharedBreakers'] {
  // Opt-in: writing into the targets' partitions needs a PutItem grant the construct gives only on request.
  if (!tableName || env[ENV.sharedBreakers] !== 'true') return undefined;
  let writer: import('./resilience/shared-breaker-writer').SharedBreakerWriter | undefined;
  return {
    opened(target, version, openedAt, openMs) {
      if (!writer) {
        const { SharedBreakerWriter } =
          require('./resilience/shared-breaker-writer') as typeof import('./resilience/shared-breaker-writer');
        writer = new SharedBreakerWriter({ tableName, env, log });
      }
      writer.opened(target, version, openedAt, openMs);
    },
  };
}
