/**
 * The outbound pipeline of `call(target, payload)`:
 * route (chooseRoute) -> local authorization (the target's policy, fail fast) -> breaker per
 * (target, version) -> retries (budget, full-jitter backoff, retry decision) with a per-try timeout
 * capped by the deadlines -> sign (identity) -> transport (Lambda Invoke, or HTTP for a target the
 * deployment declared in MESH_HTTP_TARGETS) -> classification -> telemetry. Breakers are keyed on the
 * version that ran (X-Amz-Executed-Version); behind the alias an ejected version is avoided by pinning
 * to a healthy one.
 * Every attempt carries the same idempotency key, its attempt number and the deadline.
 */
import { carriesIdentityToken, type HttpTarget, type HttpTargets } from '../../shared/http-target';
import { ENV, isPublishedVersion, LIVE_ALIAS, type MeshMetadata, SERVICE_NAME_PATTERN } from '../../shared/names';
import { formatTraceHeader, newSegmentId, type TraceContext } from '../../shared/trace-header';
import {
  MeshCallError,
  MeshCircuitOpenError,
  MeshDeniedError,
  MeshError,
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from './errors';
import { type KeyScope, outboundKey } from './idempotency-key';
import type { Identity } from './identity/identity';
import { type RequestBinding, requestLineOfUrl } from './identity/request-binding';
import { encodeClientContext } from './metadata';
import type { ResolvedTrafficPolicy } from './policy/effective-policy';
import type { PolicyCache } from './policy/policy-cache';
import type { ServicePolicy } from './policy/service-policy';
import { backoffDelay } from './resilience/backoff';
import { Breakers, type CircuitBreaker, describeOpen } from './resilience/circuit-breaker';
import { attemptTimeout, callEndsBy, describeBound } from './resilience/deadline';
import { classifyDelivery } from './resilience/delivery';
import { RetryBudgets } from './resilience/retry-budget';
import {
  type AttemptResult,
  classifyOutcome,
  countsAsFailure,
  decideRetry,
  isOutcomeUnknown,
  type Outcome,
} from './resilience/retry-decision';
import { sharedEjected } from './resilience/shared-breaker';
import { pinBehindAlias } from './routing/alias-pin';
import { chooseMirror, chooseRoute, RouteBalancers } from './routing/route-choice';
import { mergeRouteHeaders, type RouteHeaders, routeHeadersOf } from './routing/route-headers';
import type { MeshTelemetry } from './telemetry/mesh-telemetry';
import type { InvokeResponse, InvokeTransport } from './transport/lambda-invoke';

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

/** What the pipeline knows of the invocation it runs in (set by the wrapper; `mesh.context()`). */
export interface InvocationScope extends KeyScope {
  /** The deadline received from the caller (metadata `dl`), epoch ms. */
  readonly deadline?: number;
  readonly trace?: TraceContext;
  readonly getRemainingTimeInMillis?: () => number;
  /** The verified caller (`external` outside the mesh). */
  readonly source?: string;
  /** The caller's attempt number (metadata `att`). */
  readonly attempt?: number;
  /** Lambda's request id of this invocation. */
  readonly requestId?: string;
  /** The routing headers of the request this invocation serves (routing/route-headers.ts). */
  readonly routeHeaders?: RouteHeaders;
  /** This invocation serves a mirror copy: its own calls are mirror traffic too. */
  readonly mirror?: boolean;
}

/** What every outbound request of one call carries besides the core metadata. */
interface Carried {
  /** Routing headers for the callee's own calls. */
  readonly rh?: RouteHeaders;
  readonly mir?: 1;
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

const STATUS: Record<Outcome, number> = {
  success: 200,
  denied: 403,
  unauthenticated: 401,
  throttled: 429,
  timeout: 504,
  'circuit-open': 503,
  'function-error': 502,
  'service-error': 502,
  'client-error': 400,
};

interface Attempt {
  readonly result: AttemptResult;
  readonly outcome: Outcome;
  readonly response?: InvokeResponse;
  readonly version: string;
  readonly error?: unknown;
  readonly remote?: { errorType: string; errorMessage: string };
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const NONE: ReadonlySet<string> = new Set();
const decoder = new TextDecoder();

export class MeshClient {
  readonly breakers = new Breakers();
  readonly budgets = new RetryBudgets();
  readonly balancers = new RouteBalancers();
  /** Per target and alias: the versions seen running behind it, least recently seen first. */
  private readonly behindAlias = new Map<string, Set<string>>();
  private pinTurn = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: ClientDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.sleep = deps.sleep ?? defaultSleep;
    this.breakers.onStateChange((c) => {
      if (c.to !== 'open') return;
      deps.telemetry.breakerOpened(deps.service, c.target, c.version);
      // Only published versions are shared: an alias (or $LATEST) is not a version others can eject.
      if (deps.sharedBreakers && isPublishedVersion(c.version)) {
        try {
          deps.sharedBreakers.opened(
            c.target,
            c.version,
            c.at,
            this.breakers.peek(c.target, c.version)?.options.openMs ?? 30_000,
          );
        } catch {
          // Sharing is best effort; the local breaker already protects this sandbox.
        }
      }
    });
  }

  async call<T = unknown>(target: string, payload: unknown, options: CallOptions = {}): Promise<T> {
    const d = this.deps;
    const started = this.now();
    const t0 = performance.now();
    if (typeof target !== 'string' || !SERVICE_NAME_PATTERN.test(target)) {
      throw new MeshCallError(
        `call(target): ${JSON.stringify(target)} is not a service name (lower-case letters, digits, dashes)`,
      );
    }
    const scope = d.scope();
    const idk = options.idempotencyKey ?? outboundKey(scope, target);
    const decidedAt = d.policy.now();
    const policy = await d.policy.get(target);
    const eff = d.policy.authorize(policy, d.service, decidedAt);
    if (!eff.allowed) {
      // The hint and any deny note stay in this function's access log (reason), not in the error that
      // application code may pass on.
      const err = new MeshDeniedError(
        `mesh: the call to ${target} was refused: denied (request ${idk}); the reason is in the mesh access log`,
      );
      this.report(target, LIVE_ALIAS, 'denied', t0, 0, 0, idk, scope, err, true, `${eff.reason}: ${eff.detail}`);
      throw err;
    }
    const traffic: ResolvedTrafficPolicy = eff.policy;
    const functionName = policy.serviceItem?.functionName ?? `${d.meshName}-${target}`;
    const alias = policy.serviceItem?.alias ?? LIVE_ALIAS;
    const bytes = Buffer.from(JSON.stringify(payload === undefined ? {} : payload));
    const overallDeadline = started + (options.timeoutMs ?? traffic.timeoutMs);
    const budget = this.budgets.get(target, traffic.budget);
    budget.recordRequest(started);
    let identity: Signer | undefined;
    try {
      identity = await d.identity();
    } catch (err) {
      // No identity yet: nothing is sent; the caller's log and metrics say so (runtime's identity loader).
      const e = err instanceof MeshError ? err : new MeshCallError(`mesh: cannot sign the call to ${target}: ${err}`);
      this.report(target, alias, 'unauthenticated', t0, 0, 0, idk, scope, e, true);
      throw e;
    }
    // An HTTP target (Function URL with SigV4, mTLS, or plain) exists only as the deployment declared
    // it, never by a policy item: the same pipeline over the HTTP transport, loaded on first use. The
    // identity token goes only where the transport verifies who answers, and there it binds the
    // request line too.
    const http = this.httpTargetOf(target);
    const transport = http ? this.httpTransport(target, http, identity) : d.transport;
    const signer = !http ? identity : carriesIdentityToken(http) ? signingHttp(identity, http.url) : undefined;
    // Routing: the invocation's routing headers under the call's own; both travel on to the callee.
    const routeHeaders = mergeRouteHeaders(scope?.routeHeaders, options.headers);
    const carried = this.carried(scope, routeHeaders);

    let last: Attempt | undefined;
    let retries = 0;
    /** An earlier attempt may have reached the handler without a known end (idempotent edges retry those). */
    let mayHaveRun = false;
    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      const remaining = scope?.getRemainingTimeInMillis?.();
      const timing = {
        now,
        overallDeadline,
        propagatedDeadline: scope?.deadline,
        remainingTimeMs: remaining,
      };
      const at = attemptTimeout({ ...timing, perTryTimeoutMs: traffic.perTryTimeoutMs });
      if (at.expired) {
        const err = new MeshTimeoutError(`mesh: call to ${target} has no time left: ${describeBound(at)}`);
        this.report(target, last?.version ?? alias, 'timeout', t0, attempt - 1, retries, idk, scope, err);
        throw err;
      }
      const ejected = this.breakers.ejected(target, now);
      // Versions other sandboxes ejected (breaker#<version> items in the target's partition).
      if (policy.breakers.size > 0)
        for (const v of sharedEjected(policy.breakers, now, traffic.breaker.openMs)) ejected.add(v);
      const route = chooseRoute({
        target,
        route: policy.route,
        headers: routeHeaders,
        stickyKey: options.stickyKey,
        ejected,
        alias,
        balancers: this.balancers,
      });
      // Where the attempt goes and which breakers guard it. Breakers are keyed on the version that
      // ran; behind the alias (Lambda draws the version) an ejected version is avoided by pinning the
      // call to a healthy version seen behind the alias, and the alias's own breaker guards the rest.
      // Every weighted version ejected (route.fallback 'all-ejected'): the alias, under the same guard.
      let qualifier = route.qualifier;
      let version = route.version;
      let seen: Set<string> | undefined;
      let aliasBreaker: CircuitBreaker | undefined;
      const probes: [string, CircuitBreaker][] = [];
      if (version === undefined) {
        seen = this.seenBehind(target, qualifier);
        version = pinBehindAlias(seen, ejected, this.pinTurn++);
        if (version !== undefined) qualifier = version;
      }
      if (version === undefined) aliasBreaker = this.breakers.get(target, qualifier, traffic.breaker);
      const guard = aliasBreaker ?? this.breakers.get(target, version ?? qualifier, traffic.breaker);
      const routeVersion = version ?? qualifier;
      if (!guard.canPass(now)) {
        const open = new MeshCircuitOpenError(
          target,
          routeVersion,
          `mesh: circuit open for ${target} version ${routeVersion} (${describeOpen(guard, now)})`,
        );
        const err = isOutcomeUnknown(traffic.idempotent, 'not-delivered', mayHaveRun)
          ? unknownOutcome(target, idk, attempt - 1, open)
          : open;
        this.report(target, routeVersion, 'circuit-open', t0, attempt - 1, retries, idk, scope, err);
        throw err;
      }
      if (aliasBreaker) {
        // A seen version whose open time is up gets its probe through the alias: half-open now, so
        // its outcome counts if Lambda runs it (the slot is released if Lambda runs another).
        for (const v of seen!) {
          const b = this.breakers.peek(target, v);
          if (b && b.state === 'open' && !ejected.has(v) && b.canPass(now)) probes.push([v, b]);
        }
      }

      if (attempt === 1) {
        // Mirroring: a copy to the shadow version, fire-and-forget; its answer and errors are dropped.
        // Not for an HTTP target: its URL names no version, so a "mirror" would repeat the real call.
        const shadow =
          policy.route?.mirror && transport === d.transport ? chooseMirror(policy.route, this.random) : undefined;
        if (shadow) this.mirror(transport, target, functionName, shadow, bytes, idk, at, signer, carried);
      }
      // A `fault` item is applied by the callee (wrapper.ts), so its delays and aborts show on the edge.
      last = await this.attempt(
        transport,
        target,
        functionName,
        qualifier,
        routeVersion,
        bytes,
        idk,
        attempt,
        at,
        scope,
        signer,
        carried,
      );
      const after = this.now();
      const ran = last.version; // X-Amz-Executed-Version, else the qualifier
      if (seen && ran !== qualifier) touch(seen, ran);
      const ranBreaker =
        aliasBreaker && ran === qualifier ? undefined : this.breakers.get(target, ran, traffic.breaker);
      if (ranBreaker) settle(ranBreaker, last.outcome, after);
      for (const [v, b] of probes) if (v !== ran) b.release(after);
      if (aliasBreaker) {
        // The alias fails as a whole only as far as the caller knows: a failure counts on it when no
        // other version seen behind it is healthy (a lone version, or nothing seen yet).
        const versionOnly =
          countsAsFailure(last.outcome) && ranBreaker !== undefined && this.healthySibling(target, seen!, ran, ejected);
        if (versionOnly) aliasBreaker.release(after);
        else settle(aliasBreaker, last.outcome, after);
      }

      if (last.outcome === 'success') {
        this.report(target, last.version, 'success', t0, attempt, retries, idk, scope);
        const text = decoder.decode(last.response!.payload);
        if (text === '') return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          return text as T; // an HTTP target may answer plain text
        }
      }
      const delivery = classifyDelivery(last.result);
      const decision = decideRetry({
        outcome: last.outcome,
        attempt,
        maxAttempts: traffic.retries.maxAttempts,
        retryOn: traffic.retries.retryOn,
        idempotent: traffic.idempotent,
        delivery,
        now: after,
        delayMs: backoffDelay(attempt, traffic.retries, this.random),
        endsBy: callEndsBy({
          ...timing,
          now: after,
          remainingTimeMs: remaining === undefined ? undefined : remaining - (after - now),
        }),
        budget,
      });
      if (!decision.retry) {
        const err = isOutcomeUnknown(traffic.idempotent, delivery, mayHaveRun)
          ? unknownOutcome(target, idk, attempt, this.errorOf(target, last, at))
          : this.errorOf(target, last, at);
        this.report(target, last.version, last.outcome, t0, attempt, retries, idk, scope, err);
        throw err;
      }
      if (delivery === 'unknown') mayHaveRun = true;
      budget.recordRetry(after);
      retries++;
      if (decision.delayMs > 0) await this.sleep(decision.delayMs);
    }
  }

  /** The routing headers and mirror mark every request of this call carries (none: nothing added). */
  private carried(scope: InvocationScope | undefined, headers: Readonly<Record<string, unknown>> | undefined): Carried {
    const rh = headers === scope?.routeHeaders ? headers : routeHeadersOf(headers, this.deps.routeHeaderNames ?? NONE);
    return { ...(rh ? { rh: rh as RouteHeaders } : {}), ...(scope?.mirror ? { mir: 1 as const } : {}) };
  }

  private seenBehind(target: string, alias: string): Set<string> {
    const key = `${target}\u0000${alias}`;
    let s = this.behindAlias.get(key);
    if (!s) {
      s = new Set();
      this.behindAlias.set(key, s);
    }
    return s;
  }

  /** Whether a version other than `ran` seen behind the alias is healthy (not ejected, breaker not open). */
  private healthySibling(
    target: string,
    seen: ReadonlySet<string>,
    ran: string,
    ejected: ReadonlySet<string>,
  ): boolean {
    for (const v of seen) {
      if (v === ran || ejected.has(v)) continue;
      if (this.breakers.peek(target, v)?.state !== 'open') return true;
    }
    return false;
  }

  private httpTargetOf(target: string): HttpTarget | undefined {
    const declared = this.deps.httpTargets;
    if (!declared) return undefined;
    if (!declared.ok) {
      // Fail closed: a call must not fall back to Invoke when its declared route cannot be read.
      throw new MeshCallError(
        `mesh: ${ENV.httpTargets} is malformed (${declared.error}); ` +
          'MeshFunction sets it at deploy, so redeploy the function',
        500,
      );
    }
    return declared.targets.get(target);
  }

  private httpTransport(target: string, http: HttpTarget, signer: Signer | undefined): InvokeTransport {
    const { httpTargetTransport } = require('./identity/http-target') as typeof import('./identity/http-target');
    try {
      // The signer is this function's Identity (identity/index.ts loadIdentity): it carries the mTLS material too.
      return httpTargetTransport(target, http, signer as Identity | undefined);
    } catch (err) {
      throw new MeshCallError(`mesh: cannot call ${target} at ${http.url}: ${(err as Error).message}`);
    }
  }

  private async attempt(
    transport: InvokeTransport,
    target: string,
    functionName: string,
    qualifier: string,
    routeVersion: string,
    bytes: Buffer,
    idk: string,
    att: number,
    at: ReturnType<typeof attemptTimeout>,
    scope: InvocationScope | undefined,
    signer: Signer | undefined,
    carried: Carried,
  ): Promise<Attempt> {
    const trace = scope?.trace;
    const segId = trace ? newSegmentId() : undefined;
    const trc = trace
      ? formatTraceHeader({ root: trace.root, parent: trace.sampled ? segId : trace.parent, sampled: trace.sampled })
      : undefined;
    const meta: MeshMetadata = {
      v: 1,
      src: this.deps.service,
      dl: at.deadline,
      att,
      idk,
      ...(trc ? { trc } : {}),
      ...(signer ? { tok: signer.sign({ target, payload: bytes, idempotencyKey: idk, deadline: at.deadline }) } : {}),
      ...carried,
    };
    const clientContext = encodeClientContext(meta);
    const startS = Date.now() / 1000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), at.timeoutMs);
    let a: Attempt;
    try {
      const response = await transport.invoke({
        functionName,
        qualifier,
        payload: bytes,
        clientContext,
        traceHeader: trc,
        signal: ac.signal,
      });
      const version = response.executedVersion ?? routeVersion;
      if (response.functionError) {
        const remote = parseRemoteError(response.payload);
        const result: AttemptResult = {
          statusCode: response.statusCode,
          functionError: response.functionError,
          errorType: remote.errorType,
        };
        a = { result, outcome: classifyOutcome(result), response, version, remote };
      } else {
        // An HTTP target answers errors with a status (classified by it) and a body for the message.
        const result: AttemptResult = { statusCode: response.statusCode };
        const remote = response.statusCode >= 400 ? parseRemoteError(response.payload) : undefined;
        a = { result, outcome: classifyOutcome(result), response, version, ...(remote ? { remote } : {}) };
      }
    } catch (error) {
      const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const timedOut = ac.signal.aborted;
      const result: AttemptResult = {
        timedOut,
        statusCode: e.$metadata?.httpStatusCode,
        errorName: e.name,
        errorCode: e.code,
      };
      a = { result, outcome: classifyOutcome(result), version: routeVersion, error };
    } finally {
      clearTimeout(timer);
    }
    if (trace?.sampled && segId) {
      const s = a.result.statusCode;
      this.deps.telemetry.segment({
        name: target,
        id: segId,
        trace_id: trace.root,
        ...(trace.parent ? { parent_id: trace.parent } : {}),
        type: 'subsegment',
        namespace: 'remote',
        start_time: startS,
        end_time: Date.now() / 1000,
        annotations: { source: this.deps.service, target, version: a.version, attempt: att, outcome: a.outcome },
        ...(a.outcome === 'throttled' ? { throttle: true, error: true } : {}),
        ...(a.outcome === 'denied' || a.outcome === 'client-error' || a.outcome === 'unauthenticated'
          ? { error: true }
          : {}),
        ...(a.outcome !== 'success' &&
        a.outcome !== 'throttled' &&
        a.outcome !== 'denied' &&
        a.outcome !== 'client-error' &&
        a.outcome !== 'unauthenticated'
          ? { fault: true }
          : {}),
        ...(a.remote
          ? {
              cause: {
                exceptions: [
                  { id: newSegmentId(), type: a.remote.errorType, message: a.remote.errorMessage.slice(0, 500) },
                ],
              },
            }
          : {}),
        ...(s ? {} : {}),
      });
    }
    return a;
  }

  private mirror(
    transport: InvokeTransport,
    target: string,
    functionName: string,
    qualifier: string,
    bytes: Buffer,
    idk: string,
    at: ReturnType<typeof attemptTimeout>,
    signer: Signer | undefined,
    carried: Carried,
  ): void {
    try {
      const meta: MeshMetadata = {
        v: 1,
        src: this.deps.service,
        dl: at.deadline,
        att: 1,
        idk,
        ...(signer ? { tok: signer.sign({ target, payload: bytes, idempotencyKey: idk, deadline: at.deadline }) } : {}),
        // The callee counts a mirror copy apart from real traffic (mirror_requests_total).
        ...carried,
        mir: 1,
      };
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), at.timeoutMs);
      transport
        .invoke({
          functionName,
          qualifier,
          payload: bytes,
          clientContext: encodeClientContext(meta),
          signal: ac.signal,
        })
        .catch(() => undefined)
        .finally(() => clearTimeout(timer));
    } catch {
      // A mirror never affects the real call.
    }
  }

  private errorOf(target: string, a: Attempt, at: ReturnType<typeof attemptTimeout>): MeshError {
    const remoteMsg = a.remote?.errorMessage ?? (a.error as Error | undefined)?.message ?? '';
    switch (a.outcome) {
      // A refusal says what and the callee's request id, never more (whatever the callee sent).
      case 'denied':
        return new MeshDeniedError(`mesh: ${target} refused the call: denied${requestIdIn(remoteMsg)}`);
      case 'unauthenticated':
        return new MeshUnauthenticatedError(
          `mesh: ${target} refused the call: unauthenticated${requestIdIn(remoteMsg)}`,
        );
      case 'timeout':
        return new MeshTimeoutError(
          a.result.timedOut
            ? `mesh: call to ${target} timed out: ${describeBound(at)}`
            : `mesh: call to ${target} timed out (${a.remote?.errorType ?? a.result.errorName}): ${remoteMsg}`,
        );
      case 'throttled':
        return new MeshThrottledError(
          `mesh: ${target} is throttled (429 TooManyRequestsException): ${remoteMsg}`,
          (a.error as { Reason?: string } | undefined)?.Reason,
        );
      case 'function-error':
        return new MeshRemoteError(a.remote?.errorType ?? 'Error', a.remote?.errorMessage ?? '');
      case 'client-error':
        return new MeshCallError(
          `mesh: the Invoke of ${target} was rejected (${a.result.errorName ?? a.result.statusCode}): ${remoteMsg}`,
          a.result.statusCode ?? 400,
        );
      default:
        return new MeshRemoteError(
          a.result.errorName ?? a.remote?.errorType ?? 'ServiceError',
          remoteMsg,
          `mesh: ${target} failed (${a.result.errorName ?? a.result.statusCode}): ${remoteMsg}`,
        );
    }
  }

  private report(
    target: string,
    version: string,
    outcome: Outcome,
    t0: number,
    attempts: number,
    retries: number,
    idk: string,
    scope: InvocationScope | undefined,
    err?: Error,
    denied = false,
    reason?: string,
  ): void {
    this.deps.telemetry.record({
      reporter: 'source',
      source: this.deps.service,
      destination: target,
      version,
      code: STATUS[outcome],
      outcome,
      durationMs: performance.now() - t0,
      attempts,
      retries,
      denied: denied || outcome === 'denied',
      idempotencyKey: idk,
      traceId: scope?.trace?.root,
      error: err ? `${err.name}: ${err.message}` : undefined,
      reason,
    });
  }
}

