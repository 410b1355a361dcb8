/**
 * Whether NodejsFunction can run the esbuild this package brings. It bundles locally when it can require
 * `esbuild` from aws-cdk-lib, and then runs it through the app's package manager, the one whose lock
 * file it finds: `npx --no-install esbuild`, `yarn run esbuild`, `pnpm exec -- esbuild`. npm and yarn
 * hoist this package's esbuild to the app's node_modules, where the first two find it. pnpm hoists it
 * only into its store's hidden folder (`node_modules/.pnpm/node_modules`), where aws-cdk-lib's require
 * finds it, while `pnpm exec` runs the app's own dependencies alone: every function failed to bundle with
 * `Command "esbuild" not found` after the app's type check, naming neither the cause nor the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

/** What decides it, read from the disk by `pnpmEsbuildFacts`. */
export interface EsbuildRunnerFacts {
  /** The lock file NodejsFunction takes (depsLockFilePath, or the nearest one above the working folder). */
  readonly lockFile: string | undefined;
  /** Where NodejsFunction runs esbuild: projectRoot, or the lock file's folder. */
  readonly projectRoot: string | undefined;
  /** The version of the esbuild aws-cdk-lib requires (it then bundles locally), or undefined. */
  readonly detectedVersion: string | undefined;
  /** Whether `pnpm exec` in projectRoot finds an esbuild: a node_modules/.bin above it, or PATH. */
  readonly runnable: boolean;
  /** `bundling.forceDockerBundling`: esbuild runs in the image, none is needed here. */
  readonly forceDocker?: boolean;
}

/** Pure: the refusal for a pnpm app whose `pnpm exec` cannot run esbuild, or undefined. */
export function esbuildRunnerProblem(facts: EsbuildRunnerFacts): string | undefined {
  const { lockFile, projectRoot, detectedVersion, runnable, forceDocker } = facts;
  if (forceDocker || !lockFile?.endsWith('pnpm-lock.yaml') || detectedVersion === undefined || runnable) {
    return undefined;
  }
  return (
    `the app installs with pnpm (${lockFile}), so NodejsFunction bundles with \`pnpm exec -- esbuild\` in ${projectRoot}, ` +
    "which runs the app's own dependencies only, and esbuild is a dependency of lambda-mesh, not of the app; " +
    `add it to the app: \`pnpm add -D esbuild@${detectedVersion}\``
  );
}

const LOCK_FILES = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json'];

/** The disk's answers for `esbuildRunnerProblem`; only a pnpm lock file makes it look further. */
export function esbuildRunnerFacts(depsLockFilePath?: string, projectRoot?: string): EsbuildRunnerFacts {
  const lockFile = depsLockFilePath ? resolve(depsLockFilePath) : nearestLockFile(process.cwd());
  const root = projectRoot ? resolve(projectRoot) : lockFile && dirname(lockFile);
  if (!lockFile?.endsWith('pnpm-lock.yaml') || !root) {
    return { lockFile, projectRoot: root, detectedVersion: undefined, runnable: true };
  }
  return { lockFile, projectRoot: root, detectedVersion: detectedEsbuild(), runnable: pnpmExecFinds(root) };
}

/** NodejsFunction's lookup: the first folder from `dir` up that holds a lock file. */
function nearestLockFile(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const found = LOCK_FILES.map((f) => join(d, f)).find((f) => existsSync(f));
    if (found || dirname(d) === d) return found;
  }
}

/** The esbuild aws-cdk-lib requires (its version), as NodejsFunction detects a local one. */
function detectedEsbuild(): string | undefined {
  try {
    const from = dirname(require.resolve('aws-cdk-lib/package.json'));
    const pkg = require.resolve('esbuild/package.json', { paths: [from] });
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** `pnpm exec` looks in the project's and the workspace's node_modules/.bin, then on PATH. */
function pnpmExecFinds(root: string): boolean {
  for (let d = root; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', '.bin', 'esbuild'))) return true;
    if (dirname(d) === d) break;
  }
  return (process.env.PATH ?? '').split(delimiter).some((p) => p !== '' && existsSync(join(p, 'esbuild')));
}
