/**
 * `createMeshClient`: the outbound pipeline of one runtime, wired to its policy cache, telemetry,
 * invocation scopes, identity and transport. In the outbound pipeline's file of the layer (it is
 * exported by outbound-entry.ts), so a function that only serves requests never loads it.
 */
import type { Channels } from '../../shared/channel';
import { ENV } from '../../shared/names';
import { type ClientDeps, MeshClient, type Signer } from './client';
import { MeshIdentityUnavailableError } from './errors';
import type { IdentityLoader, LoadedIdentity } from './identity/identity-loader';
import type { IdentityLike, MeshRuntime, MeshRuntimeOptions } from './mesh-runtime';
import type { RateLimitLeaser } from './resilience/rate-limit-lease';
import { LambdaInvokeTransport } from './transport/lambda-invoke';

export interface OutboundWiring {
  readonly runtime: MeshRuntime;
  readonly options: MeshRuntimeOptions;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** No identity secret and no identity given: calls carry no token. */
  readonly identityOff: boolean;
  /** This function's own identity, or why it has none yet (the runtime's loader, shared with the inbound check). */
  readonly ownIdentity: () => Promise<LoadedIdentity<IdentityLike | undefined>>;
}

export function createMeshClient(w: OutboundWiring): MeshClient {
  const { runtime: rt, options, env } = w;
  let channels: Channels | undefined;
  const signer = w.identityOff ? undefined : signerOf(w);
  return new MeshClient({
    meshName: rt.config.meshName,
    service: rt.config.service,
    policy: rt.policy,
    transport: options.transport ?? new LambdaInvokeTransport({ env }),
    telemetry: rt.telemetry,
    // Identity off: no module load, no promise per call.
    identity: signer ?? (() => Promise.resolve(undefined)),
    scope: () => rt.invocations.current(),
    httpTargets: rt.config.httpTargets,
    routeHeaderNames: rt.config.routeHeaders,
    // Read on the first send: a function that only calls never loads the channels' code.
    channels: () =>
      (channels ??= (require('../../shared/channel') as typeof import('../../shared/channel')).parseChannels(
        env[ENV.channels],
      )),
    channelTransport: options.channelTransport,
    sleep: options.sleep,
    random: options.random,
    now: options.now,
    sharedBreakers:
      options.sharedBreakers === false
        ? undefined
        : (options.sharedBreakers ?? lazyBreakerWriter(rt.policy.tableName, env, options.sink)),
    rateLimitLeaser: options.rateLimitLeaser ?? tableLeaser(rt.policy.tableName, env),
  });
}

/**
 * What outbound calls sign with: this function's identity, or (`region`, another than its own) this
 * service's identity in that region (a fallback there), its loader made on the first need. Rejects
 * with MeshIdentityUnavailableError while there is none.
 */
function signerOf(w: OutboundWiring): (region?: string) => Promise<Signer | undefined> {
  const { runtime: rt, options, env } = w;
  const { meshName, service, region: home } = rt.config;
  const loaders = new Map<string, IdentityLoader<IdentityLike | undefined>>();
  const loaderIn = (region: string) => {
    let loader = loaders.get(region);
    if (!loader) {
      const identity = require('./identity') as typeof import('./identity');
      const own = options.identity;
      const load = () =>
        (own ? own(region) : identity.loadIdentityIn(region, meshName, service, env)) as Promise<
          IdentityLike | undefined
        >;
      loader = new identity.IdentityLoader(load, {
        now: options.now,
        onMissing: (reason) => rt.telemetry.identityUnavailable(service, `${region}: ${reason}`),
      });
      loaders.set(region, loader);
    }
    return loader;
  };
  return async (region) => {
    const elsewhere = !!region && region !== home;
    const r = elsewhere ? await loaderIn(region).get() : await w.ownIdentity();
    if ('identity' in r) return r.identity;
    throw new MeshIdentityUnavailableError(
      `mesh: ${service} has no identity${elsewhere ? ` in ${region}` : ''} yet (${r.missing}); its mesh calls are refused until its identity secret holds one`,
    );
  };
}

/** The policy table's leaser, made (and its module loaded) on the first call to a limited target. */
function tableLeaser(
  tableName: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): (() => RateLimitLeaser) | undefined {
  if (!tableName) return undefined;
  return () => {
    const { TableLeaser } = require('./resilience/rate-limit-table') as typeof import('./resilience/rate-limit-table');
    return new TableLeaser(tableName, env);
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
