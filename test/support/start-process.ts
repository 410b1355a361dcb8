/**
 * `npm start` (scripts/start.js) as a child process, the way a user runs it: its output collected, and
 * the URL it serves once it prints it. The caller stops it (SIGINT) and kills it in a `finally`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export interface StartProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  out(): string;
  err(): string;
  /** Its exit code, once it exits. */
  readonly exited: Promise<number | null>;
  /** The endpoint URL, once printed; rejects when it exits first. */
  url(): Promise<string>;
}

export function spawnStart(args: readonly string[]): StartProcess {
  const child = spawn(process.execPath, ['scripts/start.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /Lambda Mesh, local: (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(m[1]!);
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`start exited early (${code}): ${err}`));
      });
    });
  return { child, out: () => out, err: () => err, exited, url };
}
