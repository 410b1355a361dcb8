/**
 * A circuit breaker for one (target, version), in the manner of cockatiel's breakers and Envoy's
 * outlier ejection: closed -> open after `consecutiveFailures` failures in a row, or when the failure
 * rate over the last `windowSize` calls exceeds `failureRateThreshold` (only once `windowSize` calls
 * are known); open for `openMs`; then half-open, letting one probe through at a time. The probe's
 * success closes the breaker, its failure opens it again.
 *
 * Pure: no timers; time comes in as `now` (epoch ms). The runtime counts `breaker_open_total`
 * through `onStateChange`.
 *
 * Calls overlap (parallel calls of one invocation, concurrent invocations in one process): a call let
 * through by `admit` reports its end with the pass it got, and an answer that arrives after the
 * breaker changed state counts for nothing. A straggler from before the breaker opened neither
 * closes a half-open breaker nor takes its probe's slot.
 */
import { DEFAULTS } from '../../../shared/policy-rules';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Failures in a row that open the breaker. @default 5 */
  readonly consecutiveFailures?: number;
  /** Failure share of the window above which the breaker opens, 0 to 1. @default 0.5 */
  readonly failureRateThreshold?: number;
  /** Calls in the sliding window (also the minimum before the rate counts). @default 20 */
  readonly windowSize?: number;
  /** How long the breaker stays open before a probe. @default 30000 */
  readonly openMs?: number;
}

export type BreakerTransitionReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'open-elapsed'
  | 'probe-succeeded'
  | 'probe-failed';

export interface BreakerStateChange {
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly reason: BreakerTransitionReason;
  /** When it happened (the `now` of the call that caused it). */
  readonly at: number;
}

export type BreakerListener = (change: BreakerStateChange) => void;

/** What `admit` hands a call it lets through: the state it was let through in (bumped by every change). */
export interface BreakerPass {
  readonly epoch: number;
}

export class CircuitBreaker {
  private opts: Required<BreakerOptions>;
  private current: BreakerState = 'closed';
  private consecutive = 0;
  /** Ring of the last `windowSize` outcomes (true = failure). */
  private window: boolean[] = [];
  private windowNext = 0;
  private windowFailures = 0;
  private openedAtMs: number | undefined;
  private lastOpenReason: BreakerTransitionReason | undefined;
  /** When the half-open probe in flight was let through; undefined = none in flight. */
  private probeSince: number | undefined;
  /** Counts state changes: a pass from an earlier epoch reports on a state that is gone. */
  private epoch = 0;
  private readonly listeners = new Set<BreakerListener>();

  constructor(options: BreakerOptions = {}) {
    this.opts = resolve(options);
  }

  /** The state as of the last call; an open breaker whose time is up shows 'open' until `canPass`. */
  get state(): BreakerState {
    return this.current;
  }

  /** When the breaker last opened (epoch ms), if it is open or half-open. */
  get openedAt(): number | undefined {
    return this.current === 'closed' ? undefined : this.openedAtMs;
  }

  /** Why it last opened (consecutive failures, failure rate, a failed probe), if it is open or half-open. */
  get openReason(): BreakerTransitionReason | undefined {
    return this.current === 'closed' ? undefined : this.lastOpenReason;
  }

  get options(): Readonly<Required<BreakerOptions>> {
    return this.opts;
  }

  /** Takes new thresholds (the policy changed) and keeps the current state and counts. */
  configure(options: BreakerOptions): void {
    const next = resolve(options);
    if (next.windowSize !== this.opts.windowSize) this.resetWindow();
    this.opts = next;
  }

  /**
   * Whether a call may go now. In half-open it lets exactly one probe through and holds the rest
   * until that probe reports (`success`/`failure`); a probe that never reports is given up after
   * `openMs`, so a lost probe cannot keep the breaker shut for ever.
   */
  canPass(now: number): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (now - (this.openedAtMs ?? now) < this.opts.openMs) return false;
      this.transition('half-open', 'open-elapsed', now);
    }
    if (this.probeSince !== undefined && now - this.probeSince < this.opts.openMs) return false;
    this.probeSince = now;
    return true;
  }

  /** `canPass`, and the pass to report the call's end with (undefined = held). */
  admit(now: number): BreakerPass | undefined {
    return this.canPass(now) ? { epoch: this.epoch } : undefined;
  }

  /** A report that comes with a pass from an earlier state (no pass: a report on the current state). */
  private isStale(pass: BreakerPass | undefined): boolean {
    return pass !== undefined && pass.epoch !== this.epoch;
  }

  /** Reports a successful call; returns the new state. */
  success(now: number, pass?: BreakerPass): BreakerState {
    if (this.isStale(pass)) return this.current;
    if (this.current === 'half-open') {
      this.probeSince = undefined;
      this.resetCounts();
      this.transition('closed', 'probe-succeeded', now);
      return this.current;
    }
    // Open: a straggler from before it opened. What it records here is reset before it can count
    // (open and half-open change only through `open` or a closing probe, which both reset the counts).
    this.consecutive = 0;
    this.record(false);
    return this.current;
  }

  /** Reports a failed call; returns the new state. */
  failure(now: number, pass?: BreakerPass): BreakerState {
    if (this.isStale(pass)) return this.current;
    if (this.current === 'half-open') {
      this.probeSince = undefined;
      this.open('probe-failed', now);
      return this.current;
    }
    if (this.current === 'open') return this.current;
    this.consecutive++;
    this.record(true);
    if (this.consecutive >= this.opts.consecutiveFailures) {
      this.open('consecutive-failures', now);
    } else if (
      this.window.length >= this.opts.windowSize &&
      this.windowFailures / this.window.length > this.opts.failureRateThreshold
    ) {
      this.open('failure-rate', now);
    }
    return this.current;
  }

  /**
   * Reports a call that ended saying nothing about the target's health (throttled, denied, a bad
   * request): counts nothing, but frees the half-open probe slot so the next call can probe at once.
   */
  release(_now: number, pass?: BreakerPass): BreakerState {
    // Only a half-open breaker has a probe in flight (probeSince is undefined in the other states).
    if (!this.isStale(pass)) this.probeSince = undefined;
    return this.current;
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: BreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private open(reason: BreakerTransitionReason, now: number): void {
    this.openedAtMs = now;
    this.lastOpenReason = reason;
    this.resetCounts();
    this.transition('open', reason, now);
  }

  private transition(to: BreakerState, reason: BreakerTransitionReason, at: number): void {
    const from = this.current;
    this.current = to;
    this.epoch++;
    for (const l of this.listeners) {
      try {
        l({ from, to, reason, at });
      } catch {
        // A listener (telemetry) failing must not change the breaker's decision for this call.
      }
    }
  }

  private record(failed: boolean): void {
    // A ring: it fills from slot 0 (the window grows to windowSize), then overwrites the oldest.
    if (this.window[this.windowNext]) this.windowFailures--;
    this.window[this.windowNext] = failed;
    this.windowNext = (this.windowNext + 1) % this.opts.windowSize;
    if (failed) this.windowFailures++;
  }

  private resetCounts(): void {
    this.consecutive = 0;
    this.resetWindow();
  }

  private resetWindow(): void {
    this.window = [];
    this.windowNext = 0;
    this.windowFailures = 0;
  }
}

