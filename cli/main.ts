/**
 * The `mesh` dispatcher: picks the command, loads its module on demand (so `mesh --help` loads no
 * AWS SDK), and turns failures into one line on stderr and an exit code (2 bad input, 1 AWS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean } from '../shared/suggest';
import { printableLines } from '../shared/terminal-text';
import { type CliContext, type CommandModule, processContext } from './context';
import { EXIT } from './errors';
import { COMMAND_HELP, MAIN_HELP } from './help';
import { fitHelp } from './help-fit';

/** Command name -> its module, required when the command runs (so `mesh --help` loads no AWS SDK). */
const COMMANDS: Readonly<Record<string, () => CommandModule>> = {
  status: () => require('./commands/status'),
  shift: () => require('./commands/shift'),
  promote: () => require('./commands/promote'),
  rollback: () => require('./commands/rollback'),
  rollout: () => require('./commands/rollout'),
  policy: () => require('./commands/policy'),
  local: () => require('./commands/local'),
  stat: () => require('./commands/stat'),
  trace: () => require('./commands/trace'),
  tap: () => require('./commands/tap'),
  check: () => require('./commands/check'),
};

/** Commands whose module prints its own, fuller help (`mesh help <command>` runs `<command> --help`). */
const OWN_HELP = new Set(['stat', 'trace', 'tap', 'check', 'rollout']);

/** The words that ask for help, as a command or as `mesh help`'s topic. */
const HELP_WORDS = new Set(['--help', '-h', 'help']);

export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || HELP_WORDS.has(first)) {
    // `mesh help --help` (or `-h`, or `help`) asks for help about help: the main help.
    const topic = first === 'help' && !HELP_WORDS.has(rest[0] ?? '') ? rest[0] : undefined;
    if (topic === undefined) {
      ctx.out(fitHelp(MAIN_HELP, ctx.columns));
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (!(topic in COMMANDS)) return usage(ctx, unknownCommand(topic));
    if (OWN_HELP.has(topic)) return main([topic, '--help'], ctx);
    ctx.out(fitHelp(COMMAND_HELP[topic], ctx.columns));
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    ctx.out(packageVersion());
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!load) return usage(ctx, unknownCommand(first));
  try {
    const code = await load().run([...rest], ctx);
    return typeof code === 'number' ? code : EXIT.ok;
  } catch (err) {
    const e = err as { exitCode?: number; message?: string };
    if (typeof e.exitCode === 'number') {
      // `mesh policy set: ...` names the subcommand too.
      const name =
        first === 'policy' && /^(list|allow|deny|set|delete)$/.test(rest[0] ?? '') ? `${first} ${rest[0]}` : first;
      // The message may quote what others wrote: service names, AWS's error text.
      ctx.err(`mesh ${name}: ${printableLines(String(e.message))}`);
      return e.exitCode;
    }
    throw err;
  }
}

/** The package's version: package.json sits one folder up from cli/ here, two up from the package's dist/cli. */
function packageVersion(): string {
  for (const file of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

function unknownCommand(name: string): string {
  return `unknown command ${JSON.stringify(name)}${didYouMean(name, Object.keys(COMMANDS))}; run \`mesh --help\` for the list`;
}

function usage(ctx: CliContext, message: string): number {
  ctx.err(`mesh: ${message}`);
  return EXIT.usage;
}
