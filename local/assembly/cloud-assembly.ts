/**
 * Reads a synthesized cloud assembly (a cdk.out dir): the manifest's stacks in dependency order, their
 * templates, and each stack's file assets (asset hash -> staged directory), recursing into nested
 * assemblies (CDK Stages). Only what the local mesh runs is read; nothing is deployed from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssemblyScopeError } from './assembly-scope-error';
import { withNestedStacks } from './nested-stacks';
import { NestedTemplates, topNesting } from './nested-template-file';
import { parseTemplate } from './template-json';

export interface Template {
  readonly Resources?: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, TemplateOutput>;
  readonly Parameters?: Record<string, { Default?: unknown; Type?: string }>;
  /** Named conditions (Fn::Equals, Fn::And, Fn::Or, Fn::Not, `{ Condition }`), evaluated once per deploy. */
  readonly Conditions?: Record<string, unknown>;
  /** Fn::FindInMap's tables: map -> top-level key -> second-level key -> value. */
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface TemplateOutput {
  readonly Value: unknown;
  readonly Export?: { Name: unknown };
  /** The condition the output exists under. */
  readonly Condition?: string;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  /** `Delete` (CloudFormation's default for most types), `Retain`, `Snapshot`. */
  readonly DeletionPolicy?: string;
  /** How CloudFormation updates the resource (an alias's `CodeDeployLambdaAliasUpdate`). */
  readonly UpdatePolicy?: Record<string, unknown>;
  /** The condition the resource is created under; false = it does not exist. */
  readonly Condition?: string;
}

export interface AssemblyStack {
  /** Artifact id (the stack's construct id). */
  readonly id: string;
  /** Deployed stack name (defaults to the id). */
  readonly stackName: string;
  readonly template: Template;
  /** Directory the assembly's relative asset paths start from. */
  readonly dir: string;
  /** File assets by hash: absolute source path (a directory for Lambda code). */
  readonly assets: ReadonlyMap<string, string>;
  /** The region the stack names (`env`), when it names a concrete one. */
  readonly region?: string;
  /** The account the stack names (`env`), when it names a concrete one. */
  readonly account?: string;
  /** The CDK Stage that holds the stack, by its path (`Dev`, `Pipeline/Dev`); none for a stack of the app itself. */
  readonly stage?: string;
}

export { AssemblyScopeError } from './assembly-scope-error';

interface ManifestArtifact {
  readonly type: string;
  /** `aws://<account>/<region>`, `unknown-account` / `unknown-region` when the stack names none. */
  readonly environment?: string;
  readonly properties?: Record<string, unknown>;
  readonly dependencies?: readonly string[];
  readonly displayName?: string;
}

