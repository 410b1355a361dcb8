/** Builders for the telemetry tests: EMF lines in the runtime's shape and X-Ray documents. */
import { randomBytes } from 'node:crypto';
import type { MeshView } from '../../local/dashboard/mesh-view';
import { METRICS, metricNamespace } from '../../shared/names';

export interface EdgeLine {
  source?: string;
  destination?: string;
  version?: string;
  code?: string;
  reporter?: 'source' | 'destination';
  timestamp?: number;
  requests?: number | number[];
  durations?: number[];
  denied?: number;
  breakerOpens?: number;
  retries?: number;
  /** Calls the caller refused over a rate limit (rate_limited_total). */
  rateLimited?: number;
  /** Calls a fallback served (fallback_total). */
  fallbacks?: number;
  /** A mirror copy's line: its count and duration under the mirror metrics. */
  mirror?: boolean;
  /** The mesh whose namespace the line publishes in. @default 'demo' */
  mesh?: string;
}

/** One EMF object as Powertools prints it: one directive, one dimension set, arrays of values. */
export function emfLine(e: EdgeLine = {}): Record<string, unknown> {
  const metrics: { Name: string; Unit: string }[] = [];
  const values: Record<string, unknown> = {};
  const add = (name: string, unit: string, v: number | number[] | undefined) => {
    if (v === undefined) return;
    metrics.push({ Name: name, Unit: unit });
    values[name] = v;
  };
  add(e.mirror ? METRICS.mirrorRequestsTotal : METRICS.requestsTotal, 'Count', e.requests ?? 1);
  if (e.durations?.length !== 0)
    add(e.mirror ? METRICS.mirrorRequestDurationMs : METRICS.requestDurationMs, 'Milliseconds', e.durations ?? [10]);
  add(METRICS.deniedTotal, 'Count', e.denied);
  add(METRICS.breakerOpenTotal, 'Count', e.breakerOpens);
  add(METRICS.retriesTotal, 'Count', e.retries);
  add(METRICS.rateLimitedTotal, 'Count', e.rateLimited);
  add(METRICS.fallbackTotal, 'Count', e.fallbacks);
  return {
    _aws: {
      Timestamp: e.timestamp ?? Date.now(),
      CloudWatchMetrics: [
        { Namespace: metricNamespace(e.mesh ?? 'demo'), Dimensions: [[...METRICS.dimensions]], Metrics: metrics },
      ],
    },
    source_workload: e.source ?? 'orders',
    destination_workload: e.destination ?? 'payments',
    destination_version: e.version ?? '1',
    response_code: e.code ?? '200',
    reporter: e.reporter ?? 'source',
    ...values,
  };
}

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
export const newTraceId = (): string =>
  `1-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')}-${hex(12)}`;
export const newSegmentId = (): string => hex(8);

/** A mesh view with no alias and no control function, for the routes' tests that read telemetry only. */
export const noMeshView: MeshView = {
  liveAliases: () => [],
  controlFunctions: () => new Set(),
  policyEdges: async () => [],
};
