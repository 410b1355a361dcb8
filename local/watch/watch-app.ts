/**
 * Watch mode for a CDK app served by a local mesh: its sources watched (cdk.json's `watch` globs), the
 * app synthesized again into `outdir` on every edit (app-synth.ts) and applied as the next deployment.
 * What `npm start -- --watch` and `mesh local --watch` both run.
 */
import type { DeploymentReport } from '../assembly/deployment';
import { type AppSynthOptions, synthApp } from './app-synth';
import { watchPatterns } from './source-watcher';
import { startWatch, type Watch } from './watch-loop';

export interface WatchAppOptions extends AppSynthOptions {
  /** The assembly directory the mesh serves; each round synthesizes into it. */
  readonly outdir: string;
  /** The running mesh's next deployment (LocalMesh.apply). */
  readonly apply: (dir: string) => Promise<DeploymentReport>;
  readonly log: (line: string) => void;
}

export function watchApp(options: WatchAppOptions): Watch {
  return startWatch({
    root: options.root,
    outdir: options.outdir,
    patterns: watchPatterns(options.root),
    synth: (dir) => synthApp(options, dir),
    apply: options.apply,
    log: options.log,
  });
}
