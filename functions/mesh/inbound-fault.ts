/**
 * The service's fault item applied to one invocation (resilience/fault-injection.ts draws it): the
 * delay and the abort land on this edge, as the caller sees it, the delay never past the function's
 * timeout. Its own file of the layer (build.ts): only a service whose policy has a fault item loads it.
 */
import type { FaultItem } from '../../shared/policy';
import type { MeshRuntime } from './mesh-runtime';
import { INBOUND_TIMEOUT_MARGIN_MS } from './resilience/deadline';
import { decideFault } from './resilience/fault-injection';
import type { LambdaContextLike } from './wrapper';

/** The invocation the fault lands on (wrapper.ts's), and where the access log's note goes. */
export interface FaultedInvocation {
  readonly rt: Pick<MeshRuntime, 'config' | 'random' | 'sleep'>;
  readonly context: LambdaContextLike;
  faultNote?: string;
}

export async function injectFault(inv: FaultedInvocation, item: FaultItem): Promise<void> {
  const { rt, context } = inv;
  const fault = decideFault(item, rt.random);
  if (fault.delayMs > 0) {
    const room = (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - INBOUND_TIMEOUT_MARGIN_MS;
    const delayMs = Math.max(0, Math.min(fault.delayMs, room));
    inv.faultNote = `fault injected: delay ${delayMs} ms`;
    await rt.sleep(delayMs);
  }
  if (fault.abort) {
    inv.faultNote = `fault injected: abort (${fault.abort.errorType})`;
    throw injectedAbort(rt.config.service, fault.abort.errorType);
  }
}

/**
 * The error of an injected abort: a function error of the item's errorType, as the caller would see one.
 * The message's start is how a caller knows the name is the mesh's word, not the handler's own error
 * (pipeline/classify.ts): keep it.
 */
function injectedAbort(service: string, errorType: string): Error {
  const e = new Error(`fault injected by ${service}'s fault item (abort)`);
  e.name = errorType;
  return e;
}
