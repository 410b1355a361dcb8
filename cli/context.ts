/**
 * What every command gets: output streams, the environment, and lazy AWS access. Commands never
 * touch process.stdout or process.env directly, so tests run them in-process with captured output.
 */
import type { AwsFlags } from './args';
import { type AwsClients, awsClients } from './aws-clients';
import { outputGone } from './interrupt';
import { type DiscoveredMesh, discoverMesh } from './mesh-discovery';
import { wrapWords } from './table-format';
import { printableOutput } from './terminal-text';

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Whether stdout is a terminal: frames redraw in place and output may be coloured only there. */
  readonly tty: boolean;
  /**
   * The width output fits, in columns: COLUMNS when set to a whole number, else the terminal's when
   * stdout is one (tables and prose fit it; `mesh stat --wide` shows every column).
   */
  readonly columns?: number;
  /**
   * Writes one line (or block) to stdout, every control character in it but the CLI's colour shown as
   * its escape. `frame`: text a watched command already made printable, with the sequences that redraw
   * it in place (cli/watch.ts), written as it is.
   */
  out(text: string, frame?: 'frame'): void;
  /** Writes one line (or block) to stderr. */
  err(text: string): void;
  /** AWS clients for these flags (created on first use). */
  clients(flags: Pick<AwsFlags, 'region' | 'endpointUrl'>): AwsClients;
  /** Finds the mesh (ListFunctions by MESH_NAME), honouring --mesh. */
  discover(
    flags: Pick<AwsFlags, 'mesh' | 'region' | 'endpointUrl'>,
  ): Promise<{ mesh: DiscoveredMesh; clients: AwsClients }>;
}

/** A command module: `export async function run(args, ctx)`, resolving to an exit code. */
export interface CommandModule {
  run(args: string[], ctx: CliContext): Promise<number | undefined>;
}

export function processContext(
  overrides: Partial<Pick<CliContext, 'env' | 'cwd' | 'tty' | 'columns' | 'out' | 'err'>> = {},
): CliContext {
  const env = overrides.env ?? process.env;
  const out = overrides.out ?? lineWriter(process.stdout, outputGone);
  const err = overrides.err ?? lineWriter(process.stderr, () => undefined);
  const columns = overrides.columns ?? outputWidth(env);
  const ctx: CliContext = {
    env,
    cwd: overrides.cwd ?? process.cwd(),
    tty: overrides.tty ?? process.stdout.isTTY === true,
    columns,
    // Every line leaves through printableOutput: no value a command forgot to show as text reaches the terminal raw.
    out: (t, frame) => out(frame ? t : printableOutput(t)),
    // An error or a note is prose: it breaks between words at the width, a command in backticks kept whole.
    err: (t) => err(wrapWords(printableOutput(t), columns, '  ')),
    clients: (flags) => awsClients(flags, env),
    discover: async (flags) => {
      const clients = ctx.clients(flags);
      return { mesh: await discoverMesh(clients, flags.mesh), clients };
    },
  };
  return ctx;
}

/**
 * The width output fits: COLUMNS first, as ls and Python's shutil read it (`COLUMNS=80 mesh status |
 * less` fits 80 columns; bash sets COLUMNS without exporting it, so a pipe keeps whole lines), else
 * the terminal's. A COLUMNS that is no whole number is ignored.
 */
function outputWidth(env: NodeJS.ProcessEnv): number | undefined {
  const set = /^[1-9]\d{0,4}$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : undefined;
  // A terminal whose size is unknown (a pseudo-terminal nobody sized) says 0 columns: no width then.
  return set ?? ((process.stdout.isTTY && process.stdout.columns) || undefined);
}

/**
 * Writes lines to `stream` until its reader goes away (EPIPE: `mesh stat --json | head -1`), then drops
 * them and calls `gone` once. Unhandled, that error ended the process with a stack trace, and a rollout
 * with its canary left at its share.
 */
function lineWriter(stream: NodeJS.WriteStream, gone: () => void): (text: string) => void {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (!closed) gone();
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(`${text}\n`);
  };
}
