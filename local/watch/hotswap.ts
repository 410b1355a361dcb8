/**
 * Rebundles one function the way the last synthesis did (the same esbuild binary, arguments and
 * working directory, so the same bytes the next synthesis would make) into a directory of its own,
 * beside a copy of the rest of its asset (installed node_modules and the like). The deployment then
 * applies the served assembly again with that function's code replaced: what CDK's hotswap does for a
 * code-only change, a new $LATEST and, where the stack publishes one, a new version behind its alias.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type BundleRecord, metafileInputs } from './bundle-index';

/** The asset directory (under a cloud assembly) holding a bundle, found by its content. */
export function assetDirOf(assemblyDir: string, bundle: BundleRecord): string | undefined {
  const name = basename(bundle.outfile);
  const candidates = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = join(dir, e.name);
          if (e.isDirectory() && e.name.startsWith('asset.')) return [p];
          if (e.isDirectory() && e.name.startsWith('assembly-')) return candidates(p);
          return [];
        })
      : [];
  return candidates(assemblyDir).find((dir) => {
    const file = join(dir, name);
    return existsSync(file) && createHash('sha256').update(readFileSync(file)).digest('hex') === bundle.sha256;
  });
}

export interface Rebundled {
  readonly dir: string;
  /** The bundle's record, updated (new content hash, the files it reads now). */
  readonly record: BundleRecord;
}

/** Rebundles into a new directory under `workDir`; throws with esbuild's output when it fails. */
export function rebundle(bundle: BundleRecord, assetDir: string, workDir: string): Rebundled {
  const dir = mkdtempSync(join(workDir, 'hotswap-'));
  cpSync(assetDir, dir, { recursive: true });
  const outfile = join(dir, basename(bundle.outfile));
  const metafile = `${dir}.meta.json`;
  const args = bundle.args.map((a) => (a.startsWith('--outfile=') ? `--outfile=${outfile}` : a));
  const r = spawnSync(bundle.bin, [...args, `--metafile=${metafile}`], { cwd: bundle.cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild failed (exit ${r.status ?? r.signal}):\n${r.stderr || r.error}`);
  return {
    dir,
    record: {
      ...bundle,
      sha256: createHash('sha256').update(readFileSync(outfile)).digest('hex'),
      inputs: metafileInputs(metafile, bundle.cwd),
    },
  };
}
