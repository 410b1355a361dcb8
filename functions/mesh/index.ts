/**
 * The mesh runtime: what handlers import as `lambda-mesh/runtime` (`mesh.call`, `call`, the error classes), and the
 * layer's wrapper `handler` (docs/wire-contract.md, "The layer"). In Lambda the import resolves to the layer's copy.
 * The inbound check is in this file of the layer (every wrapped function runs it on its first request, and a
 * file of its own cost one module load more); the runtime, policy cache and identity are created on first
 * need, and the outbound pipeline, identity and the transports are files of their own (build.ts).
 */
import { ENV } from '../../shared/names';
import type { CallOptions, CallWithMeta, SendReceipt } from './client';
import type { MeshEndpoint } from './endpoint';
import { callHandler, loadHandler } from './handler-loader';
import { MeshRuntime } from './mesh-runtime';
import { type LambdaContextLike, type WrappedHandler, wrapHandler } from './wrapper';

export type { CallMeta, CallOptions, CallWithMeta, SendReceipt } from './client';
// Every error class the runtime throws, whatever errors.ts adds: handlers catch them by class.
export * from './errors';
export type { MeshRuntime, MeshRuntimeOptions } from './mesh-runtime';

let runtime: MeshRuntime | undefined;
let endpoint: MeshEndpoint | undefined;
let wrapped: WrappedHandler | undefined;

/** The process's runtime, made from the environment on first use. */
export function getRuntime(): MeshRuntime {
  runtime ??= new MeshRuntime();
  return runtime;
}

/**
 * Calls `target` through the mesh and resolves to its result; rejects with a MeshError subclass.
 * With `{ withMeta: true }`, resolves to `{ result, meta }`: `meta` says who answered (a declared
 * fallback, another region).
 */
export function call<T = unknown>(
  target: string,
  payload: unknown,
  options: CallOptions & { withMeta: true },
): Promise<CallWithMeta<T>>;
export function call<T = unknown>(target: string, payload?: unknown, options?: CallOptions): Promise<T>;
export function call<T = unknown>(
  target: string,
  payload?: unknown,
  options?: CallOptions,
): Promise<T | CallWithMeta<T>> {
  return getRuntime().call<T>(target, payload, options);
}

/**
 * Sends `payload` asynchronously through the mesh, with the same policy, identity, trace and metrics as
 * `call`: to a service, as an Event invoke (Lambda queues it; the service's wrapper checks it as a call
 * and gives the handler `payload` as sent); to a channel this function may send to (`allowSendTo` a
 * queue, topic or bus), as a message whose consumers check it record by record. Resolves once the
 * message is accepted, with its idempotency key (the consumer's `mesh.context().idempotencyKey`).
 */
export function send(target: string, payload?: unknown, options?: CallOptions): Promise<SendReceipt> {
  return getRuntime().send(target, payload, options);
}

/** What the mesh knows of the invocation being served (`mesh.context()`). */
export interface MeshContext {
  /** The caller, verified when identity is on (`external` for callers outside the mesh). */
  readonly source: string;
  /**
   * The call's idempotency key: the same on every attempt and retry of one call (and on a replay of
   * its token), so a handler can deduplicate on it. Outside the mesh, Lambda's request id.
   */
  readonly idempotencyKey?: string;
  /** The caller's attempt number, 1-based. */
  readonly attempt?: number;
  /** The caller's deadline for this attempt, epoch ms. */
  readonly deadline?: number;
  /** Lambda's request id of this invocation. */
  readonly requestId?: string;
  /**
   * A mirror copy (a route's `mirror`): the caller drops this answer, and the real call runs on the
   * version its route chose, with the same idempotency key. The mesh sends none of its calls on edges
   * that are not idempotent, and none of its sends; what the handler does itself once (a charge, an
   * e-mail) it skips.
   */
  readonly mirror?: boolean;
}

/** The invocation the wrapper is serving now, or undefined outside one. */
export function context(): MeshContext | undefined {
  const s = runtime?.scope;
  if (!s?.source) return undefined;
  return {
    source: s.source,
    idempotencyKey: s.idempotencyKey,
    attempt: s.attempt,
    deadline: s.deadline,
    requestId: s.requestId,
    mirror: s.mirror,
  };
}

export const mesh = {
  call,
  send,
  context,
  /** Base URL of the local HTTP endpoint, this sandbox's secret path included (undefined outside the wrapper). */
  get endpoint(): string | undefined {
    return process.env[ENV.endpoint];
  },
};

/**
 * Init phase of the wrapper: the local endpoint first (MESH_ENDPOINT, when MESH_ENDPOINT_PORT asks for
 * it: its own file of the layer, so a function without it neither loads nor opens it), then the user's
 * module.
 */
function boot(): WrappedHandler {
  const env = process.env;
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  if (env[ENV.disabled] === 'true') {
    // Pass-through: no endpoint, no policy, no telemetry.
    const h = loadHandler(env[ENV.handler], taskRoot);
    return (e: unknown, c: LambdaContextLike) => Promise.resolve(h).then((f) => callHandler(f, e, c));
  }
  // Once per process, also when loading the user's module below throws and the next event boots again.
  if (!endpoint && env[ENV.endpointPort] !== undefined) {
    endpoint = (require('./endpoint') as typeof import('./endpoint')).startEndpoint(getRuntime);
  }
  const userHandler = loadHandler(env[ENV.handler], taskRoot);
  let inner: WrappedHandler | undefined;
  return (event, context) => {
    inner ??= wrapHandler(getRuntime(), userHandler);
    return inner(event, context);
  };
}

/** The Lambda handler of every mesh function (`/opt/nodejs/node_modules/lambda-mesh/wrapper.handler`). */
export function handler(event: unknown, context: LambdaContextLike): Promise<unknown> {
  wrapped ??= boot();
  return wrapped(event, context);
}

/**
 * Whether Lambda loads this file as the function's handler: `_HANDLER` is `wrapper.handler`, alone or
 * after a `/` or a `.`. String tests, not a regular expression: a process compiles each regular
 * expression on its first use (~0.08 ms of a cold sandbox's init).
 */
function isWrapperHandler(lambdaHandler: string): boolean {
  const name = 'wrapper.handler';
  if (!lambdaHandler.endsWith(name)) return false;
  const before = lambdaHandler.charAt(lambdaHandler.length - name.length - 1);
  return before === '' || before === '/' || before === '.';
}

// Last statement on purpose: when this bundle is the function's handler, load the user's module
// during init (Lambda's init phase), after every export above exists — the user's module may
// `require('lambda-mesh')` back.
if (process.env[ENV.handler] && isWrapperHandler(process.env._HANDLER ?? '')) {
  wrapped = boot();
}
