/**
 * `mesh local`: synthesizes the CDK app in this folder and serves it as a local mesh
 * (local/mesh-local.ts, required only when this command runs: it loads the local endpoint and dynalite).
 * Synthesis runs the app directly (local/watch/app-synth.ts), as `npm start` does, with the local
 * mesh's account and region. With `--watch`, every edit of the app's sources is synthesized again and
 * deployed into the running mesh (local/watch).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import {
  checkLocalMeshFlags,
  DEFAULT_LOCAL_PORT,
  LOCAL_MESH_FLAGS,
  LocalFlagError,
  type LocalMeshFlags,
  type RawLocalMeshFlags,
} from '../../local/local-flags';
import type { AppSynthOptions } from '../../local/watch/app-synth';
import type { BundleIndex } from '../../local/watch/bundle-index';
import { expectPositionals, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { CommandError, UsageError } from '../errors';
import { COMMAND_HELP } from '../help';
import { fitHelp } from '../help-fit';

const OPTIONS = {
  ...LOCAL_MESH_FLAGS,
  app: { type: 'string' },
  output: { type: 'string', short: 'o' },
  context: { type: 'string', short: 'c', multiple: true },
  stage: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

export interface LocalOptions extends LocalMeshFlags {
  readonly app?: string;
  /** Where the app is synthesized when no `assemblies` are given. */
  readonly output: string;
  /** `key=value` pairs passed to `cdk synth -c`. */
  readonly context: readonly string[];
  /** The CDK Stage to serve (its path, `Dev` or `Pipeline/Dev`); without it, every stack of the app. */
  readonly stage?: string;
  readonly quiet: boolean;
}

/** Pure: flags -> options; a bad port names the value. */
export function parseLocalArgs(args: readonly string[]): LocalOptions | 'help' {
  const { values, positionals } = parseCommandArgs('local', args, OPTIONS);
  if (values.help) return 'help';
  expectPositionals('local', positionals, []);
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
  return {
    ...sharedFlags(values as RawLocalMeshFlags),
    app: values.app,
    output: values.output ?? 'cdk.out',
    context,
    ...(values.stage === undefined ? {} : { stage: values.stage }),
    quiet: values.quiet === true,
  };
}

/** The flags `npm start` shares, at CodeDeploy's own pace unless told otherwise. */
function sharedFlags(values: RawLocalMeshFlags): LocalMeshFlags {
  try {
    return checkLocalMeshFlags(values, 'the app', 1);
  } catch (err) {
    if (err instanceof LocalFlagError) throw new UsageError(err.message);
    throw err;
  }
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const opts = parseLocalArgs(args);
  if (opts === 'help') {
    ctx.out(fitHelp(COMMAND_HELP.local, ctx.columns));
    return 0;
  }
  const port = opts.port ?? DEFAULT_LOCAL_PORT;
  await checkPortFree(port);
  const { assemblies, index } = await assembliesToServe(opts, ctx);
  const local = require('../../local/mesh-local') as typeof import('../../local/mesh-local');
  const mesh = await local
    .startLocalMesh({
      assemblies,
      stage: opts.stage,
      port,
      host: LOCAL_HOST,
      quiet: opts.quiet,
      deploymentSpeed: opts.deploymentSpeed,
      enforceIam: opts.enforceIam,
    })
    .catch((err: NodeJS.ErrnoException) => {
      // What of the app the local mesh can serve: a stage the app lacks, stacks in two accounts.
      if (err instanceof local.StageNotFoundError) throw new UsageError(err.message);
      if (err instanceof local.AssemblyScopeError) throw new CommandError(err.message);
      // Taken while the app synthesized.
      throw err.code === 'EADDRINUSE' ? portTaken(port) : err;
    });
  ctx.out([`local mesh running at ${mesh.url}`, ...regionHints(mesh.url, mesh.regionStacks)].join('\n'));
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
 * Pure: which region to point clients at, under the URL. The stacks' region (us-east-1 for stacks that
 * name none): a client signing for another region finds none of their functions. With stacks in
 * several regions, the exports name the first (home) region, and each region follows with its stacks
 * and how to reach it.
 */
export function regionHints(url: string, regions: readonly { region: string; stacks: readonly string[] }[]): string[] {
  const home = regions[0]!.region;
  // Credentials too: without any configured, the AWS CLI and SDKs refuse to sign; the local mesh takes any.
  const exports = `  export AWS_ENDPOINT_URL=${url} AWS_REGION=${home} AWS_DEFAULT_REGION=${home} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test   # then: mesh status, aws lambda list-functions, ...`;
  if (regions.length < 2) return [exports];
  const width = Math.max(...regions.map((r) => r.region.length));
  return [
    exports,
    `  the stacks are in ${regions.length} regions; a client finds a stack's functions in its region only:`,
    ...regions.map(
      (r, i) =>
        `    ${r.region.padEnd(width)}  ${r.stacks.join(', ')}${i === 0 ? '  (the exports above)' : `  (AWS_REGION=${r.region}, or --region ${r.region})`}`,
    ),
  ];
}

/** Where the local mesh listens: loopback only. */
const LOCAL_HOST = '127.0.0.1';

/**
 * Refuses a port another process holds before the app is synthesized (seconds to a minute of tsc and
 * bundling), not after. Port 0 takes whatever port is free.
 */
async function checkPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((listening, failed) => {
      probe.once('error', failed);
      probe.listen(port, LOCAL_HOST, listening);
    });
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portTaken(port) : err;
  }
  await new Promise<void>((closed) => probe.close(() => closed()));
}

function portTaken(port: number): CommandError {
  return new CommandError(
    `port ${port} is held by another process (a local mesh or LocalStack already running?); stop it, or pass --port <another port> (--port 0 takes a free one)`,
  );
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
    if (!isAssembly(a))
      throw new UsageError(
        `--assembly ${a} holds no cloud assembly (no manifest.json); synthesize one into it first (npx cdk synth -o ${a})`,
      );
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

/** A folder a cloud assembly was synthesized into: it has the assembly's manifest. */
function isAssembly(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json'));
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
