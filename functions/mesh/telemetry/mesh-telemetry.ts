/**
 * The runtime's telemetry: EMF metric lines (Amazon CloudWatch User Guide, "Specification: Embedded metric format")
 * and one JSON access-log line per call, both on stdout (Lambda ships stdout to CloudWatch Logs, which extracts EMF),
 * and X-Ray subsegments.
 *
 * EMF is written by hand rather than through Powertools Metrics: the same one-directive document, but
 * one line per call with no buffering, flush hook or cold-start blob, and nothing to load (see
 * bench/runtime.bench.ts for the measured load cost of Powertools). Never logs tokens or payloads.
 */
import { writeSync } from 'node:fs';
import { METRICS, metricNamespace } from '../../../shared/names';
import type { CallLine } from '../../../shared/telemetry/access-log';
import {
  callerReportsItself,
  DEFAULT_METRIC_DIMENSIONS,
  type MetricDimensions,
} from '../../../shared/telemetry/metric-dimensions';
import type { SegmentDoc, XrayEmitter } from './xray-emitter';

export type Reporter = CallLine['reporter'];

/** One call as the runtime records it: its access-log line's fields, and what only some lines carry. */
export interface CallRecord extends CallLine {
  readonly retries?: number;
  readonly denied?: boolean;
  readonly idempotencyKey?: string;
  readonly requestId?: string;
  /** The source a refused caller claimed (access log only: metrics record it as `unknown`). */
  readonly claimedSource?: string;
}

/** Writes one or more lines (without the final newline). */
export type TelemetrySink = (line: string) => void;

/**
 * On Linux (Lambda), straight to fd 1: creating `process.stdout` costs 1.5 to 2.5 ms of a cold
 * sandbox's first request (a pipe loads `net`), and Node writes stdout synchronously on Linux for
 * files and pipes alike, so these lines keep their order with the handler's own console output.
 * A write that would block (a non-blocking pipe that is full) and other platforms go through
 * `process.stdout`, which queues.
 */
let direct = process.platform === 'linux';

export const stdoutSink: TelemetrySink = (line) => {
  const text = Buffer.from(`${line}\n`);
  let written = 0;
  if (direct) {
    try {
      while (written < text.length) written += writeSync(1, text, written);
      return;
    } catch {
      direct = false;
    }
  }
  process.stdout.write(text.subarray(written));
};

/** `{"Name":…,"Unit":…}` of one metric in a directive. */
const metricDef = (name: string, unit: 'Count' | 'Milliseconds') => `{"Name":"${name}","Unit":"${unit}"}`;

export class MeshTelemetry {
  private xray: XrayEmitter | undefined;
  /** The per-edge dimension sets of the edge's own record (with the full set when `detailed`). */
  private readonly edgeSets: readonly (readonly string[])[];
  /** The sets a callee adds for a caller that records the edge itself: none, or the full set. */
  private readonly calleeSets: readonly (readonly string[])[];
  /**
   * A callee's per-version directives: requests and latency by (service, version), and requests alone by
   * (service, version, response_code), which a gated deployment's success-rate alarm reads. Latency by
   * response code would cost a metric per code and nothing reads it.
   */
  private readonly versionDirectives: string;
  /** A mirror copy: the callee's per-version counts only (made on the first: few functions serve one). */
  private mirrorDirective: string | undefined;
  /** `namespace`: the mesh's own (metricNamespace of MESH_NAME), so meshes sharing a region keep apart. */
  constructor(
    private readonly write: TelemetrySink = stdoutSink,
    private readonly xrayAddress: string | undefined = process.env.AWS_XRAY_DAEMON_ADDRESS,
    private readonly onSegment?: (doc: SegmentDoc) => void,
    dimensions: MetricDimensions = DEFAULT_METRIC_DIMENSIONS,
    private readonly namespace = metricNamespace('mesh'),
  ) {
    const detailed = dimensions === 'detailed';
    this.edgeSets = detailed ? [METRICS.edgeDimensions, METRICS.dimensions] : [METRICS.edgeDimensions];
    this.calleeSets = detailed ? [METRICS.dimensions] : [];
    this.versionDirectives = [
      this.directive(
        [METRICS.versionDimensions[0]],
        [metricDef(METRICS.requestsTotal, 'Count'), metricDef(METRICS.requestDurationMs, 'Milliseconds')],
      ),
      this.directive([METRICS.versionDimensions[1]], [metricDef(METRICS.requestsTotal, 'Count')]),
    ].join(',');
  }

