/**
 * `createMeshClient`: the outbound pipeline of one runtime, wired to its policy cache, telemetry,
 * invocation scopes, identity and transport. In the outbound pipeline's file of the layer (it is
 * exported by outbound-entry.ts), so a function that only serves requests never loads it.
 */
import type { Channels } from '../../shared/channel';
import { ENV } from '../../shared/names';
import { type ClientDeps, MeshClient, type Signer } from './client';
import type { MeshRuntime, MeshRuntimeOptions } from './mesh-runtime';
import type { RateLimitLeaser } from './resilience/rate-limit-lease';
import { LambdaInvokeTransport } from './transport/lambda-invoke';

export interface OutboundWiring {
  readonly runtime: MeshRuntime;
  readonly options: MeshRuntimeOptions;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** No identity secret and no identity given: calls carry no token. */
  readonly identityOff: boolean;
  /** This function's identity (or this service's in `region`), or a rejection while it has none. */
  readonly signer: (region?: string) => Promise<Signer | undefined>;
}

export function createMeshClient(w: OutboundWiring): MeshClient {
  const { runtime: rt, options, env } = w;
  let channels: Channels | undefined;
  return new MeshClient({
    meshName: rt.config.meshName,
    service: rt.config.service,
    policy: rt.policy,
    transport: options.transport ?? new LambdaInvokeTransport({ env }),
    telemetry: rt.telemetry,
    // Identity off: no module load, no promise per call.
    identity: w.identityOff ? () => Promise.resolve(undefined) : (region) => w.signer(region),
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
