/**
 * The lines Lambda itself writes around an invocation's log, in the function's log format. Text:
 * `START`, `END` and the tab-separated `REPORT`. JSON (LoggingConfig.LogFormat `JSON`): one object per
 * event, `{"time","type","record"}`, `platform.start` and `platform.report`, and no line for the end
 * ("Configuring JSON and plain text log formats", AWS Lambda Developer Guide; the shapes as CloudWatch
 * Logs records them). Pure.
 *
 * Billed duration: Lambda bills the init phase of on-demand functions since August 2025, so a cold
 * start's billed duration is the invocation's duration plus its init duration, rounded up to the
 * millisecond ("Understanding the Lambda execution environment lifecycle").
 */

/** What an invocation's platform lines tell. */
export interface PlatformReport {
  readonly requestId: string;
  /** The version that ran (`$LATEST` or a number). */
  readonly version: string;
  /** The function's ARN, unqualified. */
  readonly functionArn: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryMb?: number;
  /** On a cold start only. */
  readonly initMs?: number;
  readonly outcome: 'ok' | 'error' | 'timeout' | 'crash';
  /** The error type of a crash Lambda names otherwise than Runtime.ExitError (Runtime.OutOfMemory). */
  readonly errorType?: string;
}

/** The status a JSON `platform.report` gives each outcome, and the error type of those Lambda names. */
const STATUS: Record<PlatformReport['outcome'], { status: string; errorType?: string }> = {
  ok: { status: 'success' },
  error: { status: 'error' },
  timeout: { status: 'timeout', errorType: 'Sandbox.Timedout' },
  crash: { status: 'failure', errorType: 'Runtime.ExitError' },
};

function status(r: PlatformReport): { status: string; errorType?: string } {
  const s = STATUS[r.outcome];
  return r.errorType && s.errorType ? { ...s, errorType: r.errorType } : s;
}

export function billedDurationMs(r: Pick<PlatformReport, 'durationMs' | 'initMs'>): number {
  return Math.max(1, Math.ceil(r.durationMs + (r.initMs ?? 0)));
}

/** The lines before the function's own log (`start`) and after it (`end`, then `report`; `end` empty in JSON). */
export function platformLines(
  r: PlatformReport,
  json: boolean,
  at: { start: number; end: number },
): { start: string[]; end: string[] } {
  if (!json) {
    return {
      start: [`START RequestId: ${r.requestId} Version: ${r.version}`],
      end: [`END RequestId: ${r.requestId}`, reportLine(r)],
    };
  }
  const line = (time: number, type: string, record: object) =>
    JSON.stringify({ time: new Date(time).toISOString(), type, record });
  const metrics = {
    durationMs: round3(r.durationMs),
    billedDurationMs: billedDurationMs(r),
    memorySizeMB: r.memorySizeMb,
    ...(r.maxMemoryMb !== undefined ? { maxMemoryUsedMB: r.maxMemoryMb } : {}),
    ...(r.initMs !== undefined ? { initDurationMs: round3(r.initMs) } : {}),
  };
  return {
    start: [
      line(at.start, 'platform.start', { requestId: r.requestId, functionArn: r.functionArn, version: r.version }),
    ],
    end: [line(at.end, 'platform.report', { requestId: r.requestId, metrics, ...status(r) })],
  };
}

/**
 * Lambda's REPORT line, each field followed by a tab as recorded: Max Memory Used (after a crash or a
 * timeout too), Init Duration only on a cold start.
 */
function reportLine(r: PlatformReport): string {
  const fields = [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${r.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${billedDurationMs(r)} ms`,
    `Memory Size: ${r.memorySizeMb} MB`,
    ...(r.maxMemoryMb !== undefined ? [`Max Memory Used: ${r.maxMemoryMb} MB`] : []),
    ...(r.initMs !== undefined ? [`Init Duration: ${r.initMs.toFixed(2)} ms`] : []),
  ];
  return `${fields.join('\t')}\t`;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
