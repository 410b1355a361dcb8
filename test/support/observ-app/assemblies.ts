/**
 * Synthesizes the observability fixture app (releases 1 and 2) once per content hash, in the cache the
 * other fixtures share (test/support/assembly-cache.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cached, hashTree } from '../assembly-cache';

const ROOT = join(__dirname, '../../..');

export function observAssemblies(): { release1: string; release2: string } {
  const hash = hashTree([__dirname, join(ROOT, 'shared/names.ts')]);
  const synth = (release: number) =>
    cached('observ', hash, release, (outdir) => {
      execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'app.ts'), outdir, String(release)], {
        cwd: ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    });
  return { release1: synth(1), release2: synth(2) };
}
