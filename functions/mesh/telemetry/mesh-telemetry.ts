/**
 * The runtime's telemetry: EMF metric lines (Amazon CloudWatch User Guide, "Specification: Embedded metric format")
 * and one JSON access-log line per call, both on stdout (Lambda ships stdout to CloudWatch Logs, which extracts EMF),
 * and X-Ray subsegments.
 *
 * EMF is written by hand rather than through Powertools Metrics: the same one-directive document, but
 * one line per call with no buffering, flush hook or cold-start blob, and nothing to load (see
 * bench/runtime.bench.ts for the measured load cost of Powertools). Never logs tokens or payloads.
 */
import { METRICS } from '../../../shared/names';
import { type SegmentDoc, XrayEmitter } from './xray-emitter';

export type Reporter = 'source' | 'destination';

export interface CallRecord {
  readonly reporter: Reporter;
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  /** HTTP-like status of the outcome (200, 403, 429, 502, 503, 504…). */
  readonly code: number;
  readonly outcome: string;
  readonly durationMs: number;
  readonly attempts?: number;
  readonly retries?: number;
  readonly denied?: boolean;
  readonly idempotencyKey?: string;
  readonly traceId?: string;
  readonly requestId?: string;
  readonly error?: string;
  /** Why the callee refused (identity check), for its own log only: never sent to the caller. */
  readonly reason?: string;
  /** The source a refused caller claimed (access log only: metrics record it as `unknown`). */
  readonly claimedSource?: string;
  /** A mirror copy: counted as mirror_requests_total, apart from real traffic. */
  readonly mirror?: boolean;
}

/** Writes one or more lines (without the final newline). */
export type TelemetrySink = (line: string) => void;

export const stdoutSink: TelemetrySink = (line) => {
  process.stdout.write(`${line}\n`);
};

const DIMENSIONS = JSON.stringify([METRICS.dimensions]);
/**
 * A callee's lines also publish the per-version sets (METRICS.versionDimensions): a gated deployment's
 * alarms read the new version's requests and successes there. The caller's lines do not, so each call
 * counts once per version.
 */
const DESTINATION_DIMENSIONS = JSON.stringify([METRICS.dimensions, ...METRICS.versionDimensions]);

export class MeshTelemetry {
  private xray: XrayEmitter | undefined;
  constructor(
    private readonly write: TelemetrySink = stdoutSink,
    private readonly xrayAddress: string | undefined = process.env.AWS_XRAY_DAEMON_ADDRESS,
    private readonly onSegment?: (doc: SegmentDoc) => void,
  ) {}

  /** EMF metrics and the access-log line of one call, as seen by `reporter`. */
  record(r: CallRecord): void {
    const now = Date.now();
    const [count, duration] = r.mirror
      ? [METRICS.mirrorRequestsTotal, METRICS.mirrorRequestDurationMs]
      : [METRICS.requestsTotal, METRICS.requestDurationMs];
    const metrics = [`{"Name":"${count}","Unit":"Count"}`, `{"Name":"${duration}","Unit":"Milliseconds"}`];
    let values = `,"${count}":1,"${duration}":${round(r.durationMs)}`;
    if (r.retries) {
      metrics.push(`{"Name":"${METRICS.retriesTotal}","Unit":"Count"}`);
      values += `,"${METRICS.retriesTotal}":${r.retries}`;
    }
    if (r.denied) {
      metrics.push(`{"Name":"${METRICS.deniedTotal}","Unit":"Count"}`);
      values += `,"${METRICS.deniedTotal}":1`;
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
    this.write(
      `{"_aws":{"Timestamp":${now},"CloudWatchMetrics":[{"Namespace":"${METRICS.namespace}","Dimensions":${r.reporter === 'destination' ? DESTINATION_DIMENSIONS : DIMENSIONS},"Metrics":[${metrics.join(',')}]}]}` +
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
      `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[{"Namespace":"${METRICS.namespace}","Dimensions":${DIMENSIONS},"Metrics":[{"Name":"${METRICS.breakerOpenTotal}","Unit":"Count"}]}]}` +
        this.dims(source, destination, version, '503', 'source') +
        `,"${METRICS.breakerOpenTotal}":1}`,
    );
  }

  /**
   * One identity_unavailable_total count and a WARN line: `service` tried to load its identity and has
   * none yet, so it refuses mesh calls until it has (the reason names the failure, never a value).
   */
  identityUnavailable(service: string, reason: string): void {
    const now = Date.now();
    this.write(
      `{"_aws":{"Timestamp":${now},"CloudWatchMetrics":[{"Namespace":"${METRICS.namespace}","Dimensions":[["service"]],"Metrics":[{"Name":"${METRICS.identityUnavailableTotal}","Unit":"Count"}]}]},"service":${JSON.stringify(service)},"${METRICS.identityUnavailableTotal}":1}\n` +
        `{"level":"WARN","time":${now},"msg":${JSON.stringify(`mesh: ${service} has no identity yet; mesh calls are refused until its identity secret holds one`)},"reason":${JSON.stringify(reason)}}`,
    );
  }

  /** One policy_read_throttled_total count: `service`'s read of `partition`'s policy was throttled. */
  policyReadThrottled(service: string, partition: string): void {
    this.write(
      `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[{"Namespace":"${METRICS.namespace}","Dimensions":[["service"]],"Metrics":[{"Name":"${METRICS.policyReadThrottledTotal}","Unit":"Count"}]}]},"service":${JSON.stringify(service)},"policy":${JSON.stringify(partition)},"${METRICS.policyReadThrottledTotal}":1}`,
    );
  }

  segment(doc: SegmentDoc): void {
    if (this.onSegment) {
      this.onSegment(doc);
      return;
    }
    this.xray ??= new XrayEmitter(this.xrayAddress);
    this.xray.send(doc);
  }

  private dims(source: string, destination: string, version: string, code: string, reporter: string): string {
    const [s, d, v, c, r] = METRICS.dimensions;
    return `,"${s}":${JSON.stringify(source)},"${d}":${JSON.stringify(destination)},"${v}":${JSON.stringify(version)},"${c}":"${code}","${r}":"${reporter}"`;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
