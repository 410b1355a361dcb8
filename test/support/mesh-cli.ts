/**
 * The `mesh` CLI as an operator runs it: `node cli/bin/mesh.js` as a child process (exit code, stdout,
 * stderr), with its sources compiled once for the whole run (mesh-cli-bundle.ts), and a wait for the
 * mesh to catch up with a change (a policy item reaches every function within about one cache TTL).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshCliBundle } from './mesh-cli-bundle';
import { WITHOUT_COVERAGE } from './without-coverage';

export const ROOT = join(__dirname, '..', '..');
export const MESH_BIN = join(ROOT, 'cli', 'bin', 'mesh.js');

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * An environment with no AWS configuration of the machine's: no profile, no region, dummy keys. And no
 * V8 coverage: `mesh` runs from its bundle, which has no source map, so its coverage would count for no
 * source file while every call paid for collecting and writing it (about 1.5 MB a call).
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...WITHOUT_COVERAGE,
    PATH: process.env.PATH,
    HOME: '/nonexistent-home-for-cli-tests',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...extra,
  };
}

/**
 * The `node` arguments that run `mesh <args>`: the bin, with the CLI already loaded from the bundle of
 * its sources.
 */
export async function meshArgs(args: readonly string[]): Promise<string[]> {
  return ['--require', await meshCliBundle(), MESH_BIN, ...args];
}

/**
 * How long one command may run before it is ended. The longest a test runs (`mesh rollout` over two
 * 10 s steps, on crowded cores) takes under a minute. A command that never answers (a request the mesh
 * left unanswered: the SDK waits on it without a deadline) otherwise holds its test file until the
 * runner's 900 s bound, and the whole run with it.
 */
export const COMMAND_TIMEOUT_MS = 180_000;

/** Runs a program to its end, or ends it after `timeoutMs` (a failure whose stderr says so). */
export function run(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = cliEnv(),
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<Run> {
  return new Promise((resolve) => {
    const options = { cwd: ROOT, env, encoding: 'utf8' as const, timeout: timeoutMs, killSignal: 'SIGKILL' as const };
    execFile(file, [...args], options, (err, stdout, stderr) => {
      if (err?.killed) {
        const ended = `\n${[file, ...args].join(' ')}: ended after ${timeoutMs / 1000} s without exiting`;
        resolve({ code: 1, stdout, stderr: `${stderr}${ended}` });
      } else resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `mesh <args> --endpoint-url <url>`. */
export async function runMesh(url: string, args: readonly string[]): Promise<Run> {
  return run(process.execPath, await meshArgs([...args, '--endpoint-url', url]));
}

/** `mesh policy set <service> --file <items as a file>`, which must succeed. */
export async function setPolicy(url: string, service: string, items: readonly unknown[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-policy-'));
  try {
    const file = join(dir, `${service}.json`);
    writeFileSync(file, JSON.stringify(items));
    const r = await runMesh(url, ['policy', 'set', service, '--file', file]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `probe` until it holds, or fails naming `what` (a function: said as it stands at the end). */
export async function eventually(
  what: string | (() => string),
  probe: () => boolean | Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}
