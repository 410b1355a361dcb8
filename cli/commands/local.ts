/**
 * `mesh local`: synthesizes the CDK app in this folder and serves it as a local mesh
 * (local/mesh-local.ts, required only when this command runs: it loads the local endpoint and dynalite).
 * Synthesis runs the app directly (local/watch/app-synth.ts), as `npm start` does, with the local
 * mesh's account and region. With `--watch`, every edit of the app's sources is synthesized again and
 * deployed into the running mesh (local/watch).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppSynthOptions } from '../../local/watch/app-synth';
import type { BundleIndex } from '../../local/watch/bundle-index';
import { expectPositionals, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { CommandError, UsageError } from '../errors';
import { COMMAND_HELP } from '../help';

const OPTIONS = {
  app: { type: 'string' },
  port: { type: 'string' },
  assembly: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  context: { type: 'string', short: 'c', multiple: true },
  quiet: { type: 'boolean' },
  watch: { type: 'boolean' },
  'deployment-speed': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface LocalOptions {
  readonly app?: string;
  readonly port?: number;
  /** Existing assemblies to serve; empty = synthesize into `output`. */
  readonly assemblies: readonly string[];
  readonly output: string;
  /** `key=value` pairs passed to `cdk synth -c`. */
  readonly context: readonly string[];
  readonly quiet: boolean;
  /** Synthesize and deploy again on every edit. */
  readonly watch: boolean;
  /** Gated deployments (and their alarms) run this many times faster than CodeDeploy. */
  readonly deploymentSpeed: number;
}

/** Pure: flags -> options; a bad port names the value. */
export function parseLocalArgs(args: readonly string[]): LocalOptions | 'help' {
  const { values, positionals } = parseCommandArgs('local', args, OPTIONS);
  if (values.help) return 'help';
  expectPositionals('local', positionals, []);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) {
      throw new UsageError(`--port ${JSON.stringify(values.port)} is not a port number; use 0-65535, e.g. --port 4566`);
    }
  }
  const context = (values.context as string[] | undefined) ?? [];
  for (const c of context) {
    if (!/^[^=\s]+=.*$/.test(c))
      throw new UsageError(`--context ${JSON.stringify(c)} must be key=value, e.g. -c release=1`);
  }
  if (values.app !== undefined && values.assembly !== undefined) {
    throw new UsageError(
      '--app and --assembly exclude each other: --app synthesizes, --assembly serves what is already synthesized',
    );
  }
  if (values.watch && values.assembly !== undefined) {
    throw new UsageError('--watch synthesizes the app on every edit: drop --assembly, or drop --watch');
  }
  const rawSpeed = values['deployment-speed'];
  const deploymentSpeed = rawSpeed === undefined ? 1 : Number(rawSpeed);
  if (!(deploymentSpeed > 0 && deploymentSpeed <= 600)) {
    throw new UsageError(
      `--deployment-speed ${JSON.stringify(rawSpeed)} must be a number above 0 and at most 600 (1 = CodeDeploy's own pace)`,
    );
  }
  return {
    app: values.app,
    port,
    assemblies: (values.assembly as string[] | undefined) ?? [],
    output: values.output ?? 'cdk.out',
    context,
    quiet: values.quiet === true,
    watch: values.watch === true,
    deploymentSpeed,
  };
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const opts = parseLocalArgs(args);
  if (opts === 'help') {
    ctx.out(COMMAND_HELP.local);
    return 0;
  }
  const { assemblies, index } = await assembliesToServe(opts, ctx);
  const { startLocalMesh } = require('../../local/mesh-local') as typeof import('../../local/mesh-local');
  const mesh = await startLocalMesh({
    assemblies,
    port: opts.port,
    host: '127.0.0.1',
    quiet: opts.quiet,
    deploymentSpeed: opts.deploymentSpeed,
  });
  ctx.out(`local mesh running at ${mesh.url}`);
  ctx.out(`  export AWS_ENDPOINT_URL=${mesh.url}   # then: mesh status, aws lambda list-functions, ...`);
  const watch = opts.watch
    ? (require('../../local/watch/watch-app') as typeof import('../../local/watch/watch-app')).watchApp({
        ...localApp(opts, ctx),
        outdir: assemblies[0]!,
        index,
        apply: (dir, options) => mesh.apply(dir, options),
        log: (line) => ctx.err(`mesh local: watch: ${line}`),
      })
    : undefined;
  await stopSignal();
  ctx.err('mesh local: stopping');
  await watch?.close();
  await mesh.stop();
  return 0;
}

/**
 * The assemblies `--assembly` names, or the app synthesized into `--output` (with `--watch`, recorded
 * so that a code edit can be rebundled alone).
 */
async function assembliesToServe(
  opts: LocalOptions,
  ctx: CliContext,
): Promise<{ assemblies: string[]; index?: BundleIndex }> {
  const given = opts.assemblies.map((a) => resolve(ctx.cwd, a));
  for (const a of given) {
    if (!existsSync(a))
      throw new UsageError(`--assembly ${a} does not exist; synthesize it first (npx cdk synth -o ${a})`);
  }
  if (given.length > 0) return { assemblies: given };
  if (!opts.app && !existsSync(resolve(ctx.cwd, 'cdk.json'))) {
    throw new UsageError(`no cdk.json in ${ctx.cwd}; run \`mesh local\` in a CDK app's folder or pass --app "<cmd>"`);
  }
  const outdir = resolve(ctx.cwd, opts.output);
  // Synth chatter stays out of stdout: it carries only the endpoint URL, for scripts.
  ctx.err(`mesh local: synthesizing the app into ${opts.output}`);
  try {
    if (opts.watch) {
      const { synthForWatch } = require('../../local/watch/watch-app') as typeof import('../../local/watch/watch-app');
      return { assemblies: [outdir], index: await synthForWatch(localApp(opts, ctx), outdir) };
    }
    const { synthApp } = require('../../local/watch/app-synth') as typeof import('../../local/watch/app-synth');
    await synthApp(localApp(opts, ctx), outdir);
    return { assemblies: [outdir] };
  } catch (err) {
    throw new CommandError(`${(err as Error).message}\nfix the app and run again`);
  }
}

/** Resolves on the first SIGINT or SIGTERM (Ctrl-C stops everything, exit 0). */
function stopSignal(): Promise<void> {
  return new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The app `mesh local` synthesizes: this folder's, `--app` if given, `-c` pairs as context. */
export function localApp(opts: LocalOptions, ctx: Pick<CliContext, 'cwd' | 'env'>): AppSynthOptions {
  return {
    root: ctx.cwd,
    app: opts.app,
    context: Object.fromEntries(opts.context.map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)])),
    env: ctx.env,
  };
}
