/**
 * The `aws` CLIs on this machine, for the tests that run the real CLI: every distinct one on PATH plus
 * Debian's, by version (v1 from pip, v2 from Debian's awscli package). Calls pass `--endpoint-url`:
 * Debian's awscli 2.9 predates AWS_ENDPOINT_URL.
 * A pyenv shim on PATH stands for the program it starts (withoutShim).
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, realpathSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

export interface AwsCli {
  readonly path: string;
  readonly version: string;
  /** Arguments that make `--payload` plain JSON text (v2 reads blobs as base64 otherwise). */
  readonly rawPayload: readonly string[];
}

export const NO_AWS_CLI =
  "no `aws` CLI found: install Debian's awscli package (apt-get install -y awscli; .ci/run does) or awscli from pip";

let found: readonly AwsCli[] | undefined;

/** The CLIs, looked up once per process: each `aws --version` starts Python, about a second of CPU time. */
export function awsClis(): readonly AwsCli[] {
  found ??= lookUp();
  return found;
}

function lookUp(): AwsCli[] {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'aws')), '/usr/bin/aws'];
  const byVersion = new Map<string, string>();
  for (const path of new Set(runnable(candidates).map(withoutShim))) {
    try {
      const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const version = /aws-cli\/(\S+)/.exec(out)?.[1];
      if (version && !byVersion.has(version)) byVersion.set(version, path);
    } catch {
      // not runnable after all
    }
  }
  return [...byVersion].map(([version, path]) => ({
    path,
    version,
    rawPayload: version.startsWith('1.') ? [] : ['--cli-binary-format', 'raw-in-base64-out'],
  }));
}

/** What a run of the CLI ended with. */
export interface AwsCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AwsCliOptions {
  /** The endpoint every call goes to (`--endpoint-url`). */
  readonly endpointUrl: string;
  /** The CLI's home and working folder: its config and credentials files are looked for here only. */
  readonly home: string;
  /** @default 60_000 */
  readonly timeoutMs?: number;
  /** More environment, over the isolated one. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs `aws <args> --endpoint-url <endpoint> --output json` in an environment of its own: test
 * credentials, us-east-1, config files under `home` (so no profile of this machine's user changes
 * the call), one attempt (a retry would hide the answer under test) and no pager.
 */
export function runAwsCli(cliPath: string, args: readonly string[], options: AwsCliOptions): Promise<AwsCliRun> {
  const { home } = options;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
    ...options.env,
  };
  const argv = [...args, '--endpoint-url', options.endpointUrl, '--output', 'json'];
  return new Promise((resolve) => {
    execFile(cliPath, argv, { env, cwd: home, timeout: options.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * The distinct executables among `paths`, by real path: Debian's /usr/bin/aws is named by its PATH entry,
 * by the entry added above, and as /bin/aws where /bin links to /usr/bin, and each `--version` of it
 * would start Python again.
 */
function runnable(paths: readonly string[]): string[] {
  const real = new Set<string>();
  for (const path of paths) {
    try {
      accessSync(path, constants.X_OK);
      real.add(realpathSync(path));
    } catch {
      // not there, or not runnable
    }
  }
  return [...real];
}

/**
 * The program a pyenv shim on PATH starts, found once: a shim is a shell script that runs pyenv to pick
 * the Python version, then the program. Called through the shim, each `aws` call spent about 0.4 s of
 * CPU time more (bash and pyenv's scripts) before the same program started. Any other file is itself.
 */
function withoutShim(path: string): string {
  const pyenv = /exec "([^"]*\/libexec\/pyenv)" exec /.exec(head(path))?.[1];
  if (!pyenv) return path;
  try {
    const program = execFileSync(pyenv, ['which', basename(path)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return program.trim() || path;
  } catch {
    return path;
  }
}

/** The first 4 KB of a file, as text (a script's, or the start of a binary). */
function head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}
