/**
 * Finding and reading a nested stack's template within what the assembly and CloudFormation allow. An
 * assembly may come from someone else (a committed cdk.out), and it names each nested template by a path
 * of its own: the template must be a file of the assembly (no `..`, no link out of it), at most 1 MB,
 * not a template that holds the nested stack already, and the stacks few and shallow enough to read in
 * moments. Each refusal names the nested stack and the fix.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { AssemblyScopeError } from './assembly-scope-error';
import type { Template, TemplateResource } from './cloud-assembly';
import { parseTemplate } from './template-json';

/** The largest template CloudFormation reads from S3: 1 MB ("Understand CloudFormation quotas"). */
const TEMPLATE_BYTES_MAX = 1024 * 1024;
/** Nested stacks under one stack at most: CloudFormation's default quota of stacks in an account. */
const NESTED_STACKS_MAX = 2000;
/**
 * Levels of nesting read at most. CloudFormation names no limit, but merging costs grow steeply with
 * depth (400 levels took over a minute); real apps nest a few levels.
 */
const NESTING_DEPTH_MAX = 20;

/** Where a nested stack sits: its path and the template files that hold it, from the top. */
export interface Nesting {
  readonly path: string;
  readonly stacks: readonly string[];
  readonly files: readonly string[];
}

/** Reads the nested templates under one top-level stack, counting them. */
export class NestedTemplates {
  private count = 0;

  constructor(
    private readonly root: string,
    private readonly where: string,
    private readonly assets: ReadonlyMap<string, string>,
  ) {}

  /** The template of nested stack `r` at `at`, and the files that hold it from now on; undefined for one outside the assembly's assets. */
  read(r: TemplateResource, at: Nesting): { template: Template; files: string[] } | undefined {
    const named = this.fileOf(r);
    if (!named) return undefined;
    if (++this.count > NESTED_STACKS_MAX) {
      throw new AssemblyScopeError(
        `stack ${this.where}: more than ${NESTED_STACKS_MAX} nested stacks (the default quota of stacks in an account; ${at.path} is past it): hold fewer, or share one nested stack among services`,
      );
    }
    if (at.stacks.length > NESTING_DEPTH_MAX) {
      throw new AssemblyScopeError(
        `the nested stack ${at.path} is nested ${at.stacks.length} deep; the local mesh reads at most ${NESTING_DEPTH_MAX} levels: nest fewer (one nested stack may hold many side by side)`,
      );
    }
    const file = this.inAssembly(named, at.path);
    if (at.files.includes(file)) {
      const loop = [...at.stacks.slice(at.files.indexOf(file)), at.path].join(' -> ');
      throw new AssemblyScopeError(
        `the nested stack ${at.path} holds itself: ${loop} (template ${file}); CloudFormation would never finish creating it: give the nested stack a template of its own`,
      );
    }
    return { template: readTemplate(file, at.path), files: [...at.files, file] };
  }

  /**
   * The nested template's file: the asset its TemplateURL names by hash, else the `aws:asset:path` the
   * resource's metadata gives; undefined for a template from outside the assembly (nothing to run).
   */
  private fileOf(r: TemplateResource): string | undefined {
    const hash = /([0-9a-f]{64})\.json/.exec(JSON.stringify(r.Properties?.TemplateURL ?? ''))?.[1];
    const byHash = hash ? this.assets.get(hash) : undefined;
    if (byHash) return byHash;
    const path = r.Metadata?.['aws:asset:path'];
    return typeof path === 'string' ? join(this.root, path) : undefined;
  }

  /** The file's real path, refused unless it is within the assembly: cdk synth writes every nested template there. */
  private inAssembly(file: string, path: string): string {
    const real = realPath(file, path);
    const within = relative(realpathSync(this.root), real);
    if (within === '..' || within.startsWith(`..${sep}`) || isAbsolute(within)) {
      throw new AssemblyScopeError(
        `the nested stack ${path}: its template ${file} is outside the cloud assembly ${this.root}: synthesize the app again (npx cdk synth), which writes nested templates into it`,
      );
    }
    return real;
  }
}

/** The nesting of the top-level stack `where` read from `file`. */
export function topNesting(where: string, file: string): Nesting {
  return { path: where, stacks: [where], files: [realPath(file, where)] };
}

function realPath(file: string, path: string): string {
  try {
    return realpathSync(file);
  } catch {
    throw new AssemblyScopeError(
      `the nested stack ${path}: its template ${file} does not exist: synthesize the app again (npx cdk synth)`,
    );
  }
}

function readTemplate(file: string, path: string): Template {
  const stat = statSync(file);
  if (!stat.isFile()) {
    throw new AssemblyScopeError(
      `the nested stack ${path}: its template ${file} is not a file: synthesize the app again (npx cdk synth)`,
    );
  }
  if (stat.size > TEMPLATE_BYTES_MAX) {
    throw new AssemblyScopeError(
      `the nested stack ${path}: its template ${file} is ${stat.size} bytes; CloudFormation reads at most ${TEMPLATE_BYTES_MAX}: move resources into another nested stack`,
    );
  }
  return parseTemplate(readFileSync(file), `the nested stack ${path}: its template ${file}`);
}
