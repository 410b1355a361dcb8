/**
 * The local mesh's watch mode (`npm start -- --watch`, `mesh local --watch`): on every edit of the app's
 * sources it synthesizes the app again and applies the new assembly as the next deployment — new code
 * and configuration on $LATEST, a new version where the stack publishes one, aliases and their weights,
 * policy items — without restarting the endpoint or losing the table, the secrets or the telemetry.
 * A deployment only touches what changed, so workers of unchanged functions stay warm. Edits made
 * while a round runs are picked up by the next round. A synthesis that fails (a syntax error) is
 * reported and the running deployment keeps serving.
 */
import type { DeploymentReport } from '../assembly/deployment';
import { type WatchPatterns, watchSources } from './source-watcher';

export interface WatchOptions {
  /** The app's folder. */
  readonly root: string;
  /** Where each round synthesizes to (the assembly the mesh serves). */
  readonly outdir: string;
  readonly patterns: WatchPatterns;
  readonly synth: (outdir: string) => Promise<void>;
  /** Applies an assembly as the next deployment (LocalMesh.apply). */
  readonly apply: (dir: string) => Promise<DeploymentReport>;
  readonly log: (line: string) => void;
  /** Quiet time that ends a batch of edits. @default 150 */
  readonly debounceMs?: number;
}

/** One round: an edit batch synthesized and deployed (or the error that stopped it). */
export interface WatchRound {
  readonly files: readonly string[];
  /** Functions whose code or configuration changed. */
  readonly changed: readonly string[];
  readonly versions: readonly string[];
  readonly synthMs: number;
  readonly deployMs: number;
  /** From the first edit seen to the deployment applied. */
  readonly totalMs: number;
  readonly error?: string;
}

export interface Watch {
  readonly rounds: readonly WatchRound[];
  /** Called after every round. */
  onRound(listener: (round: WatchRound) => void): void;
  /** Stops watching; waits for a round under way. */
  close(): Promise<void>;
}

export function startWatch(options: WatchOptions): Watch {
  const rounds: WatchRound[] = [];
  const listeners: ((r: WatchRound) => void)[] = [];
  let running: Promise<void> | undefined;
  let queued: { files: Set<string>; since: number } | undefined;
  let closed = false;

  const round = async (files: string[], since: number): Promise<void> => {
    const t0 = Date.now();
    let synthMs = 0;
    let result: WatchRound;
    try {
      await options.synth(options.outdir);
      synthMs = Date.now() - t0;
      const report = await options.apply(options.outdir);
      const deployMs = Date.now() - t0 - synthMs;
      result = {
        files,
        changed: report.functions.filter((f) => f.changed).map((f) => f.name),
        versions: report.versions.map((v) => `${v.functionName}:${v.version}`),
        synthMs,
        deployMs,
        totalMs: Date.now() - since,
      };
      options.log(
        `redeployed after ${describe(files)} in ${seconds(result.totalMs)} (synth ${seconds(synthMs)}, deploy ${seconds(deployMs)}): ` +
          (result.changed.length > 0 ? `changed ${result.changed.join(', ')}` : 'no function changed'),
      );
    } catch (err) {
      result = {
        files,
        changed: [],
        versions: [],
        synthMs,
        deployMs: 0,
        totalMs: Date.now() - since,
        error: (err as Error).message,
      };
      options.log(`not redeployed after ${describe(files)}; the running deployment keeps serving:\n${result.error}`);
    }
    rounds.push(result);
    for (const l of listeners) l(result);
  };

  const drain = async (files: string[], since: number): Promise<void> => {
    await round(files, since);
    while (queued && !closed) {
      const next = queued;
      queued = undefined;
      await round([...next.files].sort(), next.since);
    }
    running = undefined;
  };

  const watcher = watchSources(
    options.root,
    options.patterns,
    (files, since) => {
      if (closed) return;
      if (running) {
        queued ??= { files: new Set(), since };
        for (const f of files) queued.files.add(f);
        return;
      }
      running = drain(files, since);
    },
    options.debounceMs,
  );
  options.log(`watching ${options.root} for changes (${options.patterns.include.join(', ')})`);

  return {
    rounds,
    onRound: (l) => listeners.push(l),
    async close() {
      closed = true;
      watcher.close();
      await running;
    },
  };
}

function describe(files: readonly string[]): string {
  return files.length === 1
    ? files[0]!
    : `${files.length} files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
