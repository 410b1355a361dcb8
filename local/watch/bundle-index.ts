/**
 * What a recorded synthesis (esbuild-direct.cjs with MESH_SYNTH_RECORD) says about the app's function
 * bundles: per bundle, the esbuild run that made it and the files it read; and the app's own source
 * files. An edit touching only files that bundles read, and no file the app itself loads, changes
 * nothing but those bundles: it can be rebundled alone (hotswap.ts) instead of synthesizing the app.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface BundleRecord {
  /** esbuild's working directory (metafile paths are relative to it). */
  readonly cwd: string;
  /** The esbuild binary. */
  readonly bin: string;
  /** The arguments NodejsFunction gave esbuild. */
  readonly args: readonly string[];
  readonly outfile: string;
  /** sha256 (hex) of the bundle the synthesis made. */
  readonly sha256: string;
  /** Absolute paths of the files the bundle read. */
  readonly inputs: ReadonlySet<string>;
}

export interface BundleIndex {
  readonly bundles: readonly BundleRecord[];
  /** Absolute paths of the app's own source files (its constructs read them at synthesis). */
  readonly appFiles: ReadonlySet<string>;
}

/** The files an esbuild metafile lists as inputs, absolute. */
export function metafileInputs(metafile: string, cwd: string): Set<string> {
  if (!existsSync(metafile)) return new Set();
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as { inputs?: Record<string, unknown> };
  return new Set(Object.keys(meta.inputs ?? {}).map((p) => resolve(cwd, p)));
}

export function readBundleIndex(recordDir: string): BundleIndex {
  const file = resolve(recordDir, 'bundles.jsonl');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const bundles = lines.map((line) => {
    const r = JSON.parse(line) as Omit<BundleRecord, 'inputs'> & { metafile: string };
    return {
      cwd: r.cwd,
      bin: r.bin,
      args: r.args,
      outfile: r.outfile,
      sha256: r.sha256,
      inputs: metafileInputs(r.metafile, r.cwd),
    };
  });
  const appFile = resolve(recordDir, 'app-files.json');
  const appFiles = new Set(existsSync(appFile) ? (JSON.parse(readFileSync(appFile, 'utf8')) as string[]) : []);
  return { bundles, appFiles };
}

/**
 * The bundles an edit of `files` (absolute) changes, or why it needs the whole synthesis: a file the
 * app loads itself (its constructs may read it), or one no bundle reads (a new file, a config).
 */
export function bundlesFor(
  index: BundleIndex,
  files: readonly string[],
): { readonly bundles: BundleRecord[] } | { readonly synthesize: string } {
  const out = new Set<BundleRecord>();
  for (const f of files) {
    if (index.appFiles.has(f)) return { synthesize: `the app itself reads ${f}` };
    const readers = index.bundles.filter((b) => b.inputs.has(f));
    if (readers.length === 0) return { synthesize: `no function bundle reads ${f}` };
    for (const b of readers) out.add(b);
  }
  return { bundles: [...out] };
}
