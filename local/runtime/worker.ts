/**
 * One execution environment: a forked Node process running worker-bootstrap.js with Lambda's
 * environment. One invocation at a time. The process's stdout/stderr are read as Lambda reads them, in
 * log events: a console call is one event (its newlines inside it), raw output one event per line. Each
 * event goes to the current invocation's log (for X-Amz-Log-Result) and to `onLine` (EMF, log sinks).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface WorkerOptions {
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly memorySize: number;
  /** One log event (it may hold newlines: a console call's message). */
  readonly onLine: (event: string, stream: 'stdout' | 'stderr') => void;
  /** Which events reach the log (Lambda's log-level filtering); every one when absent. */
  readonly keep?: (event: string) => boolean;
}

export interface WorkerInvocation {
  readonly id: string;
  readonly payload: string;
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
  readonly traceId?: string;
}

/** The environment's peak memory by the end of an invocation, MB (what the REPORT line says it used). */
interface UsedMemory {
  readonly maxMemoryMb?: number;
}

export type WorkerOutcome =
  | ({ readonly kind: 'result'; readonly payload: string } & UsedMemory)
  | ({ readonly kind: 'error'; readonly error: Record<string, unknown>; readonly fatal?: boolean } & UsedMemory)
  | { readonly kind: 'initError'; readonly error: Record<string, unknown> }
  | ({ readonly kind: 'exit' } & ExitInfo);

type Message =
  | { type: 'ready'; initMs: number; maxRssKb?: number }
  | { type: 'initError'; error: Record<string, unknown> }
  | { type: 'result'; id: string; payload: string; maxRssKb?: number }
  | { type: 'error'; id: string; error: Record<string, unknown>; fatal?: boolean; maxRssKb?: number };

type ExitInfo = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The process aborted because its V8 heap reached the function's memory (`heapExhausted`). */
  readonly outOfMemory?: boolean;
};

/**
 * What Node writes to stderr when the V8 heap passes `--max-old-space-size` and no collection frees
 * enough (its OOM handler's `FATAL ERROR: <V8's reason> Allocation failed - JavaScript heap out of
 * memory`), just before it aborts the process.
 */
const HEAP_EXHAUSTED = /^FATAL ERROR: .*Allocation failed - JavaScript heap out of memory$/;

/**
 * Pure: whether a process that ended so ran out of memory: V8 said its heap was exhausted, and the
 * process then aborted as V8 aborts it (SIGABRT). A line alone, which a function may print, is not enough.
 */
export function heapExhausted(stderrLine: boolean, signal: NodeJS.Signals | null): boolean {
  return stderrLine && signal === 'SIGABRT';
}

const BOOTSTRAP = join(__dirname, 'worker-bootstrap.js');

/**
 * Pure: the log events one line of a worker's output holds, and the end mark of an invocation's output
 * if it is one. Raw output is an event per line, as Lambda splits stdout. After the mark, a tab and a
 * JSON string is one console event (worker-bootstrap.js `writeEvent`), a space and a request id the end
 * of that invocation's output. Raw text written without a newline before either is an event of its own.
 */
export function readOutputLine(line: string, mark: string): { events: string[]; end?: string } {
  const at = line.indexOf(mark);
  if (at < 0) return { events: [line] };
  const before = at > 0 ? [line.slice(0, at)] : [];
  const rest = line.slice(at + mark.length);
  if (rest.startsWith(' ')) return { events: before, end: rest.slice(1) };
  if (rest.startsWith('\t')) {
    try {
      const event: unknown = JSON.parse(rest.slice(1));
      if (typeof event === 'string') return { events: [...before, event] };
    } catch {
      // not a frame the bootstrap wrote: the line as written
    }
  }
  return { events: [line] };
}

/** Pure: the peak resident set (VmHWM, kB) that a /proc/<pid>/status text gives, if any. */
export function peakRssKbOf(status: string): number | undefined {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb);
}

export class Worker {
  readonly child: ChildProcess;
  /** Resolves with init duration in ms, the init error, or how the process ended during init. */
  readonly ready: Promise<{ initMs: number } | { error: Record<string, unknown> } | { exit: ExitInfo }>;
  busy = false;
  dead = false;
  invocations = 0;
  /** The environment's peak memory as last told (at init, with each answer, or read before a kill), kB. */
  private peakRssKb: number | undefined;
  /** V8 wrote that the heap is exhausted (HEAP_EXHAUSTED); the process is about to abort. */
  private heapLine = false;
  private log: string[] | undefined;
  private pending: ((o: WorkerOutcome) => void) | undefined;
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<void>;
  /** Ends each invocation's output on stdout and stderr (worker-bootstrap.js); no function prints it. */
  private readonly mark = `local-mesh-output-end-${randomUUID()}`;