  /** One directive: `metrics` under each of the dimension sets `sets` (a line may hold several directives). */
  private directive(sets: readonly (readonly string[])[], metrics: readonly string[]): string {
    return `{"Namespace":"${this.namespace}","Dimensions":${JSON.stringify(sets)},"Metrics":[${metrics.join(',')}]}`;
  }

  /** The mirror copy's directive, made on the first. */
  private mirror(): string {
    this.mirrorDirective ??= this.directive(
      [METRICS.versionDimensions[0]],
      [metricDef(METRICS.mirrorRequestsTotal, 'Count'), metricDef(METRICS.mirrorRequestDurationMs, 'Milliseconds')],
    );
    return this.mirrorDirective;
  }

  /**
   * EMF metrics and the access-log line of one call, as seen by `reporter`. Every label is a property
   * of the line; the dimension sets decide which of them make CloudWatch metrics (shared/names.ts METRICS).
   */
  record(r: CallRecord): void {
    const now = Date.now();
    const directives: string[] = [];
    let values: string;
    if (r.mirror) {
      values = `,"${METRICS.mirrorRequestsTotal}":1,"${METRICS.mirrorRequestDurationMs}":${round(r.durationMs)}`;
      directives.push(this.mirror());
    } else {
      values = `,"${METRICS.requestsTotal}":1,"${METRICS.requestDurationMs}":${round(r.durationMs)}`;
      // The edge's record is the caller's; the callee's only when the caller reports nothing.
      const own = r.reporter === 'source' || r.throughChannel || !callerReportsItself(r.source);
      const sets = own ? this.edgeSets : this.calleeSets;
      if (sets.length > 0) {
        const metrics = [
          metricDef(METRICS.requestsTotal, 'Count'),
          metricDef(METRICS.requestDurationMs, 'Milliseconds'),
        ];
        const count = (name: string, n: number) => {
          metrics.push(metricDef(name, 'Count'));
          values += `,"${name}":${n}`;
        };
        // Every request carries request_errors_total (0 or 1); the other counts only when they happened.
        count(METRICS.requestErrorsTotal, r.code >= 400 ? 1 : 0);
        if (r.retries) count(METRICS.retriesTotal, r.retries);
        if (r.denied) count(METRICS.deniedTotal, 1);
        if (r.outcome === 'rate-limited') count(METRICS.rateLimitedTotal, 1);
        if (r.fallbackFor) count(METRICS.fallbackTotal, 1);
        directives.push(this.directive(sets, metrics));
      }
      if (r.reporter === 'destination') directives.push(this.versionDirectives);
    }
    // One write for both lines (one syscall on the hot path); the access log is assembled by hand
    // for the same reason (JSON.stringify of an object per call showed up in the per-hop profile).
    let log =
      `{"type":"mesh-access","time":${now},"reporter":"${r.reporter}","source":${JSON.stringify(r.source)},` +
      `"destination":${JSON.stringify(r.destination)},"version":${JSON.stringify(r.version)},"code":${r.code},` +
      `"outcome":"${r.outcome}","durationMs":${round(r.durationMs)}`;
    if (r.attempts !== undefined) log += `,"attempts":${r.attempts}`;
    if (r.idempotencyKey) log += `,"idempotencyKey":${JSON.stringify(r.idempotencyKey)}`;
    if (r.traceId) log += `,"traceId":"${r.traceId}"`;
    if (r.requestId) log += `,"requestId":${JSON.stringify(r.requestId)}`;
    if (r.error) log += `,"error":${JSON.stringify(r.error)}`;
    if (r.reason) log += `,"reason":${JSON.stringify(r.reason)}`;
    if (r.claimedSource) log += `,"claimedSource":${JSON.stringify(r.claimedSource)}`;
    if (r.mirror) log += ',"mirror":true';
    if (r.fallbackFor) log += `,"fallbackFor":${JSON.stringify(r.fallbackFor)}`;
    // A consumer's line is its edge's only record: `mesh tap` shows it as the call's.
    if (r.throughChannel) log += ',"throughChannel":true';
    this.write(
      `{"_aws":{"Timestamp":${now},"CloudWatchMetrics":[${directives.join(',')}]}` +
        this.dims(r.source, r.destination, r.version, String(r.code), r.reporter) +
        values +
        '}\n' +
        log +
        '}',
    );
  }

