/**
 * The inbound side: wraps the user's handler. Per invocation, in this order: read the mesh metadata,
 * verify the caller (identity on), refuse work whose deadline has passed, check the policy (deny by
 * default; no metadata = `external`), apply the service's `fault` item (an injected delay or abort,
 * so it shows on the edge it hits), run the handler against a timeout race, record telemetry.
 * Nothing the caller merely claims is recorded as its source: a refused caller is `unknown`.
 * A refused caller learns only `denied` or `unauthenticated` and a request id; the reason goes to
 * this function's access log and metrics. The handler gets the caller's payload object untouched.
 */
import { PING_KEY, readPing } from '../../shared/deploy-check';
import { EXTERNAL, type MeshMetadata, UNKNOWN_SOURCE } from '../../shared/names';
import { parseTraceHeader, type TraceContext } from '../../shared/trace-header';
import type { BatchHost, Lent } from './async/event-sources';
import {
  MeshDeadlineExceededError,
  MeshDeniedError,
  type MeshError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from './errors';
import { type AnyHandler, callHandler } from './handler-loader';
import type { InvocationScope } from './invocation-scope';
import type { MeshRuntime } from './mesh-runtime';
import {
  isEnvelope,
  isHttpEvent,
  jsonPayloadOf,
  mayCarryRecords,
  metadataFromClientContext,
  metadataFromHeaders,
  openEnvelope,
  parseMetadata,
  vouchedMetadata,
} from './metadata';
import { loadSnapshot } from './policy/policy-snapshot';
import type { ServicePolicy } from './policy/service-policy';
import { isMeshError, refusalMessage, withoutStack } from './refusal';
import { INBOUND_TIMEOUT_MARGIN_MS, isExpired } from './resilience/deadline';
import { type RouteHeaders, routeHeadersOf } from './routing/route-headers';
import { settlesSoon } from './settles-soon';
import { invocationTrace, lambdaTraceHeader } from './telemetry/invocation-trace';
import { monotonicMs } from './telemetry/monotonic-ms';

export interface LambdaContextLike {
  readonly awsRequestId?: string;
  readonly functionVersion?: string;
  readonly clientContext?: unknown;
  getRemainingTimeInMillis?(): number;
  [k: string]: unknown;
}

export type WrappedHandler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

/** One invocation as the steps below see it: what arrived, and who is calling as far as it is known. */
interface Inbound {
  readonly rt: MeshRuntime;
  readonly event: unknown;
  readonly context: LambdaContextLike;
  readonly t0: number;
  readonly arrivedAt: number;
  /**
   * The mesh metadata: the Invoke's ClientContext, or an HTTP request's x-mesh-* headers; once the
   * caller is verified, only what its token vouched for (`vouchedMetadata`); with identity off, none
   * for an HTTP caller, whose headers anyone can send.
   */
  meta: MeshMetadata | undefined;
  readonly overHttp: boolean;
  /** An Event invoke (`mesh.send`): its token outlives Lambda's queue and retries, and it has no deadline. */
  readonly queued: boolean;
  readonly requestId: string;
  readonly trace: TraceContext | undefined;
  readonly version: string;
  /** Whom the policy is asked about. */
  caller: string;
  /** What telemetry records: the claim only once it is verified (identity) or accepted (policy). */
  source: string;
  /** This service's policy as authorization read it (its `fault` item is applied to this invocation). */
  own?: ServicePolicy;
  /** An injected fault, for the access log. */
  faultNote?: string;
}

/** Why the wrapper refused an invocation before the handler: the caller learns `error`, the log the rest. */
interface Refusal {
  readonly error: MeshError;
  readonly outcome: string;
  readonly denied: boolean;
  readonly reason?: string;
}

/** `handler` may be a promise (an ESM module still loading). */
export function wrapHandler(rt: MeshRuntime, handler: AnyHandler | Promise<AnyHandler>): WrappedHandler {
  let fn: AnyHandler | undefined = typeof handler === 'function' ? handler : undefined;
  const pending = fn ? undefined : (handler as Promise<AnyHandler>).then((h) => (fn = h));

  return async function meshWrapped(event: unknown, context: LambdaContextLike): Promise<unknown> {
    if (!fn) await pending;
    if (rt.config.disabled) return callHandler(fn!, event, context);
    // A queue's, topic's or bus's records are checked one by one (async/event-sources.ts); a mesh
    // call (ClientContext) whose payload looks like one is a call.
    const batch = mayCarryRecords(event) && !context?.clientContext ? readRecords(event as object) : undefined;
    if (batch) return batch.serve(batchHost(rt, fn!, context));
    const inv = arrive(rt, event, context);
    // A caller without mesh metadata has no token to verify and no deadline: it is `external`. A mesh
    // caller: who it is, then whether its deadline allows the work, then the policy.
    const refusal =
      (inv.meta && ((await verifyCaller(inv, inv.meta)) ?? checkDeadline(inv))) ?? (await authorizeCaller(inv));
    if (refusal) return refuse(inv, refusal);
    // A mesh ping (a deployment's pre-traffic check) is answered here, after the caller was verified
    // and admitted: the handler never sees it.
    const ping = readPing(event);
    if (ping) return answerPingOf(inv, ping);
    return serve(inv, fn!);
  };
}

/** What the batch's file borrows of this one rather than bundle its own copy (event-records.ts `Lent`). */
const LENT: Lent = {
  parseMetadata,
  isEnvelope,
  openEnvelope,
  jsonPayloadOf,
  vouchedMetadata,
  parseTraceHeader,
};

/**
 * The records `event` carries, if it is a batch (one `mayCarryRecords` let through), and how they are
 * served (their file, loaded here).
 */
function readRecords(event: object): { serve(host: BatchHost): Promise<unknown> } | undefined {
  const sources = require('./async/event-sources') as typeof import('./async/event-sources');
  const batch = sources.readBatch(event, LENT);
  return batch && { serve: (host) => sources.serveBatch(batch, host) };
}

function arrive(rt: MeshRuntime, received: unknown, context: LambdaContextLike): Inbound {
  const t0 = monotonicMs();
  const arrivedAt = Date.now();
  // An Event invoke has no ClientContext (Lambda passes it on synchronous invokes only): its metadata
  // comes in the envelope, opened for the handler. A call whose ClientContext carries metadata is a
  // synchronous call whatever its payload looks like: opening an envelope-shaped payload there would
  // verify the call's token as a queued one, whose nonce is never claimed, and let it be replayed.
  const fromClientContext = metadataFromClientContext(context?.clientContext);
  const envelope = !fromClientContext && isEnvelope(received) ? openEnvelope(received) : undefined;
  const event = envelope ? envelope.payload : received;
  // The token binds the request in the form it travelled: an Invoke's payload, or the HTTP request. A
  // queued event's metadata is its envelope's alone: read from an HTTP-shaped payload's headers, a
  // captured HTTP call's token would be checked as a queued one, whose nonce is never claimed.
  const overHttp = !envelope && !fromClientContext && isHttpEvent(event);
  const meta = envelope
    ? envelope.meta
    : (fromClientContext ?? (overHttp ? metadataFromHeaders(event.headers) : undefined));
  return {
    rt,
    event,
    context,
    queued: envelope !== undefined,
    t0,
    arrivedAt,
    meta,
    overHttp,
    // Lambda always gives one; node:crypto (~2 ms to load) only for a caller that does not.
    requestId: context?.awsRequestId ?? (require('node:crypto') as typeof import('node:crypto')).randomUUID(),
    // Outgoing subsegments hang under the function segment Lambda wrote (invocation-trace.ts).
    trace: invocationTrace(lambdaTraceHeader(), meta?.trc),
    version: context?.functionVersion ?? rt.config.functionVersion,
    caller: meta?.src ?? EXTERNAL,
    source: meta ? UNKNOWN_SOURCE : EXTERNAL,
  };
}

/** 1. Who is calling: nothing else is looked at before the caller is verified. */
async function verifyCaller(inv: Inbound, meta: MeshMetadata): Promise<Refusal | undefined> {
  const { overHttp, event } = inv;
  const identity = await beforeTimeout(inv.rt.identity(), inv.context, unanswered('Secrets Manager')).catch(asError);
  if (identity instanceof Error) return refusalOf(inv, 'unauthenticated', `identity-unavailable: ${identity.message}`);
  if (!identity) {
    // Anyone on the internet can send x-mesh-* headers; without identity they prove nothing, so an
    // HTTP caller stays `external` (an Invoke's ClientContext at least passed IAM), keyed by Lambda's
    // request id: a key of its own choosing would give its calls another request's keys.
    if (overHttp) {
      inv.meta = undefined;
      inv.caller = inv.source = EXTERNAL;
    }
    return undefined;
  }
  // Identity on: its file is loaded (identity/index.ts), and holds what binds the token to the request.
  const { bodyOfEvent, requestLineOfEvent } = require('./identity') as typeof import('./identity');
  const v = identity.verify({
    token: meta.tok,
    source: meta.src,
    payload: overHttp ? bodyOfEvent(event as Record<string, unknown>) : jsonPayloadOf(event),
    idempotencyKey: meta.idk,
    deadline: meta.dl,
    http: overHttp ? requestLineOfEvent(event as Record<string, unknown>) : undefined,
    context: meta,
    ...(inv.queued ? { async: true } : {}),
  });
  // Only what the token vouched for is acted on, and a refused call vouched for nothing: it is counted
  // as the real traffic it claims not to be, so a mirror mark cannot hide a refusal from denied_total.
  inv.meta = vouchedMetadata(meta, v.ok ? v.contextBound : undefined);
  // Which check failed goes to this function's log only: telling the caller would help a forger.
  if (!v.ok) return refusalOf(inv, 'unauthenticated', v.reason);
  inv.source = meta.src;
  return undefined;
}

/** A refusal of the caller: it learns `outcome` and the request id, the log `reason`. */
function refusalOf(inv: Inbound, outcome: 'denied' | 'unauthenticated', reason: string): Refusal {
  const Refused = outcome === 'denied' ? MeshDeniedError : MeshUnauthenticatedError;
  return {
    error: new Refused(refusalMessage(inv.rt.config.service, outcome, inv.requestId)),
    outcome,
    denied: true,
    reason,
  };
}

/**
 * What a read that outlasts the invocation is refused with: a table or secret out of reach (a function
 * in a VPC without a route to it) would otherwise hold each request until Lambda's timeout ends it
 * with nothing in the log but `Task timed out`. The read itself goes on, and reports its failure.
 */
function unanswered(what: string): (remaining: number) => Error {
  return (remaining) => new Error(`${what} did not answer before the function's timeout (${remaining} ms left)`);
}

/**
 * 2. The deadline: work the caller had given up on when it arrived is not started. Judged at arrival,
 * so a cold sandbox loading its identity does not turn a call in time into a refusal.
 */
function checkDeadline(inv: Inbound): Refusal | undefined {
  const dl = inv.meta?.dl;
  if (dl === undefined || !isExpired(dl, inv.arrivedAt)) return undefined;
  const error = new MeshDeadlineExceededError(
    `mesh: ${inv.rt.config.service} refused work whose deadline passed ${inv.arrivedAt - dl} ms before it arrived (request ${inv.requestId})`,
  );
  return { error, outcome: 'deadline-exceeded', denied: false };
}

/** 3. The policy, on a copy no older than the cache's bound when this call started. */
async function authorizeCaller(inv: Inbound): Promise<Refusal | undefined> {
  const { policy, config } = inv.rt;
  const decidedAt = policy.now();
  const own = await beforeTimeout(policy.get(config.service), inv.context, unanswered('the policy table')).catch(
    asError,
  );
  if (own instanceof Error) return refusalOf(inv, 'denied', `stale-policy: ${own.message}`);
  inv.own = own;
  const eff = policy.authorize(own, inv.caller, decidedAt);
  if (!eff.allowed) return refusalOf(inv, 'denied', `${eff.reason}: ${eff.detail}`);
  inv.source = inv.caller;
  return undefined;
}

async function answerPingOf(inv: Inbound, ping: NonNullable<ReturnType<typeof readPing>>): Promise<unknown> {
  // Pings come from a deployment's hook, not from traffic: their code is its own file in the layer.
  const { answerPing } = require('./deploy-ping') as typeof import('./deploy-ping');
  const answer = await answerPing(inv.rt, ping, inv.version, inv.source, loadSnapshot);
  record(inv, 200, 'success');
  return { [PING_KEY]: answer };
}

/**
 * Records the refusal; an HTTP request is answered with a status, an Invoke (an Event invoke too,
 * whatever its payload looks like: Lambda retries a function error) gets a function error named after it.
 */
function refuse(inv: Inbound, r: Refusal): unknown {
  record(inv, r.error.status, r.outcome, r.error, r.denied, r.reason);
  if (!inv.overHttp) throw withoutStack(r.error);
  return {
    statusCode: r.error.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ errorType: r.error.name, message: r.error.message, requestId: inv.requestId }),
  };
}

