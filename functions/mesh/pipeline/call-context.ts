/**
 * The one object each stage of an outbound call reads and adds to (client.ts composes the stages):
 * a `CallContext` per call, grown by `authorize` (the target's policy) and `connect` (who signs,
 * which transport) into a `ReadyCall`, and an `AttemptContext` per attempt, made by `route`.
 * What every call of one client shares (breakers, budgets, balancers, clocks) is the `ClientState`.
 */
import type { Channels, ChannelTarget } from '../../../shared/channel';
import type { HttpTargets } from '../../../shared/http-target';
import { LIVE_ALIAS, SERVICE_NAME_PATTERN } from '../../../shared/names';
import { outboundKey } from '../idempotency-key';
import type { RequestBinding } from '../identity/request-binding';
import type { InvocationScope } from '../invocation-scope';
import type { ResolvedTrafficPolicy } from '../policy/effective-policy';
import type { PolicyCache } from '../policy/policy-cache';
import type { ServicePolicy } from '../policy/service-policy';
import type { Breakers } from '../resilience/circuit-breaker';
import type { AttemptTimeout } from '../resilience/deadline';
import type { Delivery } from '../resilience/delivery';
import type { RateLimitLeaser } from '../resilience/rate-limit-lease';
import type { RetryBudget, RetryBudgets } from '../resilience/retry-budget';
import type { AttemptResult, Outcome } from '../resilience/retry-decision';
import type { AliasVersions } from '../routing/alias-pin';
import type { RouteBalancers } from '../routing/route-choice';
import { mergeRouteHeaders, type RouteHeaders, routeHeadersOf } from '../routing/route-headers';
import type { MeshTelemetry } from '../telemetry/mesh-telemetry';
import { monotonicMs } from '../telemetry/monotonic-ms';
import type { InvokeResponse, InvokeTransport } from '../transport/lambda-invoke';
import { MeshCallError } from './errors';
import type { RateLimitState } from './limit';

