/**
 * `mesh local` as a child process, as an operator runs it: its environment for tests, and a start that
 * resolves once the command says where it serves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { meshArgs, ROOT } from './mesh-cli';
import { WITHOUT_COVERAGE } from './without-coverage';

/** `mesh`'s environment, without V8 coverage (its bundle counts for no source file: test/support/mesh-cli.ts). */
export const MESH_LOCAL_ENV = {
  ...WITHOUT_COVERAGE,
  PATH: process.env.PATH,
  HOME: '/nonexistent-home-for-cli-tests',
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
};

export interface ServedMesh {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit code once the command has exited. */
  readonly exited: Promise<number | null>;
}

/** Runs `mesh local <args>` and resolves once it prints its URL; rejects if it exits first. */
export async function serveMeshLocal(args: readonly string[]): Promise<ServedMesh> {
  const child = spawn(process.execPath, await meshArgs(['local', ...args]), {
    cwd: ROOT,
    env: MESH_LOCAL_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /local mesh running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`mesh local exited ${code} before serving:\n${out}\n${err}`)));
  });
  return { child, url, exited };
}
