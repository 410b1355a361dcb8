/**
 * The `mesh` dispatcher: picks the command, loads its module on demand (so `mesh --help` loads no
 * AWS SDK), and turns failures into one line on stderr and an exit code (2 bad input, 1 AWS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliContext, type CommandModule, processContext } from './context';
import { EXIT } from './errors';
import { COMMAND_HELP, MAIN_HELP } from './help';

/** Command name -> loader. stat/trace/check are engineer G's modules. */
const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  status: async () => require('./commands/status'),
  shift: async () => require('./commands/shift'),
  promote: async () => require('./commands/promote'),
  rollback: async () => require('./commands/rollback'),
  rollout: async () => require('./commands/rollout'),
  policy: async () => require('./commands/policy'),
  local: async () => require('./commands/local'),
  stat: () => loadOptional('./commands/stat'),
  trace: () => loadOptional('./commands/trace'),
  check: () => loadOptional('./commands/check'),
};

const OPTIONAL = new Set(['stat', 'trace', 'check']);
/** Commands whose module prints its own help (`mesh help <command>` runs `<command> --help`). */
const OWN_HELP = new Set([...OPTIONAL, 'rollout']);

class NotAvailable extends Error {}

async function loadOptional(path: string): Promise<CommandModule> {
  let mod: Partial<CommandModule>;
  try {
    mod = require(path) as Partial<CommandModule>;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') throw new NotAvailable(path);
    throw err;
  }
  if (typeof mod.run !== 'function') throw new NotAvailable(path);
  return mod as CommandModule;
}

export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      ctx.out(MAIN_HELP);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (!(topic in COMMANDS))
      return usage(ctx, `unknown command ${JSON.stringify(topic)}; run \`mesh --help\` for the list`);
    // G's commands print their own, fuller help.
    if (OWN_HELP.has(topic)) return main([topic, '--help'], ctx);
    ctx.out(COMMAND_HELP[topic]);
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    ctx.out(packageVersion());
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!load) return usage(ctx, `unknown command ${JSON.stringify(first)}; run \`mesh --help\` for the list`);
  try {
    const mod = await load();
    const code = await mod.run([...rest], ctx);
    return typeof code === 'number' ? code : EXIT.ok;
  } catch (err) {
    if (err instanceof NotAvailable) {
      ctx.err(`mesh ${first} is not available in this build (${err.message}.ts is missing); see \`mesh --help\``);
      return EXIT.failure;
    }
    const e = err as { exitCode?: number; message?: string };
    if (typeof e.exitCode === 'number') {
      // `mesh policy set: ...` names the subcommand too.
      const name = first === 'policy' && /^(list|allow|deny|set)$/.test(rest[0] ?? '') ? `${first} ${rest[0]}` : first;
      ctx.err(`mesh ${name}: ${e.message}`);
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

function usage(ctx: CliContext, message: string): number {
  ctx.err(`mesh: ${message}`);
  return EXIT.usage;
}
