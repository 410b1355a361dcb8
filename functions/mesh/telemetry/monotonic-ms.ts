/**
 * A monotonic clock in ms, for durations. Not `performance.now()`: Node builds the `performance`
 * global on its first use, ~0.7 ms of a cold sandbox's first request (measured with
 * process.cpuUsage around the first call); `process.hrtime` is there from the start.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