  /** One breaker_open_total count for (source -> destination@version). */
  breakerOpened(source: string, destination: string, version: string): void {
    this.write(
      `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[${this.directive(this.edgeSets, [metricDef(METRICS.breakerOpenTotal, 'Count')])}]}` +
        this.dims(source, destination, version, '503', 'source') +
        `,"${METRICS.breakerOpenTotal}":1}`,
    );
  }

  /**
   * One identity_unavailable_total count and a WARN line: `service` tried to load its identity and has
   * none yet, so it refuses mesh calls until it has (the reason names the failure, never a value).
   */
  identityUnavailable(service: string, reason: string): void {
    this.write(
      `${this.serviceCount(METRICS.identityUnavailableTotal, service)}\n` +
        `{"level":"WARN","time":${Date.now()},"msg":${JSON.stringify(`mesh: ${service} has no identity yet; mesh calls are refused until its identity secret holds one`)},"reason":${JSON.stringify(reason)}}`,
    );
  }

  /** One WARN line: something the mesh worked around (the fields name it, never a secret). */
  warn(msg: string, fields: Readonly<Record<string, string>>): void {
    this.write(JSON.stringify({ level: 'WARN', time: Date.now(), msg, ...fields }));
  }

  /** One policy_read_throttled_total count: `service`'s read of `partition`'s policy was throttled. */
  policyReadThrottled(service: string, partition: string): void {
    this.write(this.serviceCount(METRICS.policyReadThrottledTotal, service, `,"policy":${JSON.stringify(partition)}`));
  }

  segment(doc: SegmentDoc): void {
    if (this.onSegment) {
      this.onSegment(doc);
      return;
    }
    // Only calls send segments: the emitter comes with the outbound pipeline's file (outbound-entry.ts).
    if (!this.xray) {
      const { XrayEmitter } = require('../outbound-entry') as typeof import('../outbound-entry');
      this.xray = new XrayEmitter(this.xrayAddress);
    }
    this.xray.send(doc);
  }

  private dims(source: string, destination: string, version: string, code: string, reporter: string): string {
    // Indexed, not destructured: a destructuring runs the iterator protocol, which V8 compiles at length.
    const names = METRICS.dimensions;
    return `,"${names[0]}":${JSON.stringify(source)},"${names[1]}":${JSON.stringify(destination)},"${names[2]}":${JSON.stringify(version)},"${names[3]}":"${code}","${names[4]}":"${reporter}"`;
  }

  /** One EMF line counting `metric` once under the `service` dimension; `fields`: more JSON members of the line. */
  private serviceCount(metric: string, service: string, fields = ''): string {
    const emf = this.directive([['service']], [metricDef(metric, 'Count')]);
    return `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[${emf}]},"service":${JSON.stringify(service)}${fields},"${metric}":1}`;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
