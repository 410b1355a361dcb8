/**
 * The cloud assemblies CDK Stages synthesize into: each Stage of an app writes its stacks into an
 * assembly of its own, nested in the app's (`cdk.out/assembly-Dev`), which the app's manifest names
 * with the Stage's path (`Dev`, `Pipeline/Dev`). Such a folder is a whole assembly, its asset paths
 * relative to it, so the local mesh can serve one stage of an app that declares several.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { didYouMean } from '../../shared/suggest';
import { AssemblyScopeError } from './cloud-assembly';

export interface StageAssembly {
  /** The Stage's path, as `cdk ls` shows it before its stacks' names (`Dev`, `Pipeline/Dev`). */
  readonly stage: string;
  /** The folder of its assembly. */
  readonly dir: string;
}

interface NestedArtifact {
  readonly type: string;
  readonly properties?: { readonly directoryName?: string; readonly displayName?: string };
}

/** Every Stage's assembly under the assembly in `dir`, nested stages too, in the manifests' order. */
export function stageAssemblies(dir: string): StageAssembly[] {
  const manifest = join(resolve(dir), 'manifest.json');
  if (!existsSync(manifest)) return [];
  const { artifacts = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    artifacts?: Record<string, NestedArtifact>;
  };
  const out: StageAssembly[] = [];
  for (const a of Object.values(artifacts)) {
    const sub = a.type === 'cdk:cloud-assembly' ? a.properties?.directoryName : undefined;
    if (!sub) continue;
    const nested = join(resolve(dir), sub);
    out.push({ stage: a.properties?.displayName ?? sub, dir: nested }, ...stageAssemblies(nested));
  }
  return out;
}

/** A stage the app does not have; the message names the ones it has. */
export class StageNotFoundError extends AssemblyScopeError {
  override readonly name = 'StageNotFoundError';
}

/**
 * What of the assembly in `dir` is served: all of it, or the assembly of the Stage `stage` names (an
 * app with a stage per account, as CDK Pipelines declares dev and prod, is served a stage at a time).
 */
export function servedAssembly(dir: string, stage: string | undefined): string {
  if (stage === undefined) return dir;
  const stages = stageAssemblies(dir);
  return pickStage(stages, stage).dir;
}

/**
 * Pure: the stage `stage` names: by its path, or by its own id when no other stage has that id. CDK
 * Pipelines declares its stages inside the pipeline's stack (`pipeline.addStage(new AppStage(this,
 * 'Prod'))`), so their path is `<PipelineStack>/Prod` while the pipeline shows them as `Prod`.
 */
export function pickStage(stages: readonly StageAssembly[], stage: string): StageAssembly {
  const found = stages.find((s) => s.stage === stage);
  if (found) return found;
  const byId = stages.filter((s) => s.stage.split('/').pop() === stage);
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) {
    throw new StageNotFoundError(
      `--stage ${JSON.stringify(stage)}: ${byId.length} stages have that id (${byId.map((s) => s.stage).join(', ')}); name one by its path`,
    );
  }
  if (stages.length === 0) {
    throw new StageNotFoundError(
      `--stage ${JSON.stringify(stage)}: the app declares no CDK Stage; leave --stage out to serve its stacks`,
    );
  }
  const names = stages.map((s) => s.stage);
  throw new StageNotFoundError(
    `--stage ${JSON.stringify(stage)}: the app has no such stage${didYouMean(stage, names)}; its stages: ${names.join(', ')}`,
  );
}
