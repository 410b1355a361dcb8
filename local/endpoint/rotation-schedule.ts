/**
 * Secrets Manager's rotation schedules, locally. A secret whose rotation is on with a `rate()` or
 * AutomaticallyAfterDays schedule (rotation-rules.ts) rotates when it falls due, its last rotation (or,
 * never rotated, its creation) plus the interval, by the path RotateSecret takes: a new AWSPENDING
 * version, the rotation function's four steps. A failed attempt leaves the labels as the failure left
 * them, as AWS does, and it is tried again an hour later (every schedule is 4 hours or more), where the
 * refusal of the unfinished rotation runs it again under its own token: Secrets Manager "retries the
 * entire rotation process multiple times" rather than waiting for the next schedule, and a 12-hour
 * identity rotation that waited 12 hours would leave a 24-hour certificate expiring. A `cron()` schedule is kept, not run, and said so once.
 *
 * One timer waits for the earliest rotation due across every region's store. It never keeps the process
 * alive (unref'd) and `close` clears it: a local mesh stops with nothing left behind.
 */
import type { ScheduledRotation, SecretStore } from './secret-store';

export interface RotationTimer {
  /**
   * Calls `run` once `ms` have passed (it resolves when the rotations it started have ended); returns
   * what cancels the call. Tests pass a simulated clock's timer, so days of schedule take no waiting.
   */
  set(run: () => Promise<void>, ms: number): () => void;
}

/**
 * A timer's longest wait. setTimeout's clock stops while the machine sleeps, so a laptop closed overnight
 * would rotate hours late, after its certificates expired; a wait of a minute at most notices the time
 * that passed, on the store's clock, within a minute of waking.
 */
const MAX_WAIT_MS = 60_000;

/** setTimeout, unref'd, a minute at most at a time. */
export const systemTimer: RotationTimer = {
  set(run, ms) {
    const t = setTimeout(() => void run(), Math.min(Math.max(ms, 0), MAX_WAIT_MS));
    t.unref();
    return () => clearTimeout(t);
  },
};

/** Starts a secret's scheduled rotation; resolves true once it succeeded, false once it failed. */
export type ScheduledStart = (secretArn: string) => Promise<boolean>;

export class RotationSchedule {
  private readonly stores = new Map<SecretStore, ScheduledStart>();
  /** The last scheduled attempt per secret ARN, ms: a failed one comes again an interval later. */
  private readonly attempts = new Map<string, number>();
  private readonly told = new Set<string>();
  private cancel: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly timer: RotationTimer,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs the schedules of `store`'s secrets, each started by `start`. */
  watch(store: SecretStore, start: ScheduledStart): void {
    if (this.stores.has(store)) return;
    this.stores.set(store, start);
    this.arm();
  }

  /** Waits for the earliest rotation due; call after anything that may have changed a schedule. */
  arm(): void {
    this.cancel?.();
    this.cancel = undefined;
    if (this.closed) return;
    let wait = Number.POSITIVE_INFINITY;
    for (const store of this.stores.keys()) {
      for (const r of this.scheduled(store)) wait = Math.min(wait, this.attemptAt(r) - store.now());
    }
    if (wait !== Number.POSITIVE_INFINITY) this.cancel = this.timer.set(() => this.runDue(), Math.max(wait, 0));
  }

  close(): void {
    this.closed = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Starts every rotation due, waits for them to end, and waits for the next. */
  private async runDue(): Promise<void> {
    this.cancel = undefined;
    if (this.closed) return;
    const started: Promise<void>[] = [];
    for (const [store, start] of this.stores) {
      for (const r of this.scheduled(store)) {
        if (this.attemptAt(r) <= store.now()) started.push(this.attempt(store, start, r));
      }
    }
    this.arm();
    await Promise.all(started);
    this.arm();
  }

  private async attempt(store: SecretStore, start: ScheduledStart, r: Scheduled): Promise<void> {
    this.attempts.set(r.arn, store.now());
    let ok = false;
    try {
      ok = await start(r.arn);
    } catch (err) {
      this.log(`scheduled rotation of ${r.name} did not start: ${(err as Error)?.message ?? err}`);
    }
    if (!ok && !this.closed) {
      const next = new Date(store.now() + RETRY_AFTER_FAILURE_MS).toISOString();
      this.log(`scheduled rotation of ${r.name} failed; its labels stay as they are and it is tried again at ${next}`);
    }
  }

  /** When a schedule is next attempted: when it falls due, and an hour after an attempt that failed. */
  private attemptAt(r: Scheduled): number {
    const last = this.attempts.get(r.arn);
    return last === undefined ? r.dueAt : Math.max(r.dueAt, last + RETRY_AFTER_FAILURE_MS);
  }

  /** The store's schedules the local mesh runs; says once of each one it does not (cron). */
  private scheduled(store: SecretStore): Scheduled[] {
    const out: Scheduled[] = [];
    for (const r of store.dueRotations()) {
      if (r.rule.kind === 'rate' && r.dueAt !== undefined) out.push({ ...r, dueAt: r.dueAt, everyMs: r.rule.everyMs });
      else if (r.rule.kind === 'cron') this.tellNotRun(r.arn, r.name, r.rule.expression);
    }
    return out;
  }

  private tellNotRun(arn: string, name: string, expression: string): void {
    if (this.told.has(`${arn} ${expression}`)) return;
    this.told.add(`${arn} ${expression}`);
    this.log(
      `secret ${name}: rotation schedule ${expression} is kept but not run (the local mesh runs rate() and ` +
        `AutomaticallyAfterDays schedules); rotate it with aws secretsmanager rotate-secret --secret-id ${name}`,
    );
  }
}

type Scheduled = ScheduledRotation & { readonly dueAt: number; readonly everyMs: number };

/** How long after a failed scheduled attempt the next comes. */
const RETRY_AFTER_FAILURE_MS = 3_600_000;
