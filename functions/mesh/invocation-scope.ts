/**
 * What the mesh knows of the invocation being served: set by the wrapper, read by `call()` and
 * `mesh.context()`.
 *
 * Classic Lambda runs one invocation at a time in a sandbox, and the invocation in flight is the one
 * being served, as Lambda's own runtime keeps it for a standard function (its invoke store holds one
 * context per sandbox there). Lambda Managed Instances run many at once in one Node.js thread, sharing
 * its globals (AWS Lambda Developer Guide, "Node.js runtime for Lambda Managed Instances"; the runtime
 * sets AWS_LAMBDA_MAX_CONCURRENCY there), and each must read its own deadline, trace, caller and
 * idempotency key: each invocation then runs in its own async context (AsyncLocalStorage). The first
 * AsyncLocalStorage scope turns on Node's promise hooks for the life of the process, which costs a cold
 * sandbox's first request more than any other step of the inbound check; so a process runs its
 * invocations in async contexts from the first time one arrives while another is in flight (or from
 * the start with AWS_LAMBDA_MAX_CONCURRENCY), and until then serves each alone. Work a handler leaves
 * running after it returned sees no invocation, or, in classic Lambda, the next one (as Lambda's
 * runtime context does); in async contexts, its own.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { TraceContext } from '../../shared/trace-header';
import type { KeyScope } from './idempotency-key';
import type { RouteHeaders } from './routing/route-headers';

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

/** The variable Lambda's runtime sets where invocations run concurrently (Managed Instances). */
export const CONCURRENCY_VARIABLE = 'AWS_LAMBDA_MAX_CONCURRENCY';

/** The invocations one runtime serves: alone, or each in its own async context. */
export class InvocationScopes {
  /** One async context per invocation, from the first overlap (or the start under Managed Instances). */
  private storage: AsyncLocalStorage<InvocationScope> | undefined;
  /** Invocations in flight, for requests that arrive outside their async context (the local endpoint). */
  private readonly active = new Set<InvocationScope>();
  /** The invocation served outside any async context: it was alone when it arrived. */
  private alone: InvocationScope | undefined;
  /** The scope of code that runs outside any invocation (a script or a test acting as one). */
  outside: InvocationScope | undefined;

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    if (env[CONCURRENCY_VARIABLE] !== undefined) this.contexts();
  }

  /** The invocation whose async context this is, else the one served alone, else the outside scope. */
  current(): InvocationScope | undefined {
    return this.storage?.getStore() ?? this.alone ?? this.outside;
  }

  /**
   * Serves one invocation: `fn`, and everything it starts, sees `scope`. Alone while no other is in
   * flight and no async context was ever needed: once one was, a callback the runtime runs may carry an
   * earlier invocation's context, so every later invocation gets its own.
   */
  async serve<T>(scope: InvocationScope, fn: () => Promise<T>): Promise<T> {
    const alone = this.storage === undefined && this.active.size === 0;
    this.active.add(scope);
    try {
      if (!alone) return await this.contexts().run(scope, fn);
      this.alone = scope;
      return await fn();
    } finally {
      this.active.delete(scope);
      if (this.alone === scope) this.alone = undefined;
    }
  }

  /** The async contexts, made on first need (node:async_hooks is loaded then). */
  private contexts(): AsyncLocalStorage<InvocationScope> {
    this.storage ??= new (require('node:async_hooks') as typeof import('node:async_hooks')).AsyncLocalStorage();
    return this.storage;
  }

  /**
   * The invocation a request to the local endpoint belongs to. Its socket was accepted outside every
   * invocation's async context, so it names its invocation by request id; a request that names none
   * belongs to the only invocation in flight (one at a time, as classic Lambda runs them), else to none.
   * Asked as the request's head arrives, not once its body has: the invocation may have ended by then.
   */
  named(requestId: string | undefined): InvocationScope | undefined {
    if (requestId !== undefined) {
      for (const s of this.active) if (s.requestId === requestId) return s;
      return undefined;
    }
    if (this.active.size === 1) return this.active.values().next().value;
    return this.active.size === 0 ? this.outside : undefined;
  }

  /** Runs `fn` within `scope` (a request the endpoint matched to its invocation); no scope, as it is. */
  within<T>(scope: InvocationScope | undefined, fn: () => Promise<T>): Promise<T> {
    return scope ? this.contexts().run(scope, fn) : fn();
  }
}