function resolve(o: BreakerOptions): Required<BreakerOptions> {
  const d = DEFAULTS.breaker;
  return {
    consecutiveFailures: o.consecutiveFailures ?? d.consecutiveFailures,
    failureRateThreshold: o.failureRateThreshold ?? d.failureRateThreshold,
    windowSize: o.windowSize ?? d.windowSize,
    openMs: o.openMs ?? d.openMs,
  };
}

export interface BreakerRegistryChange extends BreakerStateChange {
  readonly target: string;
  readonly version: string;
  /** How long the breaker stays open (its options when it changed). */
  readonly openMs: number;
}

/**
 * The breakers of one process, one per (target, version). Versions are the executed version
 * (`X-Amz-Executed-Version`) or the alias when Lambda picked and did not say.
 */
export class Breakers {
  private readonly byKey = new Map<string, CircuitBreaker>();
  private readonly listeners = new Set<(change: BreakerRegistryChange) => void>();

  constructor(private readonly defaults: BreakerOptions = {}) {}

  /** The breaker of (target, version), created closed on first use; `options` (the edge's policy) update it. */
  get(target: string, version: string, options?: BreakerOptions): CircuitBreaker {
    const key = `${target}\u0000${version}`;
    let b = this.byKey.get(key);
    if (!b) {
      const created = new CircuitBreaker({ ...this.defaults, ...options });
      created.onStateChange((c) => {
        for (const l of this.listeners) l({ ...c, target, version, openMs: created.options.openMs });
      });
      b = created;
      this.byKey.set(key, b);
    } else if (options && !sameOptions(b.options, { ...this.defaults, ...options })) {
      b.configure({ ...this.defaults, ...options });
    }
    return b;
  }

  /** The breaker of (target, version) if one exists (no creation). */
  peek(target: string, version: string): CircuitBreaker | undefined {
    return this.byKey.get(`${target}\u0000${version}`);
  }

  /**
   * The versions of `target` whose breakers are open now (for route choice). An open breaker whose
   * time is up is not ejected: it should get its probe.
   */
  ejected(target: string, now: number): Set<string> {
    const out = new Set<string>();
    const prefix = `${target}\u0000`;
    for (const [key, b] of this.byKey) {
      if (!key.startsWith(prefix)) continue;
      if (isEjected(b, now)) out.add(key.slice(prefix.length));
    }
    return out;
  }

  /** Subscribes to every breaker's state changes; returns the unsubscribe function. */
  onStateChange(listener: (change: BreakerRegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Why a breaker is open, for error messages ("5 failures in a row", "failure rate above 50% …"). */
export function describeOpen(b: CircuitBreaker, now: number): string {
  const o = b.options;
  const why =
    b.openReason === 'failure-rate'
      ? `failure rate above ${Math.round(o.failureRateThreshold * 100)}% of the last ${o.windowSize} calls`
      : b.openReason === 'probe-failed'
        ? 'its half-open probe failed'
        : `${o.consecutiveFailures} failures in a row`;
  const left = b.openedAt === undefined ? o.openMs : Math.max(0, b.openedAt + o.openMs - now);
  return b.state === 'half-open' ? `${why}; a probe is in flight` : `${why}; a probe goes through in ${left} ms`;
}

/** Open and still within its open time (a half-open breaker is not ejected: it needs its probe). */
export function isEjected(b: CircuitBreaker, now: number): boolean {
  return b.state === 'open' && b.openedAt !== undefined && now - b.openedAt < b.options.openMs;
}

function sameOptions(a: Required<BreakerOptions>, b: BreakerOptions): boolean {
  const r = resolve(b);
  return (
    a.consecutiveFailures === r.consecutiveFailures &&
    a.failureRateThreshold === r.failureRateThreshold &&
    a.windowSize === r.windowSize &&
    a.openMs === r.openMs
  );
}
