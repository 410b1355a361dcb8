/**
 * The one object each stage of an outbound call reads and adds to (client.ts composes the stages):
 * a `CallContext` per call, grown by `authorize` (the target's policy) and `connect` (who signs,
 * which transport) into a `ReadyCall`, and an `AttemptContext` per attempt, made by `route`.
 * What every call of one client shares (breakers, budgets, balancers, clocks) is the `ClientState`.
 */
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
import type { RetryBudget, RetryBudgets } from '../resilience/retry-budget';
import type { AttemptResult, Outcome } from '../resilience/retry-decision';
import type { AliasVersions } from '../routing/alias-pin';
import type { RouteBalancers } from '../routing/route-choice';
import { mergeRouteHeaders, type RouteHeaders, routeHeadersOf } from '../routing/route-headers';
import type { MeshTelemetry } from '../telemetry/mesh-telemetry';
import { monotonicMs } from '../telemetry/monotonic-ms';
import type { InvokeResponse, InvokeTransport } from '../transport/lambda-invoke';
import { MeshCallError } from './errors';

export interface CallOptions {
  /** Overall timeout of the call (all attempts), ms; default the edge's policy. */
  readonly timeoutMs?: number;
  /** The same on every attempt; default a new UUID per call. */
  readonly idempotencyKey?: string;
  /** Headers matched by the target's route (header matches, sticky header). */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Sticky routing key (wins over the route's sticky header). */
  readonly stickyKey?: string;
}

export interface Signer {
  /** A token bound to this request: payload, idempotency key, deadline and (HTTP) request line. */
  sign(input: { target: string } & RequestBinding): string;
}

export interface ClientDeps {
  readonly meshName: string;
  readonly service: string;
  readonly policy: PolicyCache;
  readonly transport: InvokeTransport;
  readonly telemetry: MeshTelemetry;
  /** Identity, when on (undefined = off). Resolved once. */
  readonly identity: () => Promise<Signer | undefined>;
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
}

/** One call as `startCall` opens it. The progress fields are what its access-log line reports. */
export interface CallContext {
  readonly client: ClientState;
  readonly target: string;
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
export function startCall(client: ClientState, target: string, payload: unknown, options: CallOptions): CallContext {
  const startedAt = client.now();
  const t0 = monotonicMs();
  if (typeof target !== 'string' || !SERVICE_NAME_PATTERN.test(target)) {
    throw new MeshCallError(
      `call(target): ${JSON.stringify(target)} is not a service name (lower-case letters, digits, dashes)`,
    );
  }
  const scope = client.deps.scope();
  const routeHeaders = mergeRouteHeaders(scope?.routeHeaders, options.headers);
  return {
    client,
    target,
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
