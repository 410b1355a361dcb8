/**
 * Fault injection (a service's `fault` item), decided per invocation like Istio's HTTPFaultInjection:
 * a delay for `delay.percent` of calls and an abort for `abort.percent` of calls, drawn
 * independently. The callee's wrapper applies it, so the delay and the abort show in the callee's
 * own telemetry, on the edge they hit. Pure: `random` returns [0, 1) and is injectable.
 */
import type { FaultItem } from '../../../shared/policy';

/** errorType of an injected abort when the item names none. */
export const INJECTED_FAULT_ERROR_TYPE = 'Mesh.FaultInjected';

export interface FaultDecision {
  /** Wait this long before the handler runs (0 = no delay). */
  readonly delayMs: number;
  /** Fail the invocation with this error instead of running the handler. */
  readonly abort?: { readonly errorType: string };
}

const NONE: FaultDecision = { delayMs: 0 };

export function decideFault(fault: FaultItem | undefined, random: () => number = Math.random): FaultDecision {
  if (!fault) return NONE;
  const delayMs = fault.delay && random() * 100 < fault.delay.percent ? fault.delay.ms : 0;
  const abort =
    fault.abort && random() * 100 < fault.abort.percent
      ? { errorType: fault.abort.errorType ?? INJECTED_FAULT_ERROR_TYPE }
      : undefined;
  return abort ? { delayMs, abort } : { delayMs };
}
