/**
 * Pure decisions of `mesh rollout` (the canary controller): the options it runs on, the gate on the
 * canary version's golden metrics after each step, and what the controller does next. No I/O here;
 * cli/commands/rollout.ts reads the metrics and writes the alias.
 */
import { formatDuration, parseDuration } from '../../shared/telemetry/duration';
import { UsageError } from '../errors';

export interface RolloutOptions {
  /** Canary shares in percent, strictly increasing, the last may be 100. */
  readonly steps: readonly number[];
  readonly intervalMs: number;
  /** Minimum success rate of the canary, percent (99 = 99%). */
  readonly minSuccess: number;
  readonly maxP99Ms: number;
  readonly minRequests: number;
}

export const ROLLOUT_DEFAULTS: RolloutOptions = {
  steps: [10, 25, 50, 100],
  intervalMs: 30_000,
  minSuccess: 99,
  maxP99Ms: 500,
  minRequests: 20,
};

/** The canary version's numbers over one step's window (from `mesh stat`'s snapshot). */
export interface CanaryMetrics {
  readonly requests: number;
  /** 0-1, null when there were no requests. */
  readonly successRate: number | null;
  readonly p99: number | null;
}

export type GateVerdict =
  | { readonly verdict: 'pass' }
  /** Not enough evidence yet: wait another interval at the same share (once). */
  | { readonly verdict: 'wait'; readonly reason: string }
  | { readonly verdict: 'fail'; readonly metric: 'success' | 'p99' | 'requests'; readonly reason: string };

const flagError = (flag: string, raw: string, want: string, example: string) =>
  new UsageError(
    `--${flag} ${JSON.stringify(raw)} is not ${want}; e.g. \`mesh rollout payments --${flag} ${example}\``,
  );

/** Parses the rollout flags (absent = default); every bad value names itself and the fix. */
export function parseRolloutOptions(raw: {
  steps?: string;
  interval?: string;
  'min-success'?: string;
  'max-p99'?: string;
  'min-requests'?: string;
}): RolloutOptions {
  let steps = ROLLOUT_DEFAULTS.steps;
  if (raw.steps !== undefined) {
    const parts = raw.steps.split(',').map((s) => s.trim().replace(/%$/, ''));
    const nums = parts.map((p) => (/^\d{1,3}(\.\d{1,4})?$/.test(p) ? Number(p) : NaN));
    const increasing = nums.every((n, i) => i === 0 || n > nums[i - 1]!);
    if (parts.length === 0 || nums.some((n) => !Number.isFinite(n) || n <= 0 || n > 100) || !increasing) {
      throw flagError(
        'steps',
        raw.steps,
        'a comma-separated list of increasing percentages above 0 and up to 100',
        '10,25,50,100',
      );
    }
    steps = nums;
  }
  let intervalMs = ROLLOUT_DEFAULTS.intervalMs;
  if (raw.interval !== undefined) {
    const ms = parseDuration(raw.interval);
    if (ms === undefined || ms < 1000 || ms > 3_600_000)
      throw flagError('interval', raw.interval, 'a duration from 1s to 1h', '30s');
    intervalMs = ms;
  }
  let minSuccess = ROLLOUT_DEFAULTS.minSuccess;
  if (raw['min-success'] !== undefined) {
    const v = raw['min-success'].trim().replace(/%$/, '');
    const n = /^\d{1,3}(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!(n >= 0 && n <= 100))
      throw flagError('min-success', raw['min-success'], 'a success rate in percent from 0 to 100', '99');
    minSuccess = n;
  }
  let maxP99Ms = ROLLOUT_DEFAULTS.maxP99Ms;
  if (raw['max-p99'] !== undefined) {
    // A bare number is milliseconds here (latency), unlike --interval.
    const v = raw['max-p99'].trim();
    const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) : parseDuration(v);
    if (ms === undefined || !(ms > 0) || ms > 900_000)
      throw flagError('max-p99', raw['max-p99'], 'a latency like 500ms or 2s (up to 15m)', '500ms');
    maxP99Ms = ms;
  }
  let minRequests = ROLLOUT_DEFAULTS.minRequests;
  if (raw['min-requests'] !== undefined) {
    const v = raw['min-requests'].trim();
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= 1 && n <= 1_000_000))
      throw flagError('min-requests', raw['min-requests'], 'a whole number from 1 to 1000000', '20');
    minRequests = n;
  }
  return { steps, intervalMs, minSuccess, maxP99Ms, minRequests };
}

export function pct(rate: number): string {
  const p = rate * 100;
  return `${Number.isInteger(p) ? p : p.toFixed(1)}%`;
}

export function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${Math.round(v)}ms`;
}

/**
 * The gate after one step. `extended` = this step already waited a second interval for traffic;
 * too little evidence then fails (a canary nobody calls is not proven healthy).
 * Order: evidence first, then errors, then latency (an erroring canary is reported as such).
 */
export function judgeStep(
  m: CanaryMetrics | undefined,
  o: RolloutOptions,
  version: string,
  extended: boolean,
): GateVerdict {
  const requests = m?.requests ?? 0;
  if (requests < o.minRequests) {
    const reason = `requests to v${version} = ${requests}, below --min-requests ${o.minRequests}`;
    return extended ? { verdict: 'fail', metric: 'requests', reason } : { verdict: 'wait', reason };
  }
  const success = m!.successRate ?? 0;
  // Compare in percent with a little float slack: 99 of 100 is exactly 99%.
  if (success * 100 + 1e-9 < o.minSuccess) {
    return {
      verdict: 'fail',
      metric: 'success',
      reason: `success rate of v${version} = ${pct(success)}, below --min-success ${o.minSuccess}%`,
    };
  }
  if (m!.p99 === null) {
    const reason = `p99 of v${version} is unknown (no latency samples in ${requests} requests)`;
    return extended ? { verdict: 'fail', metric: 'p99', reason } : { verdict: 'wait', reason };
  }
  if (m!.p99 > o.maxP99Ms) {
    return {
      verdict: 'fail',
      metric: 'p99',
      reason: `p99 of v${version} = ${ms(m!.p99)}, above --max-p99 ${ms(o.maxP99Ms)}`,
    };
  }
  return { verdict: 'pass' };
}

export type NextAction =
  | { readonly action: 'shift'; readonly step: number; readonly percent: number }
  | { readonly action: 'extend'; readonly step: number }
  | { readonly action: 'promote' }
  | { readonly action: 'rollback'; readonly reason: string };

/** What the controller does after judging step `step` (0-based). */
export function nextAction(step: number, o: RolloutOptions, v: GateVerdict): NextAction {
  if (v.verdict === 'fail') return { action: 'rollback', reason: v.reason };
  if (v.verdict === 'wait') return { action: 'extend', step };
  const next = step + 1;
  if (next >= o.steps.length) return { action: 'promote' };
  return { action: 'shift', step: next, percent: o.steps[next]! };
}

export function describeOptions(o: RolloutOptions): string {
  return `steps ${o.steps.join(',')}%, every ${formatDuration(o.intervalMs)}, gate success >= ${o.minSuccess}%, p99 <= ${ms(o.maxP99Ms)}, >= ${o.minRequests} requests`;
}
