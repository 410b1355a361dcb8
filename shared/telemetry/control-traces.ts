/**
 * The mesh's own control functions (policy seeder and version bumper, identity issuer, the pre-traffic
 * hook of gated deployments) start traces of their own. `mesh trace` and the local dashboard list the
 * app's traces and leave those out unless asked: both tell them apart here.
 */
import { ENV } from '../names';
import { MAX_TRACE_LIST } from './local-mesh-routes';
import type { TraceSummary } from './trace-assembler';

/** A function as ListFunctions (or the local registry) describes it: its name and environment. */
export interface NamedFunction {
  readonly FunctionName?: string;
  readonly Environment?: { readonly Variables?: Readonly<Record<string, string>> };
}

/**
 * Pure: the functions that serve no mesh service: the mesh's own control functions and any function
 * left out of the mesh. None of them carries MESH_SERVICE.
 */
export function functionsOutsideMeshes(functions: readonly NamedFunction[]): Set<string> {
  return new Set(
    functions.flatMap((fn) => (fn.FunctionName && !fn.Environment?.Variables?.[ENV.service] ? [fn.FunctionName] : [])),
  );
}

/**
 * Control functions' traces are few beside the app's (one per policy write, identity rotation or
 * deploy check), so reading five times the traces asked for still fills the list once they are left out.
 */
const CONTROL_TRACE_HEADROOM = 5;

/** How many traces to read for a list of `limit` app traces. */
export function tracesToRead(limit: number): number {
  return Math.min(MAX_TRACE_LIST, limit * CONTROL_TRACE_HEADROOM);
}

/**
 * Pure: the traces started by mesh services, and how many others were left out. A trace whose root is
 * a function with no MESH_SERVICE (`outside`) was started by the mesh's own machinery; a root that is
 * no function at all (an API in front, a queue) stays: it is the app's traffic.
 */
export function withoutControlTraces(
  list: readonly TraceSummary[],
  outside: ReadonlySet<string>,
): { traces: TraceSummary[]; hidden: number } {
  const traces = list.filter((t) => !outside.has(t.root));
  return { traces, hidden: list.length - traces.length };
}
