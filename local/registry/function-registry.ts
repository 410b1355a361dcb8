/**
 * The local mesh's deployment state: functions with their $LATEST configuration, published
 * versions (immutable snapshots), and aliases with routing weights. The endpoint serves the Lambda
 * API from it; the invoker asks it which spec (code dir, layers, env, timeout, memory) a version runs.
 * Publishing follows AWS: an unchanged $LATEST returns the latest version instead of a new one.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AliasConfig, AliasInput, EndpointRegistry, FunctionConfig } from '../endpoint/backend';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LATEST = '$LATEST';

/** What runs: everything the worker needs to be the function's execution environment. */
export interface FunctionSpec {
  readonly name: string;
  /** Directory with the function's code (the asset dir; LAMBDA_TASK_ROOT). */
  readonly codeDir: string;
  /** `file.export`, or an absolute `/opt/...` path (rewritten to the merged /opt dir). */
  readonly handler: string;
  /** e.g. `nodejs20.x` */
  readonly runtime: string;
  /** Seconds. */
  readonly timeout: number;
  /** MB. */
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Layer asset directories, in the function's layer order (later layers win on merge, as Lambda). */
  readonly layerDirs: readonly string[];
  /** Layer ARNs reported by GetFunction (local names). */
  readonly layerArns?: readonly string[];
  /** Content hashes of the layers: a layer's content is part of the version, its staging dir is not. */
  readonly layerSha256s?: readonly string[];
  readonly role?: string;
  readonly description?: string;
  /** Reserved concurrency; undefined = the mesh's default per-function limit. */
  readonly reservedConcurrency?: number;
  /** Hash of the code (asset hash from the assembly, or a hash of the code dir). */
  readonly codeSha256: string;
}

export interface VersionRecord {
  readonly version: string;
  readonly spec: FunctionSpec;
  readonly lastModified: string;
  readonly description?: string;
  /** Fingerprint of code + configuration: equal fingerprints publish no new version. */
  readonly fingerprint: string;
}

export interface FunctionRegistryOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** Draw in [0,1) for alias weights. @default Math.random */
  readonly random?: () => number;
}

interface FunctionState {
  latest: VersionRecord;
  versions: Map<string, VersionRecord>;
  nextVersion: number;
  aliases: Map<string, AliasConfig>;
}

/** Code + configuration identity of a spec: what makes AWS publish a new version. */
export function specFingerprint(spec: FunctionSpec): string {
  const { name: _n, codeDir: _c, layerDirs, ...rest } = spec;
  // Directories differ between two synths of the same code; hashes do not. Without hashes, dirs count.
  const layers = spec.layerSha256s ?? layerDirs;
  const { environment, ...flat } = rest;
  const stable =
    JSON.stringify(flat, Object.keys(flat).sort()) + JSON.stringify(sortObj(environment)) + JSON.stringify(layers);
  return createHash('sha256').update(stable).digest('base64');
}