export interface CallOptions {
  /** Overall timeout of the call (all attempts), ms; default the edge's policy. */
  readonly timeoutMs?: number;
  /** The same on every attempt; default a new UUID per call. */
  readonly idempotencyKey?: string;
  /** Headers matched by the target's route (header matches, sticky header). */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Sticky routing key (wins over the route's sticky header). */
  readonly stickyKey?: string;
  /**
   * Resolve to `{ result, meta }`: the answer and who served it (the target, or its declared
   * fallback), instead of the answer alone.
   */
  readonly withMeta?: boolean;
}

/** Who answered a call (`call(..., { withMeta: true })`). */
export interface CallMeta {
  /** The service that answered. */
  readonly target: string;
  /** The version that ran (X-Amz-Executed-Version), else the alias or version called. */
  readonly version: string;
  /** The region of the function that answered, when a fallback in another region served the call. */
  readonly region?: string;
  /** A declared fallback served the call: the target called first failed. */
  readonly fallback: boolean;
  /** With `fallback`: the target called first. */
  readonly primary?: string;
  /** Attempts of the call that answered. */
  readonly attempts: number;
}

/** The answer of `call(..., { withMeta: true })`. */
export interface CallWithMeta<T> {
  /** What the target (or its fallback) answered. */
  readonly result: T;
  /** Who answered: the target or a fallback, its version and region, and the attempts it took. */
  readonly meta: CallMeta;
}

/**
 * How a fallback call differs from a plain call to its target (failover.ts): the target it stands in
 * for, a version it is pinned to, or the same function in another region (its ARN).
 */
export interface Detour {
  /** The target called first. */
  readonly primary: string;
  /** The Invoke qualifier to call, bypassing the route (another version; a region's alias). */
  readonly qualifier?: string;
  /** The function in another region, unqualified ARN, and its region. */
  readonly functionArn?: string;
  readonly region?: string;
}

export interface Signer {
  /** A token bound to this request: payload, idempotency key, deadline and (HTTP) request line. */
  sign(input: { target: string; lifetimeS?: number } & RequestBinding): string;
}

export interface ClientDeps {
  readonly meshName: string;
  readonly service: string;
  readonly policy: PolicyCache;
  readonly transport: InvokeTransport;
  readonly telemetry: MeshTelemetry;
  /**
   * Identity, when on (undefined = off). Resolved once per region. `region`: a fallback in another
   * region, whose callee verifies only its own region's mesh CA, so the call is signed with this
   * service's identity in that region (docs/rate-limits.md, "Identity across regions").
   */
  readonly identity: (region?: string) => Promise<Signer | undefined>;
  readonly scope: () => InvocationScope | undefined;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The HTTP targets the deployment declared (MESH_HTTP_TARGETS); every other target is Invoked. */
  readonly httpTargets?: HttpTargets;
  /** Shares an opened breaker with the other sandboxes (the `breaker#<version>` item); fire-and-forget. */
  readonly sharedBreakers?: { opened(target: string, version: string, openedAt: number, openMs: number): void };
  /** Routing header names besides the `x-route-` prefix (MESH_ROUTE_HEADERS). @default none */
  readonly routeHeaderNames?: ReadonlySet<string>;
  /** The channels the deployment declared for `send` (MESH_CHANNELS), read on the first send. */
  readonly channels?: () => Channels;
  /** The transport of one channel, made on its first send. @default channel-transport.ts, on the wire */
  readonly channelTransport?: (name: string, target: ChannelTarget) => InvokeTransport;
  /** Where rate-limit slices are leased, made on the first limited call. @default this sandbox alone (memory) */
  readonly rateLimitLeaser?: () => RateLimitLeaser;
}

/** What every request of one call carries besides the core metadata. */
export interface Carried {
  /** Routing headers for the callee's own calls. */
  readonly rh?: RouteHeaders;
  readonly mir?: 1;
}

/** What every call of one client shares: its dependencies, clocks, and the state kept across calls. */
export interface ClientState {
  readonly deps: ClientDeps;
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly breakers: Breakers;
  readonly budgets: RetryBudgets;
  readonly balancers: RouteBalancers;
  readonly aliases: AliasVersions;
  /** One transport per channel, made on its first send. */
  readonly channelTransports: Map<string, InvokeTransport>;
  readonly rateLimits: RateLimitState;
}

/** One call as `startCall` opens it. The progress fields are what its access-log line reports. */
export interface CallContext {
  readonly client: ClientState;
  /** `call`: a synchronous Invoke (or HTTP request) and its answer; `send`: an asynchronous message. */
  readonly mode: 'call' | 'send';
  readonly target: string;
  /**
   * What this call's breakers, budget and seen versions are kept under: the target, or
   * `<target>@<region>` for the same function in another region (its versions are not the target's).
   */
  readonly key: string;
  /** Set on a fallback call. */
  readonly detour?: Detour;
  readonly payload: unknown;
  readonly options: CallOptions;
  readonly scope: InvocationScope | undefined;
  readonly idempotencyKey: string;
  /** When the call started, on the client's clock (epoch ms). */
  readonly startedAt: number;
  /** The same moment on a monotonic clock (telemetry/monotonic-ms.ts), for the call's duration. */
  readonly t0: number;
  /** The version the call is reported under: the alias until an attempt names another. */
  version: string;
  /** Attempts that ended, and retries sent. */
  attempts: number;
  retries: number;
  /** An earlier attempt may have reached the handler without a known end (idempotent edges retry those). */
  mayHaveRun: boolean;
  /** Whether the last attempt reached the handler (nothing sent yet: `not-delivered`). */
  lastDelivery: Delivery;
  /** How the call ended, once it has (`ended`). */
  outcome?: Outcome;
  /** What the target's route matches on: the invocation's routing headers under the call's own. */
  readonly routeHeaders: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** The routing headers and mirror mark every request of this call carries on. */
  readonly carried: Carried;
}

/** A call the target's policy admitted (`authorize`). */
export interface AuthorizedCall extends CallContext {
  readonly policy: ServicePolicy;
  readonly traffic: ResolvedTrafficPolicy;
  readonly functionName: string;
  readonly alias: string;
  /** The payload as sent on every attempt. */
  readonly bytes: Buffer;
  /** The end of the whole call (its timeout), epoch ms. */
  readonly overallDeadline: number;
  readonly budget: RetryBudget;
  /** The channel a `send` goes to (MESH_CHANNELS); undefined = an Event invoke of the target service. */
  readonly channel: ChannelTarget | undefined;
}

/** A call that knows who signs it and how it travels (`connect`). */
export interface ReadyCall extends AuthorizedCall {
  readonly transport: InvokeTransport;
  /** Signs each attempt; undefined = identity off, or a target that must not see the token. */
  readonly signer: Signer | undefined;
  /** The declared HTTP transport is in use (no version to mirror to). */
  readonly overHttp: boolean;
}

/** One attempt: when it starts and how long it may take (`retry`), where it goes (`route`). */
export interface AttemptContext {
  readonly call: ReadyCall;
  /** 1-based. */
  readonly number: number;
  /** When the attempt started, on the client's clock. */
  readonly now: number;
  readonly timeout: AttemptTimeout;
  /** The Invoke qualifier: a version, or the alias. */
  readonly qualifier: string;
  /** The version it is reported and guarded under until the answer names the one that ran. */
  readonly routeVersion: string;
  /** The route chose no version: Lambda draws it behind the alias. */
  readonly behindAlias: boolean;
  /** Versions seen behind the alias (only when calling through it, pinned or not). */
  readonly seen: Set<string> | undefined;
  /** Versions ejected by breakers, here and (shared breakers) in other sandboxes. */
  readonly ejected: ReadonlySet<string>;
}

/** What one attempt came to (`classify`). */
export interface AttemptOutcome {
  readonly result: AttemptResult;
  readonly outcome: Outcome;
  readonly response?: InvokeResponse;
  /** The version that ran (X-Amz-Executed-Version), else the route's. */
  readonly version: string;
  readonly error?: unknown;
  readonly remote?: { readonly errorType: string; readonly errorMessage: string };
  /** When it ended, on the client's clock. */
  readonly endedAt: number;
}

/** Opens a call: its target checked, its idempotency key (derived from the invocation's), its start. */
export function startCall(
  client: ClientState,
  target: string,
  payload: unknown,
  options: CallOptions,
  mode: CallContext['mode'] = 'call',
  detour?: Detour,
): CallContext {
  const startedAt = client.now();
  const t0 = monotonicMs();
  if (typeof target !== 'string' || !SERVICE_NAME_PATTERN.test(target)) {
    throw new MeshCallError(
      `${mode}(target): ${JSON.stringify(target)} is not a service name${mode === 'send' ? ' or channel name' : ''} (lower-case letters, digits, dashes)`,
    );
  }
  const scope = client.deps.scope();
  const routeHeaders = mergeRouteHeaders(scope?.routeHeaders, options.headers);
  return {
    client,
    mode,
    target,
    key: detour?.region ? `${target}@${detour.region}` : target,
    ...(detour ? { detour } : {}),
    payload,
    options,
    scope,
    idempotencyKey: options.idempotencyKey ?? outboundKey(scope, target),
    startedAt,
    t0,
    version: LIVE_ALIAS,
    attempts: 0,
    retries: 0,
    mayHaveRun: false,
    lastDelivery: 'not-delivered',
    routeHeaders,
    carried: carriedOf(scope, routeHeaders, client.deps.routeHeaderNames),
  };
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** The routing headers and mirror mark every request of a call carries (none: nothing added). */
function carriedOf(
  scope: InvocationScope | undefined,
  headers: Readonly<Record<string, unknown>> | undefined,
  names: ReadonlySet<string> = NO_NAMES,
): Carried {
  const rh = headers === scope?.routeHeaders ? scope?.routeHeaders : routeHeadersOf(headers, names);
  return { ...(rh ? { rh } : {}), ...(scope?.mirror ? { mir: 1 as const } : {}) };
}
