/**
 * Synthesizes a CDK app into a cloud assembly by running the app itself, as the CDK CLI does: the app
 * command from cdk.json, the context from cdk.json, cdk.context.json and `-c` pairs in
 * CDK_CONTEXT_JSON, the output directory in CDK_OUTDIR, asset metadata on (the local mesh finds
 * function code by it). Without the CLI's own start-up, and with esbuild run directly
 * (esbuild-direct.cjs), a re-synthesis after an edit takes a few seconds instead of many.
 *
 * What `mesh local` and `npm start` both synthesize with, watching or not. An environment-agnostic
 * stack gets the local mesh's account and region (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION), never
 * the ones of the machine's AWS credentials: the ARNs it synthesizes name local resources.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../registry/function-registry';

export interface AppSynthOptions {
  /** The app's folder (where cdk.json is). */
  readonly root: string;
  /** The app command. @default cdk.json's `app` */
  readonly app?: string;
  /** Context on top of cdk.json's and cdk.context.json's (`-c key=value`). */
  readonly context?: Readonly<Record<string, string>>;
  /** Extra environment for the app. @default the local mesh's account and region as CDK_DEFAULT_* */
  readonly env?: NodeJS.ProcessEnv;
}

export interface SynthRun {
  /** Run CDK's built-in template validation. @default true */
  readonly validate?: boolean;
  /** Record what it takes to redo each function's bundle alone into this directory (esbuild-direct.cjs). */
  readonly record?: string;
}

/** What the CDK CLI puts in every app's context (asset metadata: where the local mesh finds code). */
const CLI_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:bundling-stacks': ['**'],
};

const PRELOAD = join(__dirname, 'esbuild-direct.cjs');

function readJson(file: string): Record<string, unknown> {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

/** cdk.json's `app` and the context an app sees. Pure apart from reading the two files. */
export function appSettings(options: AppSynthOptions): { app: string; context: Record<string, unknown> } {
  const cdkJson = readJson(join(options.root, 'cdk.json'));
  const app = options.app ?? (typeof cdkJson.app === 'string' ? cdkJson.app : undefined);
  if (!app) throw new Error(`no app to synthesize: ${join(options.root, 'cdk.json')} names none; pass --app "<cmd>"`);
  const context = {
    ...((cdkJson.context as Record<string, unknown> | undefined) ?? {}),
    ...readJson(join(options.root, 'cdk.context.json')),
    ...(options.context ?? {}),
    ...CLI_CONTEXT,
    // The CDK version in each stack's CDKMetadata resource, unless cdk.json turns it off, as the CLI
    // does: without it a stack with no resources of its own has an empty template, which the template
    // validation of cdk init's feature flags fails, and the app would synthesize under `cdk synth` only.
    'aws:cdk:version-reporting': cdkJson.versionReporting !== false,
  };
  return { app, context };
}

/**
 * The process that runs the app: `npx tsx <file>` and `node <file>` run in Node directly (one process,
 * esbuild preloaded); any other command through the shell, with the preload in NODE_OPTIONS.
 */
export function appCommand(app: string): { command: string; args: string[]; shell: boolean } {
  const tsx = /^npx\s+(?:--\S+\s+)*tsx\s+(\S+)$/.exec(app.trim());
  if (tsx) return { command: process.execPath, args: ['--require', PRELOAD, '--import', 'tsx', tsx[1]!], shell: false };
  const node = /^node\s+(\S+)$/.exec(app.trim());
  if (node) return { command: process.execPath, args: ['--require', PRELOAD, node[1]!], shell: false };
  return { command: app, args: [], shell: true };
}

/** The process that synthesizes the app into `outdir`: its command, arguments and environment. */
export function synthProcess(
  options: AppSynthOptions,
  outdir: string,
  run: SynthRun = {},
): { app: string; command: string; args: string[]; shell: boolean; cwd: string; env: NodeJS.ProcessEnv } {
  const { app, context } = appSettings(options);
  const command = appCommand(app);
  const nodeOptions = command.shell
    ? `${process.env.NODE_OPTIONS ?? ''} --require ${PRELOAD}`.trim()
    : process.env.NODE_OPTIONS;
  return {
    app,
    ...command,
    cwd: options.root,
    env: {
      ...process.env,
      CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT,
      CDK_DEFAULT_REGION: LOCAL_REGION,
      ...options.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_DISABLE_VERSION_CHECK: '1',
      // Validation reads every template through a WebAssembly engine, a second of CPU per synth; watch
      // rounds skip it (their templates differ from the validated first one by code only).
      ...(run.validate === false ? { CDK_VALIDATION: 'false' } : {}),
      ...(run.record ? { MESH_SYNTH_RECORD: run.record } : {}),
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    },
  };
}

/** Runs the app into `outdir`; rejects with the end of its output when it fails. */
export async function synthApp(options: AppSynthOptions, outdir: string, run: SynthRun = {}): Promise<void> {
  const p = synthProcess(options, outdir, run);
  const child = spawn(p.command, p.args, { cwd: p.cwd, shell: p.shell, env: p.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`synthesis failed (${p.app}, exit ${code}):\n${output.split('\n').slice(-30).join('\n')}`);
  }
  // A command that is not the CDK app (a build step alone, a script that exits early) ends well and
  // leaves nothing to serve; said here, not as a missing file when the mesh reads the assembly.
  if (!existsSync(join(outdir, 'manifest.json'))) {
    throw new Error(
      `the app (${p.app}) exited without writing a cloud assembly to ${outdir}; its command must run the CDK app (cdk.json's "app", or --app), whose App writes the assembly where CDK_OUTDIR names`,
    );
  }
}