function sortObj(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function awsTimestamp(d = new Date()): string {
  return d.toISOString().replace('Z', '+0000');
}

export class FunctionRegistry implements EndpointRegistry {
  readonly region: string;
  readonly accountId: string;
  private readonly random: () => number;
  private readonly fns = new Map<string, FunctionState>();
  private readonly listeners: ((name: string) => void)[] = [];

  constructor(options: FunctionRegistryOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT;
    this.random = options.random ?? Math.random;
  }

  /** `arn:aws:lambda:<region>:<acct>:function:<name>[:<qualifier>]` */
  arn(name: string, qualifier?: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
  }

  /** Called with the function name whenever its $LATEST changes (workers of $LATEST get recycled). */
  onChange(listener: (name: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Creates or updates a function's $LATEST (a deployment). Returns whether code or configuration
   * changed, so the deployer knows to publish.
   */
  putFunction(spec: FunctionSpec): { created: boolean; changed: boolean } {
    const fingerprint = specFingerprint(spec);
    const record: VersionRecord = { version: LATEST, spec, lastModified: awsTimestamp(), fingerprint };
    const existing = this.fns.get(spec.name);
    if (!existing) {
      this.fns.set(spec.name, { latest: record, versions: new Map(), nextVersion: 1, aliases: new Map() });
      return { created: true, changed: true };
    }
    const changed = existing.latest.fingerprint !== fingerprint;
    if (changed) {
      existing.latest = record;
      for (const l of this.listeners) l(spec.name);
    }
    return { created: false, changed };
  }

  hasFunction(name: string): boolean {
    return this.fns.has(name);
  }

  functionNames(): string[] {
    return [...this.fns.keys()].sort();
  }

  /** The spec a version (or `$LATEST`) runs; undefined when unknown. */
  getSpec(name: string, version: string = LATEST): FunctionSpec | undefined {
    return this.getRecord(name, version)?.spec;
  }

  getRecord(name: string, version: string = LATEST): VersionRecord | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    return version === LATEST ? fn.latest : fn.versions.get(version);
  }

  /** Highest published version number, or undefined when none. */
  latestPublished(name: string): string | undefined {
    const fn = this.fns.get(name);
    if (!fn || fn.versions.size === 0) return undefined;
    return String(fn.nextVersion - 1);
  }

  listFunctions(): readonly FunctionConfig[] {
    return this.functionNames().map((n) => this.config(n, this.fns.get(n)!.latest));
  }

  getFunction(name: string, qualifier?: string): FunctionConfig | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (!qualifier || qualifier === LATEST) return this.config(name, fn.latest);
    const alias = fn.aliases.get(qualifier);
    const version = alias ? alias.FunctionVersion : qualifier;
    const rec = version === LATEST ? fn.latest : fn.versions.get(version);
    return rec ? this.config(name, rec) : undefined;
  }

  listVersions(name: string): readonly FunctionConfig[] | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    const published = [...fn.versions.values()].sort((a, b) => Number(a.version) - Number(b.version));
    return [this.config(name, fn.latest), ...published.map((r) => this.config(name, r))];
  }

  publishVersion(name: string, input: { readonly Description?: string } = {}): FunctionConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    const last = fn.versions.get(String(fn.nextVersion - 1));
    if (last && last.fingerprint === fn.latest.fingerprint) return this.config(name, last);
    const version = String(fn.nextVersion++);
    const rec: VersionRecord = { ...fn.latest, version, lastModified: awsTimestamp(), description: input.Description };
    fn.versions.set(version, rec);
    return this.config(name, rec);
  }

  getAlias(name: string, alias: string): AliasConfig | undefined {
    return this.fns.get(name)?.aliases.get(alias);
  }

  listAliases(name: string): readonly AliasConfig[] | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    return [...fn.aliases.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  createAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    if (fn.aliases.has(alias)) {
      throw Object.assign(new Error(`Alias already exists: ${this.arn(name, alias)}`), {
        name: 'ResourceConflictException',
      });
    }
    const cfg = this.aliasConfig(name, alias, input.FunctionVersion ?? LATEST, input);
    fn.aliases.set(alias, cfg);
    return cfg;
  }

  updateAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const fn = this.fns.get(name);
    const existing = fn?.aliases.get(alias);
    if (!fn || !existing) throw notFound(this.arn(name, alias));
    const merged: AliasInput = {
      Description: input.Description ?? existing.Description,
      // AWS: an UpdateAlias without RoutingConfig keeps the old one.
      RoutingConfig: input.RoutingConfig ?? existing.RoutingConfig,
    };
    const cfg = this.aliasConfig(name, alias, input.FunctionVersion ?? existing.FunctionVersion, merged);
    fn.aliases.set(alias, cfg);
    return cfg;
  }

  /** Creates the alias or replaces its target and weights (deployments use this). */
  putAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    const cfg = this.aliasConfig(name, alias, input.FunctionVersion ?? LATEST, input);
    fn.aliases.set(alias, cfg);
    return cfg;
  }

  resolveVersion(name: string, qualifier?: string): string | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (!qualifier || qualifier === LATEST) return LATEST;
    const alias = fn.aliases.get(qualifier);
    if (!alias) return fn.versions.has(qualifier) ? qualifier : undefined;
    // Lambda's alias routing: a random per-request draw; the extra version takes its weight.
    const extra = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
    let draw = this.random();
    for (const [version, weight] of extra) {
      if (draw < weight) return version;
      draw -= weight;
    }
    return alias.FunctionVersion;
  }

  private aliasConfig(name: string, alias: string, version: string, input: AliasInput): AliasConfig {
    const weights = input.RoutingConfig?.AdditionalVersionWeights;
    return {
      AliasArn: this.arn(name, alias),
      Name: alias,
      FunctionVersion: version,
      Description: input.Description ?? '',
      ...(weights && Object.keys(weights).length > 0
        ? { RoutingConfig: { AdditionalVersionWeights: { ...weights } } }
        : {}),
      RevisionId: randomUUID(),
    };
  }

  private config(name: string, rec: VersionRecord): FunctionConfig {
    const s = rec.spec;
    return {
      FunctionName: name,
      FunctionArn: rec.version === LATEST ? this.arn(name) : this.arn(name, rec.version),
      Version: rec.version,
      Runtime: s.runtime,
      Role: s.role ?? `arn:aws:iam::${this.accountId}:role/${name}-role`,
      Handler: s.handler,
      Description: rec.description ?? s.description ?? '',
      Timeout: s.timeout,
      MemorySize: s.memorySize,
      LastModified: rec.lastModified,
      CodeSha256: s.codeSha256,
      Environment: { Variables: { ...s.environment } },
      TracingConfig: { Mode: 'Active' },
      Layers: (s.layerArns ?? []).map((Arn) => ({ Arn })),
      RevisionId: createHash('md5')
        .update(rec.fingerprint + rec.version)
        .digest('hex'),
      State: 'Active',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
    };
  }
}

function notFound(arn: string): Error {
  return Object.assign(new Error(`Function not found: ${arn}`), { name: 'ResourceNotFoundException' });
}