/** 4. The handler, in the invocation's own scope (what `call()` and `mesh.context()` read), and its record. */
async function serve(inv: Inbound, fn: AnyHandler): Promise<unknown> {
  const { meta, context } = inv;
  const scope: InvocationScope = {
    deadline: meta?.dl,
    trace: inv.trace,
    getRemainingTimeInMillis: context?.getRemainingTimeInMillis?.bind(context),
    source: inv.source,
    // A mesh caller's key; otherwise Lambda's request id (the same on Lambda's retries of an event).
    idempotencyKey: meta?.idk ?? context?.awsRequestId,
    attempt: meta?.att,
    requestId: inv.requestId,
    calls: new Map(),
    routeHeaders: routeHeadersFor(inv),
    mirror: meta?.mir === 1 || undefined,
  };
  try {
    const result = await inv.rt.invocations.serve(scope, async () => {
      // The service's fault item: its code is a file of its own, loaded by the services that have one.
      const fault = inv.own?.fault;
      if (fault) await (require('./inbound-fault') as typeof import('./inbound-fault')).injectFault(inv, fault);
      return raceTimeout(fn, inv.event, context, inv.rt.config.service);
    });
    record(inv, 200, 'success');
    return result;
  } catch (err) {
    throw failed(inv, err);
  }
}

