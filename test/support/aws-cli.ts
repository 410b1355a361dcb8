/**
 * The `aws` CLIs on this machine, for the tests that run the real CLI: every distinct one on PATH plus
 * Debian's, by version (v1 from pip, v2 from Debian's awscli package). Calls pass `--endpoint-url`:
 * Debian's awscli 2.9 predates AWS_ENDPOINT_URL.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const version = /aws-cli\/(\S+)/.exec(out)?.[1];
      if (version && !byVersion.has(version)) byVersion.set(version, realpathSync(path));
    } catch {
      // not there, or not runnable
    }
  }
  return [...byVersion].map(([version, path]) => ({
    path,
    version,
    rawPayload: version.startsWith('1.') ? [] : ['--cli-binary-format', 'raw-in-base64-out'],
  }));
}
