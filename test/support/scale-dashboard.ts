/**
 * The telemetry of a big mesh for the dashboard: the scale runs' skewed mesh (bench/support/scale-sim.ts,
 * every service calling the hub and two neighbours, five with a canary) with service names of 40 and
 * more characters, one edge whose calls the policy refuses, one deny no call has met, and a trace
 * through four of them. Served by the dashboard's own routes over a telemetry store fed the runtime's
 * EMF lines and X-Ray segments.
 */

import { skewedMesh } from '../../bench/support/scale-sim';
import type { MeshView } from '../../local/dashboard/mesh-view';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import type { EdgeSummary } from '../../shared/policy-edges';
import { emfLine, newSegmentId, newTraceId } from './observ-fixtures';

/** `s07` -> a name as long as real ones get. */
export const longName = (short: string): string => `checkout-fulfilment-platform-service-${short}-eu-west-1`;

export interface ScaleDashboard {
  readonly store: TelemetryStore;
  readonly view: MeshView;
  readonly services: readonly string[];
  /** Calls on it are refused: its callee must not look healthy. */
  readonly refused: { readonly from: string; readonly to: string };
  /** A deny with no traffic on it. */
  readonly quietDeny: EdgeSummary;
  /** Each canary service and its canary's share. */
  readonly canaries: Readonly<Record<string, number>>;
}

export function scaleDashboard(size = 50): ScaleDashboard {
  const topology = skewedMesh(size);
  const store = new TelemetryStore({ settleMs: 0 });
  const canaries = Object.fromEntries(Object.entries(topology.canaries ?? {}).map(([s, w]) => [longName(s), w]));
  const edges = topology.edges.map(([from, to]) => [longName(from), longName(to)] as const);
  for (const [source, destination] of edges) {
    const canary = canaries[destination] ?? 0;
    const line = (version: string, requests: number) =>
      store.recordEmf(
        emfLine({ source, destination, version, reporter: 'destination', requests, durations: [12, 30] }),
        { functionName: destination, version },
      );
    line('1', Math.round(40 * (1 - canary)));
    if (canary) line('2', Math.round(40 * canary));
  }
  // Two services that are no neighbours: the calls of the one to the other are refused (no edge).
  const refused = { from: longName('s05'), to: longName('s30') };
  store.recordEmf(emfLine({ ...refusedLine(refused), denied: 7, requests: 7, code: '403' }), {
    functionName: refused.from,
    version: '1',
  });
  recordTrace(store, ['s01', 's02', 's03', 's04'].map(longName));
  const services = [...new Set(edges.flat())].sort();
  const quietDeny: EdgeSummary = {
    from: longName('s03'),
    to: longName('s40'),
    state: 'denied',
    managedBy: 'operator',
    reason: 'incident-42',
  };
  const view: MeshView = {
    liveAliases: () => [],
    controlFunctions: () => new Set(),
    policyEdges: async () => [
      ...edges.map(([from, to]): EdgeSummary => ({ from, to, state: 'allowed', managedBy: 'deploy' })),
      quietDeny,
    ],
  };
  return { store, view, services, refused, quietDeny, canaries };
}

/** The caller's own record of calls the callee's policy refused (the callee ran nothing). */
function refusedLine(edge: { from: string; to: string }) {
  return { source: edge.from, destination: edge.to, version: 'live', reporter: 'source' as const, durations: [] };
}

/** A trace whose segments are these services, one inside the other. */
function recordTrace(store: TelemetryStore, names: readonly string[]): void {
  const traceId = newTraceId();
  const t0 = Date.now() / 1000 - 1;
  let parent: string | undefined;
  names.forEach((name, i) => {
    const id = newSegmentId();
    store.recordSegment({
      trace_id: traceId,
      id,
      name,
      start_time: t0 + i * 0.01,
      end_time: t0 + 0.5 - i * 0.01,
      ...(parent ? { parent_id: parent } : {}),
    });
    parent = id;
  });
}