/** ` (request <id>)` as the callee's refusal quoted it, or nothing. */
function requestIdIn(message: string): string {
  const m = /\(request ([A-Za-z0-9_-]{1,128})\)/.exec(message);
  return m ? ` (request ${m[1]})` : '';
}

/** Reports an attempt's outcome to a breaker: throttled, denied or a bad request say nothing about
 * the target's health, but a half-open probe that ended so must free its slot (else it waits openMs). */
function settle(b: CircuitBreaker, outcome: Outcome, now: number): void {
  if (countsAsFailure(outcome)) b.failure(now);
  else if (outcome === 'success') b.success(now);
  else b.release(now);
}

/** An alias runs at most two versions: keep the two seen last (a promoted alias drops the old one). */
function touch(seen: Set<string>, version: string): void {
  seen.delete(version);
  seen.add(version);
  if (seen.size > 2) seen.delete(seen.values().next().value!);
}

/** An HTTP target's tokens also bind the request line the HTTP transports send (POST to the URL). */
function signingHttp(identity: Signer | undefined, url: string): Signer | undefined {
  if (!identity) return undefined;
  const http = requestLineOfUrl(url);
  return { sign: (input) => identity.sign({ ...input, http }) };
}

/** The error of a call that may have run the handler without a known end (see `isOutcomeUnknown`). */
function unknownOutcome(target: string, idk: string, attempts: number, seen: MeshError): MeshOutcomeUnknownError {
  return new MeshOutcomeUnknownError(
    target,
    idk,
    `mesh: the outcome of the call to ${target} is unknown after ${attempts} attempt(s) (last: ${seen.message}); ` +
      `an attempt may have run without an answer. Reconcile with idempotency key ${idk}`,
    seen.status,
  );
}

/** The `errorType` / `errorMessage` of a function error body (Node and other runtimes' shapes). */
export function parseRemoteError(payload: Uint8Array): { errorType: string; errorMessage: string } {
  const text = decoder.decode(payload);
  try {
    const b = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof b.errorType === 'string' ? b.errorType : 'Error',
      errorMessage: typeof b.errorMessage === 'string' ? b.errorMessage : text.slice(0, 1000),
    };
  } catch {
    return { errorType: 'Error', errorMessage: text.slice(0, 1000) };
  }
}

export type { ServicePolicy };
