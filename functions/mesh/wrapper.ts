/**
 * The inbound side: wraps the user's handler. Per invocation: read the mesh metadata, refuse work
 * whose deadline has passed, verify the caller (identity on), check the policy (deny by default;
 * no metadata = `external`), run the handler against a timeout race, record telemetry. The handler
 * gets the caller's payload object untouched.
 */
import { PING_KEY, readPing } from '../../shared/deploy-check';
import { EXTERNAL, type MeshMetadata } from '../../shared/names';
import { answerPing } from './deploy-ping';
import {
  MeshDeadlineExceededError,
  MeshDeniedError,
  type MeshError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from './errors';
import type { AnyHandler } from './handler-loader';
import type { MeshRuntime } from './mesh-runtime';
import { isHttpEvent, readMetadata } from './metadata';
import { decide } from './policy-decision';
import { isExpired } from './resilience/deadline';
import { parseTraceHeader } from './telemetry/trace-header';

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

function callHandler(fn: AnyHandler, event: unknown, context: unknown): Promise<unknown> {
  // Callback-style handlers (three parameters) as the Node runtime supports them.
  if (fn.length >= 3) {
    return new Promise((resolve, reject) => {
      const r = fn(event, context, (err, result) => (err ? reject(err) : resolve(result)));
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(resolve, reject);
    });
  }
  try {
    return Promise.resolve(fn(event, context));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** `handler` may be a promise (an ESM module still loading). */
export function wrapHandler(rt: MeshRuntime, handler: AnyHandler | Promise<AnyHandler>): WrappedHandler {
  let fn: AnyHandler | undefined = typeof handler === 'function' ? handler : undefined;
  const pending = fn ? undefined : (handler as Promise<AnyHandler>).then((h) => (fn = h));
  const self = rt.config.service;

  return async function meshWrapped(event: unknown, context: LambdaContextLike): Promise<unknown> {
    if (!fn) await pending;
    if (rt.config.disabled) return callHandler(fn!, event, context);
    const t0 = performance.now();
    const meta: MeshMetadata | undefined = readMetadata(event, context);
    let source = meta?.src ?? EXTERNAL;
    // In Lambda the service writes this invocation's function segment and sets _X_AMZN_TRACE_ID
    // (Root + Parent = that segment) per invocation: outgoing subsegments hang under it. The caller's
    // metadata `trc` (Parent = the caller's call subsegment) only stands in when Lambda set none.
    const trace = parseTraceHeader(process.env._X_AMZN_TRACE_ID) ?? parseTraceHeader(meta?.trc);
    const version = context?.functionVersion ?? rt.config.functionVersion;
    const record = (code: number, outcome: string, err?: Error, denied = false, reason?: string) =>
      rt.telemetry.record({
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
        requestId: context?.awsRequestId,
        error: err ? `${err.name}: ${err.message}` : undefined,
        reason,
      });
    const refuse = (err: MeshError, outcome: string, denied: boolean, reason?: string) => {
      record(err.status, outcome, err, denied, reason);
      // HTTP events answer with a status; Invoke callers get a function error named after the refusal.
      if (isHttpEvent(event)) {
        return {
          statusCode: err.status,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ errorType: err.name, message: err.message }),
        };
      }
      throw err;
    };

    if (meta?.dl !== undefined && isExpired(meta.dl, Date.now())) {
      return refuse(
        new MeshDeadlineExceededError(
          `mesh: ${self} refused work from ${source}: its deadline passed ${Date.now() - meta.dl} ms ago`,
        ),
        'deadline-exceeded',
        false,
      );
    }
    if (meta) {
      const identity = await rt.identity();
      if (identity) {
        const body = isHttpEvent(event) ? (typeof event.body === 'string' ? event.body : '') : JSON.stringify(event);
        const v = identity.verify({ token: meta.tok, source: meta.src, payload: body });
        // The reason goes to this function's access log (with denied_total) only: telling the caller
        // which check failed would help a forger. It learns just "unauthenticated".
        if (!v.ok)
          return refuse(
            new MeshUnauthenticatedError(`mesh: ${self} refused the call: unauthenticated`),
            'unauthenticated',
            true,
            v.reason,
          );
      } else if (isHttpEvent(event) && context?.clientContext == null) {
        // Anyone on the internet can send x-mesh-source; without identity it proves nothing, so an
        // HTTP caller stays `external` (an Invoke's ClientContext at least passed IAM).
        source = EXTERNAL;
      }
    }
    const eff = decide(await rt.policy.get(self), source);
    if (!eff.allowed) return refuse(new MeshDeniedError(`mesh: ${eff.detail}`), 'denied', true);
    // A mesh ping (a deployment's pre-traffic check) is answered here: the handler never sees it.
    const ping = readPing(event);
    if (ping) {
      const answer = await answerPing(rt, ping, version, source);
      record(200, 'success');
      return { [PING_KEY]: answer };
    }

    const previous = rt.scope;
    rt.scope = {
      deadline: meta?.dl,
      trace,
      getRemainingTimeInMillis: context?.getRemainingTimeInMillis?.bind(context),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
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
      record(200, 'success');
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      record(
        err instanceof MeshTimeoutError ? 504 : 500,
        err instanceof MeshTimeoutError ? 'timeout' : 'function-error',
        e,
      );
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      rt.scope = previous;
    }
  };
}