/** The stacks of the assembly in `dir` and of the stages nested in it; `stage` is the one `dir` holds, if any. */
export function readCloudAssembly(dir: string, stage?: string): AssemblyStack[] {
  const root = resolve(dir);
  const manifestFile = join(root, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`${manifestFile} does not exist: synthesize the app first (npx cdk synth -o ${dir}).`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { artifacts?: Record<string, ManifestArtifact> };
  const artifacts = manifest.artifacts ?? {};
  const stacks: AssemblyStack[] = [];
  for (const id of dependencyOrder(artifacts)) {
    const a = artifacts[id];
    if (a.type === 'cdk:cloud-assembly') {
      const sub = String(a.properties?.directoryName ?? '');
      if (sub) stacks.push(...readCloudAssembly(join(root, sub), String(a.properties?.displayName ?? sub)));
      continue;
    }
    if (a.type !== 'aws:cloudformation:stack') continue;
    const templateFile = join(root, String(a.properties?.templateFile ?? `${id}.template.json`));
    const stackName = String(a.properties?.stackName ?? id);
    const assets = fileAssets(root, artifacts, a);
    const nested = new NestedTemplates(root, stackName, assets);
    const template = withNestedStacks(readTemplate(templateFile), nested, topNesting(stackName, templateFile));
    stacks.push({ id, stackName, template, dir: root, assets, ...envOf(a), ...(stage ? { stage } : {}) });
  }
  return stacks;
}

/** The file assets of a stack's asset manifests: hash -> absolute source path. */
function fileAssets(
  root: string,
  artifacts: Record<string, ManifestArtifact>,
  a: ManifestArtifact,
): Map<string, string> {
  const assets = new Map<string, string>();
  for (const dep of a.dependencies ?? []) {
    const d = artifacts[dep];
    if (d?.type !== 'cdk:asset-manifest') continue;
    const file = join(root, String(d.properties?.file));
    const m = JSON.parse(readFileSync(file, 'utf8')) as { files?: Record<string, { source?: { path?: string } }> };
    for (const [hash, f] of Object.entries(m.files ?? {})) {
      if (f.source?.path) assets.set(hash, join(root, f.source.path));
    }
  }
  return assets;
}

/** A template file of the assembly, parsed. */
function readTemplate(file: string): Template {
  return parseTemplate(readFileSync(file), `the template ${file}`);
}

/** The concrete account and region of a stack's `aws://<account>/<region>` environment. */
function envOf(a: ManifestArtifact): { account?: string; region?: string } {
  const m = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(a.environment ?? '');
  if (!m) return {};
  return {
    ...(/^\d{12}$/.test(m[1]) ? { account: m[1] } : {}),
    ...(/^[a-z]{2}(-[a-z]+)+-\d$/.test(m[2]) ? { region: m[2] } : {}),
  };
}

/**
 * The account and regions a set of assemblies serves: the account the stacks name (one; the local mesh
 * serves one account) and their regions, the first stack's first; `fallback` where they name none.
 */
export function assemblyScope(
  dirs: readonly string[],
  fallback: { accountId: string; region: string },
): { accountId: string; regions: string[]; regionStacks: RegionStacks[] } {
  const stacks = dirs.flatMap((d) => readCloudAssembly(d));
  const accounts = [...new Set(stacks.flatMap((s) => (s.account ? [s.account] : [])))];
  if (accounts.length > 1) throw new AssemblyScopeError(manyAccounts(stacks, accounts));
  const regionOf = (s: AssemblyStack) => s.region ?? fallback.region;
  const found = [...new Set(stacks.map(regionOf))];
  const regions = found.length > 0 ? found : [fallback.region];
  return {
    accountId: accounts[0] ?? fallback.accountId,
    regions,
    regionStacks: regions.map((region) => ({
      region,
      stacks: [...new Set(stacks.filter((s) => regionOf(s) === region).map((s) => s.stackName))],
    })),
  };
}

/** A region the local mesh serves and the stacks (their names) deployed in it. */
export interface RegionStacks {
  readonly region: string;
  readonly stacks: readonly string[];
}

/**
 * Why stacks of several accounts cannot be served together, each account with its stacks (and their
 * stages), and the way out: an app with a stage per account (as CDK Pipelines declares dev and prod) is
 * served one stage at a time.
 */
function manyAccounts(stacks: readonly AssemblyStack[], accounts: readonly string[]): string {
  const stages = [...new Set(stacks.flatMap((s) => (s.stage ? [s.stage] : [])))];
  const named = accounts.map((account) => {
    const own = stacks.filter((s) => s.account === account);
    const byStage = [...new Set(own.map((s) => s.stage))].map((stage) => {
      const names = own.filter((s) => s.stage === stage).map((s) => s.stackName);
      return stage ? `stage ${stage}: ${names.join(', ')}` : names.join(', ');
    });
    return `${account} (${byStage.join('; ')})`;
  });
  const pick = stages.length > 0 ? `serve one stage with --stage <${stages.join('|')}>, or ` : '';
  return `the stacks name ${accounts.length} accounts: ${named.join(', ')}; the local mesh serves one account: ${pick}give every stack the same env.account`;
}

/** Artifacts ordered so each comes after its dependencies (manifest order otherwise). */
function dependencyOrder(artifacts: Record<string, ManifestArtifact>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id) || !artifacts[id]) return;
    seen.add(id);
    for (const d of artifacts[id].dependencies ?? []) visit(d);
    out.push(id);
  };
  for (const id of Object.keys(artifacts)) visit(id);
  return out;
}
