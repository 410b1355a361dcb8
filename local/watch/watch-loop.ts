/**
 * The local mesh's watch mode (`npm start -- --watch`, `mesh local --watch`): every batch of edits of
 * the app's sources is deployed into the running mesh (`deploy`: see watch-app.ts) — new code and
 * configuration on $LATEST, a new version where the stack publishes one, aliases and their weights,
 * policy items — without restarting the endpoint or losing the table, the secrets or the telemetry.
 * Edits made while a round runs are picked up by the next round. A round that fails (a syntax error)
 * is reported and the running deployment keeps serving. This file schedules and reports the rounds.
 */
import type { DeploymentReport } from '../assembly/deployment';
import { type WatchPatterns, watchSources } from './source-watcher';

/** How a round was deployed: a rebundle of the edited functions alone, or the app synthesized. */
export type RoundMode = 'hotswap' | 'synth';

export interface RoundResult {
  readonly report: DeploymentReport;
  readonly mode: RoundMode;
  /** Time to rebundle or synthesize. */
  readonly buildMs: number;
  readonly deployMs: number;
}

export interface WatchOptions {
  /** The app's folder. */
  readonly root: string;
  readonly patterns: WatchPatterns;
  /** Deploys a batch of edited files (relative to root) into the mesh. */
  readonly deploy: (files: readonly string[]) => Promise<RoundResult>;
  readonly log: (line: string) => void;
  /** Quiet time that ends a batch of edits. @default 150 */
  readonly debounceMs?: number;
}

/** One round: an edit batch built and deployed (or the error that stopped it). */
export interface WatchRound {
  readonly files: readonly string[];
  readonly mode?: RoundMode;
  /** Functions whose code or configuration changed. */
  readonly changed: readonly string[];
  readonly versions: readonly string[];
  readonly buildMs: number;
  readonly deployMs: number;
  /** From the first edit seen to the deployment applied. */
  readonly totalMs: number;
  readonly error?: string;
}

export interface Watch {
  readonly rounds: readonly WatchRound[];
  /** Also watch these files outside the app's folder (source-watcher.ts `follow`). */
  follow(files: readonly string[]): void;
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
    const result = await deployRound(options, files, since);
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
    follow: (files) => watcher.follow(files),
    onRound: (l) => listeners.push(l),
    async close() {
      closed = true;
      watcher.close();
      await running;
    },
  };
}

/** Deploys one batch of edits and says how it went; a failure is a round with its error, not a throw. */
async function deployRound(
  options: Pick<WatchOptions, 'deploy' | 'log'>,
  files: string[],
  since: number,
): Promise<WatchRound> {
  try {
    const { report, mode, buildMs, deployMs } = await options.deploy(files);
    const result: WatchRound = {
      files,
      mode,
      changed: report.functions.filter((f) => f.changed).map((f) => f.name),
      versions: report.versions.map((v) => `${v.functionName}:${v.version}`),
      buildMs,
      deployMs,
      totalMs: Date.now() - since,
    };
    options.log(
      `redeployed after ${describe(files)} in ${seconds(result.totalMs)} (${mode === 'hotswap' ? 'rebundle' : 'synth'} ${seconds(buildMs)}, deploy ${seconds(deployMs)}): ` +
        (result.changed.length > 0 ? `changed ${result.changed.join(', ')}` : 'no function changed'),
    );
    return result;
  } catch (err) {
    const error = (err as Error).message;
    options.log(`not redeployed after ${describe(files)}; the running deployment keeps serving:\n${error}`);
    return { files, changed: [], versions: [], buildMs: 0, deployMs: 0, totalMs: Date.now() - since, error };
  }
}

function describe(files: readonly string[]): string {
  return files.length === 1
    ? files[0]!
    : `${files.length} files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
