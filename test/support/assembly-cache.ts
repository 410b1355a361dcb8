/**
 * Synthesized cloud assemblies cached across test files and runs, in `<tmpdir>/lambda-mesh-assemblies`,
 * under a hash of the sources they were made from: a test file that needs one pays for synth only when
 * those sources changed.
 *
 * One synth per assembly: several test files start together (three at a time) and often need the same
 * assemblies, so the first to need one synthesizes it under a lock while the others wait for it,
 * instead of each spending a synth (several seconds of CPU) on the same output.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { appCommand } from '../../local/watch/app-synth';
import { WITHOUT_COVERAGE } from './without-coverage';

const ROOT = join(__dirname, '../..');
const CACHE = join(tmpdir(), 'lambda-mesh-assemblies');
/**
 * The environment entry that keeps a synthesizing app out of V8 coverage. The coverage step counts
 * functions/mesh and shared, which the tests load themselves: a whole run's report came out the same
 * (functions/mesh 98.34 % of lines, 90.98 % of branches; shared 98.79 % and 92.08 %) with or without the
 * 32 synths' coverage, 56 MB of the 242 MB the run wrote. Collecting it cost each example-app synth
 * about 0.5 s of its 2.9 s of CPU time, and the coverage step read and merged every byte of it.
 */
export const SYNTH_COVERAGE_OFF: NodeJS.ProcessEnv = WITHOUT_COVERAGE;
/** How long a waiter sleeps between looks at a lock. */
const POLL_MS = 100;
/** A lock older than this is left over from a run that was killed (no synth takes minutes). */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * A synthesizing app's environment: the local mesh's account and region, so literal ARNs match it. And
 * no V8 coverage (SYNTH_COVERAGE_OFF): a synth's coverage adds nothing to what the coverage step counts.
 */
const SYNTH_ENV = {
  ...process.env,
  ...SYNTH_COVERAGE_OFF,
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DEFAULT_ACCOUNT: '000000000000',
  CDK_DEFAULT_REGION: 'us-east-1',
};

/**
 * Runs a fixture app (`<appFile> <args...>`, TypeScript) as `mesh local` runs an app: with esbuild
 * called directly for each function's bundle (local/watch/esbuild-direct.cjs), which halves a small
 * app's synth, instead of through CDK's `npx esbuild`, a Node process per function.
 */
export function runFixtureApp(appFile: string, args: readonly string[]): void {
  const { command, args: node } = appCommand(`npx tsx ${appFile}`);
  execFileSync(command, [...node, ...args], { cwd: ROOT, env: SYNTH_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A hash of the files under `paths` (their paths and contents), skipping build output and node_modules,
 * and of the context a run hands every app (CDK_CONTEXT_JSON: `LAMBDA_MESH_TEST_FLAGS=recommended`).
 */
export function hashTree(paths: readonly string[]): string {
  const h = createHash('sha256').update(process.env.CDK_CONTEXT_JSON ?? '');
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name === 'node_modules' || name === 'dist' || name.startsWith('cdk.out')) continue;
        walk(join(p, name));
      }
    } else {
      h.update(relative(ROOT, p)).update(readFileSync(p));
    }
  };
  for (const p of paths) walk(p);
  return h.digest('hex').slice(0, 16);
}

/**
 * The assembly `<name>-<hash>-r<release>`: from the cache, or synthesized by `synth(outdir)` into it.
 * Safe across processes: one synthesizes, the others wait for its result; a synth that fails releases
 * the lock, and the next waiter tries it itself (and fails, naming the error, if it fails again).
 */
export function cached(name: string, hash: string, release: number, synth: (outdir: string) => void): string {
  const dir = join(CACHE, `${name}-${hash}-r${release}`);
  const done = () => existsSync(join(dir, 'manifest.json'));
  if (done()) return dir;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  while (!takeLock(lock)) {
    if (done()) return dir;
    sleepSync(POLL_MS);
  }
  try {
    if (done()) return dir; // made while this process waited
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    synth(tmp);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Made meanwhile by a process that took this lock as stale: the same content.
      rmSync(tmp, { recursive: true, force: true });
      if (!done()) throw err;
    }
  } finally {
    rmSync(lock, { force: true });
  }
  dropOlderSynths(name, hash);
  return dir;
}

/**
 * Creates the lock file (with this process's id); false while another live process holds it. A lock
 * whose process is gone, or that is older than any synth, is removed and taken.
 */
function takeLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (lockIsStale(lock)) rmSync(lock, { force: true });
  return false;
}

function lockIsStale(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written: its owner is alive
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // ESRCH: no such process. ENOENT: released meanwhile (the next take will tell).
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Blocks this thread for `ms` (a test file's setup is synchronous; nothing else runs meanwhile). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Older synths of this app (other source hashes) go once they are an hour old: the cache stays small
 * while a test file still running on a previous hash keeps its copy.
 */
function dropOlderSynths(name: string, hash: string): void {
  for (const old of readdirSync(CACHE)) {
    if (!old.startsWith(`${name}-`) || old.startsWith(`${name}-${hash}-`)) continue;
    const p = join(CACHE, old);
    try {
      if (Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
