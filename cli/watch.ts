/**
 * `--watch` for the commands that show a state (`mesh status`, `mesh stat`): one frame every interval
 * until Ctrl-C (exit 0) or `--count` frames. On a terminal the frame is redrawn in place: the cursor goes
 * home and each line overwrites the last frame's, cleared to its end, then whatever the old frame had
 * below is cleared; nothing is blanked first, so nothing flickers. Piped (a file, `grep`, `tee`), frames
 * are appended, each under a separator line that carries its time. `--json` prints one object a line.
 */
import { formatDuration } from '../shared/telemetry/duration';
import { countFlag, durationFlag } from './args';
import type { CliContext } from './context';
import { UsageError } from './errors';
import { sleep, untilCtrlC } from './interrupt';
import { printableOutput } from './terminal-text';

/** What a frame on a terminal writes to redraw in place: home, clear to line end, below, the screen. */
export const FRAME = { home: '\x1b[H', clearLineEnd: '\x1b[K', clearBelow: '\x1b[J', clearScreen: '\x1b[2J' } as const;

/** The flags `--watch` brings (parseArgs options). */
export const WATCH_OPTIONS = {
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  count: { type: 'string' },
} as const;

export interface WatchSettings {
  readonly intervalMs: number;
  /** Stop after this many frames; undefined = until Ctrl-C. */
  readonly count?: number;
}

/** The watch settings out of parsed flags; undefined without --watch (and then --interval/--count are refused). */
export function watchSettings(
  command: string,
  values: { watch?: boolean; interval?: string; count?: string },
): WatchSettings | undefined {
  const intervalMs = durationFlag(command, 'interval', values.interval, 2_000, 3_600_000);
  const count = countFlag(command, 'count', values.count, 1_000_000);
  if (!values.watch) {
    if (values.interval !== undefined || count !== undefined)
      throw new UsageError(`--interval and --count only apply with --watch; see \`mesh ${command} --help\``);
    return undefined;
  }
  return { intervalMs, ...(count !== undefined ? { count } : {}) };
}

/** How a frame is written: redrawn in place on a terminal, appended under a separator when piped, bare as JSON. */
export type FrameMode = 'tty' | 'append' | 'json';

/**
 * Pure: the text one `ctx.out` call writes for a frame (`out` adds the final newline). `at` and the
 * interval go in the frame's first line, so an operator sees it refresh and a log shows when it was read.
 * On a terminal the frame's lines are made printable here, since its redraw sequences must pass.
 */
export function frameText(body: string, mode: FrameMode, at: Date, intervalMs: number): string {
  if (mode === 'json') return body;
  const stamp = `${at.toISOString()}  (every ${formatDuration(intervalMs)}, Ctrl-C to stop)`;
  if (mode === 'append') return `--- ${stamp}\n${body}`;
  const lines = printableOutput(`${stamp}\n\n${body}`).split('\n');
  return `${FRAME.home}${lines.join(`${FRAME.clearLineEnd}\n`)}${FRAME.clearLineEnd}${FRAME.clearBelow}`;
}

/** Runs `frame` every `intervalMs` and writes what it returns until Ctrl-C or `count` frames. */
export async function watchLoop(
  ctx: CliContext,
  settings: WatchSettings,
  mode: FrameMode,
  frame: () => Promise<string>,
): Promise<void> {
  // A terminal starts from a blank screen once; the frames that follow overwrite it in place.
  if (mode === 'tty') ctx.out(FRAME.clearScreen, 'frame');
  await untilCtrlC(async (stopped) => {
    for (let i = 0; !stopped.aborted && (settings.count === undefined || i < settings.count); i++) {
      if (i > 0) await sleep(settings.intervalMs, stopped);
      if (stopped.aborted) break;
      const body = await frame();
      ctx.out(frameText(body, mode, new Date(), settings.intervalMs), mode === 'tty' ? 'frame' : undefined);
    }
  });
}

/** JSON is a stream of objects; text is redrawn on a terminal and appended elsewhere. */
export function frameMode(ctx: Pick<CliContext, 'tty'>, flags: { readonly json: boolean }): FrameMode {
  return flags.json ? 'json' : ctx.tty ? 'tty' : 'append';
}
