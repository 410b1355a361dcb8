/** What the mesh knows of the invocation being served: set by the wrapper, read by `call()` and `mesh.context()`. */
import type { TraceContext } from '../../shared/trace-header';
import type { KeyScope } from './idempotency-key';

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
}
