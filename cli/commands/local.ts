/**
 * `mesh local`: synthesizes the CDK app in this folder and serves it as a local mesh
 * (local/mesh-local.ts, required only when this command runs: it loads the local endpoint and dynalite).
 * With `--watch`, every edit of the app's sources is synthesized again and deployed into the running
 * mesh (local/watch), so synthesis runs the app directly, the same way each time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** The synth command line; `npx` finds the project's own cdk. */
export function synthCommand(opts: LocalOptions): string[] {
  return [
    'cdk',
    'synth',
    '-q',
    '--output',
    opts.output,
    ...(opts.app ? ['--app', opts.app] : []),
    ...opts.context.flatMap((c) => ['-c', c]),
  ];
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const opts = parseLocalArgs(args);
  if (opts === 'help') {
    ctx.out(COMMAND_HELP.local);
    return 0;
  }
  let assemblies = opts.assemblies.map((a) => resolve(ctx.cwd, a));
  let index: import('../../local/watch/bundle-index').BundleIndex | undefined;
  for (const a of assemblies) {
    if (!existsSync(a))
      throw new UsageError(`--assembly ${a} does not exist; synthesize it first (npx cdk synth -o ${a})`);
  }
  if (assemblies.length === 0) {
    if (!opts.app && !existsSync(resolve(ctx.cwd, 'cdk.json'))) {
      throw new UsageError(`no cdk.json in ${ctx.cwd}; run \`mesh local\` in a CDK app's folder or pass --app "<cmd>"`);
    }
    if (opts.watch) {
      // The same synthesis each round, recorded so that a code edit can be rebundled alone.
      const { synthForWatch } = require('../../local/watch/watch-app') as typeof import('../../local/watch/watch-app');
      ctx.err(`mesh local: synthesizing the app into ${opts.output}`);
      try {
        index = await synthForWatch(watchedApp(opts, ctx), resolve(ctx.cwd, opts.output));
      } catch (err) {
        throw new CommandError(`${(err as Error).message}\nfix the app and run again`);
      }
    } else {
      const argv = synthCommand(opts);
      ctx.err(`mesh local: npx ${argv.join(' ')}`);
      // Synth chatter goes to stderr: stdout carries only the endpoint URL, for scripts.
      const res = spawnSync('npx', argv, { cwd: ctx.cwd, stdio: ['ignore', 2, 2], env: ctx.env });
      if (res.status !== 0)
        throw new CommandError(`cdk synth failed (exit ${res.status ?? res.signal}); fix the app and run again`);
    }
    assemblies = [resolve(ctx.cwd, opts.output)];
  }
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
        ...watchedApp(opts, ctx),
        outdir: assemblies[0]!,
        index,
        apply: (dir, options) => mesh.apply(dir, options),
        log: (line) => ctx.err(`mesh local: watch: ${line}`),
      })
    : undefined;
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  ctx.err('mesh local: stopping');
  await watch?.close();
  await mesh.stop();
  return 0;
}

/** The app `--watch` synthesizes: this folder's, `--app` if given, `-c` pairs as context. */
function watchedApp(opts: LocalOptions, ctx: CliContext) {
  return {
    root: ctx.cwd,
    app: opts.app,
    context: Object.fromEntries(opts.context.map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)])),
    env: ctx.env,
  };
}
