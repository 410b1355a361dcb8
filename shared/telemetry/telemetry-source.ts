/**
 * Where golden metrics and traces are read from, behind one interface: the local mesh's collector
 * (over its /_mesh/ routes) or AWS (CloudWatch metrics, X-Ray traces). Commands pick a source once and
 * read it the same way whichever it is.
 */
import type { StatsSnapshot } from './golden-metrics';
import type { Trace, TraceSummary } from './trace-assembler';
import type { TraceFilter } from './trace-filter';

export interface TelemetrySource {
  /** `local`: the local mesh's collector; `aws`: CloudWatch and X-Ray. */
  readonly kind: 'local' | 'aws';
  /** Golden metrics over the last `windowMs`. */
  stats(windowMs: number): Promise<StatsSnapshot>;
  /** The latest traces that match `filter`, newest first. */
  traces(limit: number, filter?: TraceFilter): Promise<TraceSummary[]>;
  /** One trace assembled into its tree (`last` = the newest); undefined when there is none. */
  trace(id: string): Promise<Trace | undefined>;
}
