/**
 * A checkout: charges an order through `charge` (not idempotent) or `charge-once` (idempotent,
 * deduplicated), with the order id as the call's idempotency key. Every checkout answers: charged,
 * failed (the charge surely did not happen), or unknown (it may have: reconcile on the order id).
 */
import { mesh } from 'lambda-mesh/runtime';

interface Checkout {
  readonly orderId: string;
  readonly target: 'charge' | 'charge-once';
  readonly amountCents?: number;
  /** Passed to the leaf: the share of calls it makes slow (after charging) or fail (before). */
  readonly faults?: { readonly timeout?: number; readonly error?: number; readonly seed?: string };
}

/** Errors after which the charge may have happened. */
const UNKNOWN = new Set(['MeshOutcomeUnknownError', 'MeshTimeoutError']);
/** The deduplicating leaf is still running the first attempt's charge. */
const IN_PROGRESS = 'IdempotencyAlreadyInProgressError';

export async function handler(event: Checkout): Promise<unknown> {
  try {
    const receipt = await mesh.call(
      event.target,
      { amountCents: event.amountCents ?? 100, faults: event.faults },
      { idempotencyKey: event.orderId },
    );
    return { orderId: event.orderId, status: 'charged', receipt };
  } catch (err) {
    const e = err as Error & { errorType?: string };
    const unknown = UNKNOWN.has(e.name) || e.errorType === IN_PROGRESS;
    return { orderId: event.orderId, status: unknown ? 'unknown' : 'failed', error: e.name, errorType: e.errorType };
  }
}
