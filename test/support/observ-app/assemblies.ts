/**
 * Synthesizes the observability fixture app (releases 1 and 2) once per content hash, like the example-assembly
 * helper.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../../..');

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else h.update(relative(ROOT, p)).update(readFileSync(p));
  };
  walk(dir);
  h.update(readFileSync(join(ROOT, 'shared/names.ts')));
  return h.digest('hex').slice(0, 16);
}

export function observAssemblies(): { release1: string; release2: string } {
  const hash = hashTree(__dirname);
  const synth = (release: number) => {
    const dir = join(tmpdir(), 'lambda-mesh-assemblies', `observ-${hash}-r${release}`);
    if (existsSync(join(dir, 'manifest.json'))) return dir;
    mkdirSync(join(dir, '..'), { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'app.ts'), tmp, String(release)], {
      cwd: ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
    return dir;
  };
  return { release1: synth(1), release2: synth(2) };
}
