/**
 * The inbound side: wraps the user's handler. Per invocation, in this order: read the mesh metadata,
 * verify the caller (identity on), refuse work whose deadline has passed, check the policy (deny by
 * default; no metadata = `external`), apply the service's `fault` item (an injected delay or abort,
 * so it shows on the edge it hits), run the handler against a timeout race, record telemetry.
 * Nothing the caller merely claims is recorded as its source: a refused caller is `unknown`.
 * A refused caller learns only `denied` or `unauthenticated` and a request id; the reason goes to
 * this function's access log and metrics. The handler gets the caller's payload object untouched.
 */
import { randomUUID } from 'node:crypto';
import { EXTERNAL, type MeshMetadata, UNKNOWN_SOURCE } from '../../shared/names';
import {
  MeshDeadlineExceededError,
  MeshDeniedError,
  type MeshError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from './errors';
import { type AnyHandler, callHandler } from './handler-loader';
import { bodyOfEvent, requestLineOfEvent } from './identity/request-binding';
import type { MeshRuntime } from './mesh-runtime';
import { isHttpEvent, metadataFromClientContext, metadataFromHeaders } from './metadata';
import { isMeshError, refusalMessage, withoutStack } from './refusal';
import { isExpired } from './resilience/deadline';
import { decideFault } from './resilience/fault-injection';
import { type RouteHeaders, routeHeadersOf } from './routing/route-headers';
import { invocationTrace } from './telemetry/invocation-trace';

export interface LambdaContextLike {
  readonly awsRequestId?: string;
  readonly functionVersion?: string;
  readonly clientContext?: unknown;
  getRemainingTimeInMillis?(): number;
  [k: string]: unknown;
}

export type WrappedHandler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

/** Time kept back from the Lambda timeout so the wrapper reports a timeout before Lambda kills the sandbox. */
const TIMEOUT_MARGIN_MS = 50;

/** `handler` may be a promise (an ESM module still loading). */
export function wrapHandler(rt: MeshRuntime, handler: AnyHandler | Promise<AnyHandler>): WrappedHandler {
  let fn: AnyHandler | undefined = typeof handler === 'function' ? handler : undefined;
  const pending = fn ? undefined : (handler as Promise<AnyHandler>).then((h) => (fn = h));
  const self = rt.config.service;

  return async function meshWrapped(event: unknown, context: LambdaContextLike): Promise<unknown> {
    if (!fn) await pending;
    if (rt.config.disabled) return callHandler(fn!, event, context);
    const t0 = performance.now();
    const arrivedAt = Date.now();
    // An Invoke carries the metadata in its ClientContext, an HTTP request in x-mesh-* headers; the
    // token binds the request in the form it travelled.
    const fromInvoke = metadataFromClientContext(context?.clientContext);
    const overHttp = !fromInvoke && isHttpEvent(event);
    const meta: MeshMetadata | undefined = fromInvoke ?? (overHttp ? metadataFromHeaders(event.headers) : undefined);
    const requestId = context?.awsRequestId ?? randomUUID();
    // `caller` is whom the policy is asked about; `source` what telemetry records, the claim only once
    // it is verified (identity) or accepted (policy).
    let caller = meta?.src ?? EXTERNAL;
    let source = meta ? UNKNOWN_SOURCE : EXTERNAL;
    // Outgoing subsegments hang under the function segment Lambda wrote (invocation-trace.ts).
    const trace = invocationTrace(process.env._X_AMZN_TRACE_ID, meta?.trc);
    const version = context?.functionVersion ?? rt.config.functionVersion;
    const record = (code: number, outcome: string, err?: Error, denied = false, reason?: string) =>
      rt.telemetry.record({
        // A mirror copy is counted apart from real traffic (mirror_requests_total).
        ...(meta?.mir === 1 ? { mirror: true } : {}),
        reporter: 'destination',
        source,
        destination: self,
        version,
        code,
        outcome,
        durationMs: performance.now() - t0,
        attempts: meta?.att,
        denied,
        idempotencyKey: meta?.idk,
        traceId: trace?.root,
        requestId,
        error: err ? `${err.name}: ${err.message}` : undefined,
        reason,
        claimedSource: source === UNKNOWN_SOURCE ? meta?.src : undefined,
      });
    const refuse = (err: MeshError, outcome: string, denied: boolean, reason?: string) => {
      record(err.status, outcome, err, denied, reason);
      // HTTP events answer with a status; Invoke callers get a function error named after the refusal.
      if (isHttpEvent(event)) {
        return {
          statusCode: err.status,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ errorType: err.name, message: err.message, requestId }),
        };
      }
      throw withoutStack(err);
    };

    // 1. Who is calling: nothing else is looked at before the caller is verified.
    if (meta) {
      const identity = await rt.identity();
      if (identity) {
        const v = identity.verify({
          token: meta.tok,
          source: meta.src,
          payload: overHttp ? bodyOfEvent(event as Record<string, unknown>) : JSON.stringify(event),
          idempotencyKey: meta.idk,
          deadline: meta.dl,
          http: overHttp ? requestLineOfEvent(event as Record<string, unknown>) : undefined,
        });
        // Which check failed goes to this function's log only: telling the caller would help a forger.
        if (!v.ok) {
          return refuse(
            new MeshUnauthenticatedError(refusalMessage(self, 'unauthenticated', requestId)),
            'unauthenticated',
            true,
            v.reason,
          );
        }
        source = meta.src;
      } else if (overHttp) {
        // Anyone on the internet can send x-mesh-source; without identity it proves nothing, so an
        // HTTP caller stays `external` (an Invoke's ClientContext at least passed IAM).
        caller = source = EXTERNAL;
      }
    }
    // 2. The deadline: work the caller had given up on when it arrived is not started. Judged at
    // arrival, so a cold sandbox loading its identity does not turn a call in time into a refusal.
    if (meta?.dl !== undefined && isExpired(meta.dl, arrivedAt)) {
      return refuse(
        new MeshDeadlineExceededError(
          `mesh: ${self} refused work whose deadline passed ${arrivedAt - meta.dl} ms before it arrived (request ${requestId})`,
        ),
        'deadline-exceeded',
        false,
      );
    }
    // 3. The policy, on a copy no older than the cache's bound when this call started.
    const decidedAt = rt.policy.now();
    const own = await rt.policy.get(self);
    const eff = rt.policy.authorize(own, caller, decidedAt);
    if (!eff.allowed) {
      return refuse(
        new MeshDeniedError(refusalMessage(self, 'denied', requestId)),
        'denied',
        true,
        `${eff.reason}: ${eff.detail}`,
      );
    }
    source = caller;

    const previous = rt.scope;
    rt.scope = {
      deadline: meta?.dl,
      trace,
      getRemainingTimeInMillis: context?.getRemainingTimeInMillis?.bind(context),
      source,
      // A mesh caller's key; otherwise Lambda's request id (the same on Lambda's retries of an event).
      idempotencyKey: meta?.idk ?? context?.awsRequestId,
      attempt: meta?.att,
      requestId,
      calls: new Map(),
      ...routing(event, meta, rt.config.routeHeaders),
    };
    let timer: NodeJS.Timeout | undefined;
    let faultNote: string | undefined;
    try {
      // 4. The service's fault item, drawn per invocation: the delay and the abort land on this edge.
      const fault = own.fault ? decideFault(own.fault, rt.random) : undefined;
      if (fault && fault.delayMs > 0) {
        const room = (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - TIMEOUT_MARGIN_MS;
        const delayMs = Math.max(0, Math.min(fault.delayMs, room));
        faultNote = `fault injected: delay ${delayMs} ms`;
        await rt.sleep(delayMs);
      }
      if (fault?.abort) {
        faultNote = `fault injected: abort (${fault.abort.errorType})`;
        throw injectedAbort(self, fault.abort.errorType);
      }
      const run = callHandler(fn!, event, context);
      const remaining = context?.getRemainingTimeInMillis?.();
      let result: unknown;
      if (remaining !== undefined && remaining > TIMEOUT_MARGIN_MS) {
        result = await Promise.race([
          run,
          new Promise((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new MeshTimeoutError(
                    `mesh: ${self} handler did not finish before the function's timeout (${remaining} ms left at start)`,
                  ),
                ),
              remaining - TIMEOUT_MARGIN_MS,
            );
          }),
        ]);
      } else {
        result = await run;
      }
      record(200, 'success', undefined, false, faultNote);
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      record(
        err instanceof MeshTimeoutError ? 504 : 500,
        err instanceof MeshTimeoutError ? 'timeout' : 'function-error',
        e,
        false,
        faultNote,
      );
      if (isMeshError(err)) {
        // A mesh error leaves this function without its stack (file paths); this log keeps it.
        console.error(
          JSON.stringify({ level: 'error', msg: 'mesh error from the handler', requestId, stack: err.stack }),
        );
        throw withoutStack(err);
      }
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      rt.scope = previous;
    }
  };
}

/**
 * What this invocation's outbound calls route by: the routing headers of an inbound HTTP request (API
 * Gateway, Function URL, ALB), over those a mesh caller carried on; and whether it serves a mirror copy.
 */
function routing(
  event: unknown,
  meta: MeshMetadata | undefined,
  names: ReadonlySet<string>,
): { routeHeaders?: RouteHeaders; mirror?: boolean } {
  const inbound = isHttpEvent(event) ? routeHeadersOf(event.headers, names) : undefined;
  const routeHeaders = inbound && meta?.rh ? { ...meta.rh, ...inbound } : (inbound ?? meta?.rh);
  return { ...(routeHeaders ? { routeHeaders } : {}), ...(meta?.mir === 1 ? { mirror: true } : {}) };
}

/** The error of an injected abort: a function error of the item's errorType, as the caller would see one. */
function injectedAbort(service: string, errorType: string): Error {
  const e = new Error(`fault injected by ${service}'s fault item (abort)`);
  e.name = errorType;
  return e;
}
