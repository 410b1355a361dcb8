/**
 * What the mesh knows of the invocation being served: set by the wrapper, read by `call()` and
 * `mesh.context()`. Each invocation runs in its own async context (AsyncLocalStorage), never in a
 * field swapped per invocation: Lambda Managed Instances run many invocations at once in one Node.js
 * thread, sharing its globals (AWS Lambda Developer Guide, "Node.js runtime for Lambda Managed
 * Instances"), and each must read its own deadline, trace, caller and idempotency key.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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

/** The invocations one runtime serves, each in its own async context. */
export class InvocationScopes {
  private readonly storage = new AsyncLocalStorage<InvocationScope>();
  /** Invocations in flight, for requests that arrive outside their async context (the local endpoint). */
  private readonly active = new Set<InvocationScope>();
  /** The scope of code that runs outside any invocation (a script or a test acting as one). */
  outside: InvocationScope | undefined;

  /** The invocation whose async context this is, else the outside scope. */
  current(): InvocationScope | undefined {
    return this.storage.getStore() ?? this.outside;
  }

  /** Serves one invocation: `fn`, and everything it starts, sees `scope`. */
  async serve<T>(scope: InvocationScope, fn: () => Promise<T>): Promise<T> {
    this.active.add(scope);
    try {
      return await this.storage.run(scope, fn);
    } finally {
      this.active.delete(scope);
    }
  }

  /**
   * The invocation a request to the local endpoint belongs to. Its socket was accepted outside every
   * invocation's async context, so it names its invocation by request id; a request that names none
   * belongs to the only invocation in flight (one at a time, as classic Lambda runs them), else to none.
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
    return scope ? this.storage.run(scope, fn) : fn();
  }
}
