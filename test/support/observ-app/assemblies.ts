/**
 * Synthesizes the observability fixture app (releases 1 and 2) once per content hash, in the cache the
 * other fixtures share (test/support/assembly-cache.ts).
 */
import { join } from 'node:path';
import { cached, hashTree, runFixtureApp } from '../assembly-cache';

const ROOT = join(__dirname, '../../..');

export function observAssemblies(): { release1: string; release2: string } {
  const hash = hashTree([__dirname, join(ROOT, 'shared/names.ts')]);
  const synth = (release: number) =>
    cached('observ', hash, release, (outdir) => {
      runFixtureApp(join(__dirname, 'app.ts'), [outdir, String(release)]);
    });
  return { release1: synth(1), release2: synth(2) };
}
