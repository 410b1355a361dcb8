/**
 * The `mesh` CLI run inside the test's own process: main() with a context whose output is captured.
 * Commands read the environment and write their output only through the context (cli/context.ts), so a
 * run here prints what `mesh <args>` piped prints with the same environment, without starting Node,
 * loading the CLI and its AWS SDK clients again for each command.
 */
import { processContext } from '../../cli/context';
import { main } from '../../cli/main';

export interface InProcessRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `mesh <args>` with `env` as its environment and stdout a pipe. */
export async function meshInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<InProcessRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = processContext({ env, tty: false, out: (t) => out.push(t), err: (t) => err.push(t) });
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
