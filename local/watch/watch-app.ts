/**
 * Watch mode for a CDK app served by a local mesh: its sources watched (cdk.json's `watch` globs) and
 * every batch of edits deployed into the running mesh, the fastest way that gives the same result:
 * - an edit of function code only (files a bundle reads and the app itself does not) is rebundled
 *   alone and applied as a hotswap: the served assembly again, that function's code replaced
 *   (hotswap.ts), the way `cdk watch --hotswap` treats a code-only change;
 * - anything else synthesizes the app again (app-synth.ts, recorded so the next code edit can hotswap)
 *   and applies the new assembly as the next deployment.
 * What `npm start -- --watch` and `mesh local --watch` both run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { ApplyOptions, DeploymentReport } from '../assembly/deployment';
import { type AppSynthOptions, synthApp } from './app-synth';
import { type BundleIndex, type BundleRecord, bundlesFor, readBundleIndex } from './bundle-index';
import { assetDirOf, rebundle } from './hotswap';
import { outsideFiles, watchPatterns } from './source-watcher';
import { type RoundResult, startWatch, type Watch } from './watch-loop';

export interface WatchAppOptions extends AppSynthOptions {
  /** The assembly directory the mesh serves; a full round synthesizes into it. */
  readonly outdir: string;
  /** The running mesh's next deployment (LocalMesh.apply). */
  readonly apply: (dir: string, options?: ApplyOptions) => Promise<DeploymentReport>;
  readonly log: (line: string) => void;
  /** What the synthesis that made `outdir` recorded (synthForWatch); without it the first edit synthesizes. */
  readonly index?: BundleIndex;
}

/**
 * The first synthesis of a watched app: validated like any, and recorded so that the first code edit
 * can already be hotswapped.
 */
export async function synthForWatch(app: AppSynthOptions, outdir: string): Promise<BundleIndex> {
  const record = mkdtempSync(join(tmpdir(), 'mesh-watch-record-'));
  try {
    await synthApp(app, outdir, { record });
    return readBundleIndex(record);
  } finally {
    rmSync(record, { recursive: true, force: true });
  }
}

export function watchApp(options: WatchAppOptions): Watch {
  const rounds = new AppRounds(options);
  const watch = startWatch({
    root: options.root,
    patterns: watchPatterns(options.root),
    deploy: (files) => rounds.deploy(files),
    log: options.log,
  });
  // What the last synthesis read outside the app's folder: handlers in a monorepo's other packages.
  let followed = '';
  const follow = () => {
    const files = outsideFiles(resolve(options.root), rounds.readFiles());
    if (files.join('\n') === followed) return;
    followed = files.join('\n');
    watch.follow(files);
    if (files.length > 0)
      options.log(`also watching ${describeFiles(options.root, files)}, outside it: the app or a bundle reads them`);
  };
  follow();
  watch.onRound(follow);
  return {
    rounds: watch.rounds,
    follow: watch.follow,
    onRound: watch.onRound,
    async close() {
      await watch.close();
      rounds.dispose();
    },
  };
}

/** What the rounds of one watched app remember: the last synthesis's record and the bundles rebuilt since. */
class AppRounds {
  private readonly work = mkdtempSync(join(tmpdir(), 'mesh-watch-'));
  private index: BundleIndex | undefined;
  /** Bundles rebundled since the last synthesis: asset dir -> the directory serving instead. */
  private readonly overrides = new Map<string, string>();
  private readonly assetDirs = new Map<BundleRecord, string>();

  constructor(private readonly options: WatchAppOptions) {
    this.index = options.index;
  }

  /** A batch of edits: hotswapped when only bundles read them, else the app synthesized again. */
  async deploy(files: readonly string[]): Promise<RoundResult> {
    const known = this.index;
    if (!known) return this.synthesize();
    // An editor's or a tool's temporary file (gone already, read by nothing) changes nothing.
    const edited = files
      .map((f) => resolve(this.options.root, f))
      .filter((f) => existsSync(f) || known.appFiles.has(f) || known.bundles.some((b) => b.inputs.has(f)));
    const plan = bundlesFor(known, edited);
    if ('synthesize' in plan) {
      this.options.log(`synthesizing: ${plan.synthesize}`);
      return this.synthesize();
    }
    return (await this.hotswap(plan.bundles)) ?? this.synthesize();
  }

  /** Every file the last synthesis found the app and the functions' bundles reading (absolute). */
  readFiles(): string[] {
    const index = this.index;
    return index ? [...index.appFiles, ...index.bundles.flatMap((b) => [...b.inputs])] : [];
  }

  dispose(): void {
    rmSync(this.work, { recursive: true, force: true });
  }

  private async synthesize(): Promise<RoundResult> {
    const t0 = Date.now();
    const record = mkdtempSync(join(this.work, 'record-'));
    try {
      // Rounds skip CDK's template validation: the first synthesis ran it.
      await synthApp(this.options, this.options.outdir, { validate: false, record });
      this.index = readBundleIndex(record);
    } finally {
      rmSync(record, { recursive: true, force: true });
    }
    this.overrides.clear();
    this.assetDirs.clear();
    const buildMs = Date.now() - t0;
    const report = await this.options.apply(this.options.outdir);
    return { report, mode: 'synth', buildMs, deployMs: Date.now() - t0 - buildMs };
  }

  /** Rebundles the edited bundles into the served assembly; undefined when one has no asset to replace. */
  private async hotswap(bundles: readonly BundleRecord[]): Promise<RoundResult | undefined> {
    const t0 = Date.now();
    const rebuilt: [BundleRecord, BundleRecord][] = [];
    for (const b of bundles) {
      const assetDir = this.assetDirs.get(b) ?? assetDirOf(this.options.outdir, b);
      if (!assetDir) {
        this.options.log(`synthesizing: no asset of ${this.options.outdir} holds the bundle of ${b.outfile}`);
        return undefined;
      }
      const out = rebundle(b, assetDir, this.work);
      this.overrides.set(assetDir, out.dir);
      this.assetDirs.set(out.record, assetDir);
      rebuilt.push([b, out.record]);
    }
    if (this.index) {
      const replaced = new Map(rebuilt);
      this.index = { ...this.index, bundles: this.index.bundles.map((b) => replaced.get(b) ?? b) };
    }
    const buildMs = Date.now() - t0;
    const report = await this.options.apply(this.options.outdir, { codeOverrides: this.overrides });
    return { report, mode: 'hotswap', buildMs, deployMs: Date.now() - t0 - buildMs };
  }
}

/** `2 files (../services/orders/src/index.ts, ...)`, relative to the app's folder. */
function describeFiles(root: string, files: readonly string[]): string {
  const shown = files.slice(0, 3).map((f) => relative(root, f));
  return `${files.length} file${files.length === 1 ? '' : 's'} (${shown.join(', ')}${files.length > 3 ? ', ...' : ''})`;
}