  constructor(options: WorkerOptions) {
    this.child = fork(BOOTSTRAP, [this.mark], {
      cwd: options.cwd,
      env: options.env,
      // Explicit: never inherit the parent's loader flags (tsx); Lambda's heap tracks the memory setting.
      execArgv: [`--max-old-space-size=${options.memorySize}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: this.child[stream]! });
      rl.on('line', (line) => {
        const read = readOutputLine(line, this.mark);
        for (const event of read.events) {
          if (stream === 'stderr' && HEAP_EXHAUSTED.test(event)) this.heapLine = true;
          if (options.keep && !options.keep(event)) continue;
          this.log?.push(event);
          options.onLine(event, stream);
        }
        if (read.end !== undefined) this.marked(read.end);
      });
    }
    this.ready = new Promise((resolve) => {
      const onMessage = (m: Message) => {
        if (m.type === 'ready') resolve({ initMs: m.initMs });
        // A failed init's log line is read before it is answered, as an invocation's output is.
        else if (m.type === 'initError') this.afterOutput('init', () => resolve({ error: m.error }));
        else return;
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      // Ended during init: reported as Lambda reports any runtime exit (the invoker words it).
      this.child.once('exit', (code, signal) => setImmediate(() => resolve({ exit: this.exitOf(code, signal) })));
    });
    this.child.on('message', (m: Message) => {
      if ('maxRssKb' in m && m.maxRssKb !== undefined) this.peakRssKb = Math.max(this.peakRssKb ?? 0, m.maxRssKb);
      this.answered(m);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.dead = true;
        this.exitInfo = { code, signal };
        // Let the last output lines arrive before the exit is reported (V8's heap line among them).
        setImmediate(() => {
          this.exitInfo = this.exitOf(code, signal);
          const done = this.pending;
          this.pending = undefined;
          done?.({ kind: 'exit', ...this.exitInfo });
          resolve();
        });
      });
    });
    this.child.on('error', () => {
      /* reported through 'exit' */
    });
  }

  private exitOf(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
    return heapExhausted(this.heapLine, signal) ? { code, signal, outOfMemory: true } : { code, signal };
  }

  /** An invocation's answer: handed over once its output has been read (a fatal error's once the process ended). */
  private answered(m: Message): void {
    if ((m.type !== 'result' && m.type !== 'error') || !this.pending) return;
    const done = this.pending;
    this.pending = undefined;
    const used = m.maxRssKb === undefined ? {} : { maxMemoryMb: Math.ceil(m.maxRssKb / 1024) };
    const outcome: WorkerOutcome =
      m.type === 'result'
        ? { kind: 'result', payload: m.payload, ...used }
        : { kind: 'error', error: m.error, fatal: m.fatal, ...used };
    if (m.type === 'error' && m.fatal) done(outcome);
    else this.afterOutput(m.id, () => done(outcome));
  }

  /** The invocation whose output's end is awaited, how many of its two marks have come, and what then. */
  private ending: { id: string; marks: number; done?: () => void; timer?: NodeJS.Timeout } | undefined;

  /** Runs `done` once invocation `id`'s output has been read on both streams (or after 1 s, whatever came). */
  private afterOutput(id: string, done: () => void): void {
    const ending = this.ending?.id === id ? this.ending : { id, marks: 0 };
    this.ending = ending;
    ending.done = done;
    if (ending.marks >= 2) this.endOutput(ending);
    else ending.timer = setTimeout(() => this.endOutput(ending), 1_000);
  }

  private marked(id: string): void {
    if (this.ending?.id !== id) this.ending = { id, marks: 0 };
    if (++this.ending.marks >= 2 && this.ending.done) this.endOutput(this.ending);
  }

  private endOutput(ending: NonNullable<Worker['ending']>): void {
    clearTimeout(ending.timer);
    if (this.ending === ending) this.ending = undefined;
    const done = ending.done;
    ending.done = undefined;
    done?.();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * The environment's peak memory so far, MB: what a REPORT line says it used when the invocation gave
   * no answer (a crash, a timeout). A crashed process is gone, so its peak is the last one it told.
   */
  get maxMemoryMb(): number | undefined {
    return this.peakRssKb === undefined ? undefined : Math.ceil(this.peakRssKb / 1024);
  }

  /** Reads the live process's peak memory (Linux's /proc), before a kill takes it away. */
  private samplePeak(): void {
    try {
      const kb = peakRssKbOf(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      if (kb !== undefined) this.peakRssKb = Math.max(this.peakRssKb ?? 0, kb);
    } catch {
      // no /proc (another platform) or the process is gone: keep the last peak told
    }
  }

  /** Starts collecting this invocation's log lines. */
  beginLog(): void {
    this.log = [];
  }

  takeLog(): string[] {
    const l = this.log ?? [];
    this.log = undefined;
    return l;
  }

  invoke(inv: WorkerInvocation): Promise<WorkerOutcome> {
    if (this.dead) return Promise.resolve({ kind: 'exit', ...(this.exitInfo ?? { code: null, signal: null }) });
    return new Promise((resolve) => {
      this.pending = resolve;
      this.child.send({ type: 'invoke', ...inv }, (err) => {
        if (err && this.pending === resolve) {
          this.pending = undefined;
          resolve({ kind: 'exit', code: null, signal: null });
        }
      });
    });
  }

  /** SIGKILL (Lambda freezes then discards an environment; nothing inside gets a say) and wait for exit. */
  async kill(): Promise<void> {
    if (!this.dead) {
      this.samplePeak();
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