/** Records a handler that failed (or timed out), and what leaves this function in its place. */
function failed(inv: Inbound, err: unknown): unknown {
  const timedOut = err instanceof MeshTimeoutError;
  record(inv, timedOut ? 504 : 500, timedOut ? 'timeout' : 'function-error', asError(err));
  if (!isMeshError(err)) return err;
  // A mesh error leaves this function without its stack (file paths); this log keeps it.
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'mesh error from the handler',
      requestId: inv.requestId,
      stack: err.stack,
    }),
  );
  return withoutStack(err);
}

/**
 * What this invocation's outbound calls route by: the routing headers of an HTTP request from outside
 * the mesh (API Gateway, Function URL, ALB), or those a mesh caller carried on. A mesh caller's own
 * HTTP request has no routing headers (the mesh has no header for them), and its token binds none of
 * its other headers: any there were added on the way, by whoever replays it.
 */
function routeHeadersFor({ event, meta, overHttp, rt }: Inbound): RouteHeaders | undefined {
  return overHttp && !meta
    ? routeHeadersOf((event as { headers?: Record<string, unknown> }).headers, rt.config.routeHeaders)
    : meta?.rh;
}

/** The callee's access-log line and metrics for this invocation. */
function record(inv: Inbound, code: number, outcome: string, err?: Error, denied = false, reason?: string): void {
  const { meta, source } = inv;
  inv.rt.telemetry.record({
    // A mirror copy is counted apart from real traffic (mirror_requests_total).
    mirror: meta?.mir === 1 || undefined,
    reporter: 'destination',
    source,
    destination: inv.rt.config.service,
    version: inv.version,
    code,
    outcome,
    durationMs: monotonicMs() - inv.t0,
    attempts: meta?.att,
    denied,
    idempotencyKey: meta?.idk,
    traceId: inv.trace?.root,
    requestId: inv.requestId,
    error: err ? `${err.name}: ${err.message}` : undefined,
    reason: reason ?? inv.faultNote,
    claimedSource: source === UNKNOWN_SOURCE ? meta?.src : undefined,
  });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** What a batch of records borrows from this wrapper: the handler, raced against the timeout, in a scope. */
function batchHost(rt: MeshRuntime, fn: AnyHandler, context: LambdaContextLike): BatchHost {
  const requestId = context?.awsRequestId ?? (require('node:crypto') as typeof import('node:crypto')).randomUUID();
  return {
    rt,
    requestId,
    version: context?.functionVersion ?? rt.config.functionVersion,
    getRemainingTimeInMillis: context?.getRemainingTimeInMillis?.bind(context),
    trace: invocationTrace(lambdaTraceHeader(), undefined),
    run: (event, scope) => rt.invocations.serve(scope, () => raceTimeout(fn, event, context, rt.config.service)),
    refusal: (outcome) =>
      withoutStack(
        new (outcome === 'denied' ? MeshDeniedError : MeshUnauthenticatedError)(
          refusalMessage(rt.config.service, outcome, requestId),
        ),
      ),
    lent: LENT,
  };
}

/**
 * How many turns of the microtask queue the handler gets to settle in before the timeout race arms its
 * timer: an async handler that waits on nothing (no I/O, no timer of its own) settles within a few.
 */
const SETTLE_TURNS = 16;

/**
 * Runs the handler against the function's timeout, less a margin, so the wrapper reports the timeout
 * before Lambda kills the sandbox.
 */
function raceTimeout(fn: AnyHandler, event: unknown, context: LambdaContextLike, self: string): Promise<unknown> {
  return beforeTimeout(
    callHandler(fn, event, context).catch(ownCallFailed),
    context,
    (remaining) =>
      new MeshTimeoutError(
        `mesh: ${self} handler did not finish before the function's timeout (${remaining} ms left at start)`,
      ),
  );
}

/**
 * `run`, or the error `late` makes once the function's timeout, less a margin, is near. Work that
 * settles within the microtask queue's next turns needs no timer; for work that waits on anything, the
 * timer is armed then, in the same turn of the event loop, from the time left then. A process's first
 * `setTimeout` costs its first request ~0.4 ms (Node compiles its functions on the first call);
 * promises are V8's own. The rejection waits for the turn's I/O (setImmediate), as an attempt's abort
 * does: Node runs a turn's expired timers before it reads that turn's I/O, and an answer already here
 * when a busy loop let the timer come due would otherwise report work that finished as timed out.
 */
async function beforeTimeout<T>(
  run: Promise<T>,
  context: LambdaContextLike,
  late: (remaining: number) => Error,
): Promise<T> {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined || remaining <= INBOUND_TIMEOUT_MARGIN_MS) return run;
  if (await settlesSoon(run, SETTLE_TURNS)) return run;
  const left = context.getRemainingTimeInMillis?.() ?? remaining;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(late(remaining))), left - INBOUND_TIMEOUT_MARGIN_MS);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A mesh error of the handler's own call leaves as `MeshDependency…`: a caller reads this function's
 * `Mesh…` names as its wrapper's word. A deeper hop's `MeshDeniedError` would be this function refusing
 * the caller (a deny on the wrong edge, after the handler's side effects), and its MeshTimeoutError this
 * function's timeout, retried down the whole chain though that call's retries are spent
 * (DEPENDENCY_TIMEOUT). The wrapper's own timeout (above) keeps its name: this function was too slow.
 */
function ownCallFailed(err: unknown): never {
  if (isMeshError(err)) err.name = err.name.replace(/^Mesh(?!Dependency)/, 'MeshDependency');
  throw err;
}
