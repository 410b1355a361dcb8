/**
 * The local mesh's deployment state of one region: functions with their $LATEST configuration,
 * published versions (immutable snapshots), aliases with routing weights, and what Lambda keeps beside
 * them (tags, resource policies, reserved concurrency). The endpoint serves the Lambda
 * API from it; the invoker asks it which spec (code dir, layers, env, timeout, memory) a version runs.
 *
 * It moves through Lambda's states as AWS does: an update over the wire (UpdateFunctionCode,
 * UpdateFunctionConfiguration) leaves `LastUpdateStatus: InProgress` and refuses a second update until it
 * settles to `Successful`; a version UpdateFunctionCode publishes is `Pending` until it is `Active`
 * (PublishVersion, of a settled $LATEST, answers an `Active` one, as Lambda does). So tools that wait
 * (`function-updated-v2`, `published-version-active`) see what AWS shows them. A deployment
 * waits for both, as CloudFormation does: what it writes is Active and Successful at once.
 * Publishing follows AWS: an unchanged $LATEST returns the latest version instead of a new one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AliasConfig,
  AliasInput,
  CodeUpdate,
  ConfigurationUpdate,
  EndpointRegistry,
  FunctionConfig,
} from '../endpoint/backend';
import { AwsError } from '../endpoint/errors';
import {
  ACTIVE,
  type ArnStyle,
  functionConfiguration,
  IN_PROGRESS,
  PENDING,
  SUCCESSFUL,
  type UpdateStatus,
  type VersionState,
} from '../endpoint/function-config';
import { type PolicyStatement, resourcePolicy } from '../endpoint/resource-policy';

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
  /**
   * Whether the template (or an UpdateFunctionConfiguration) gave an `Environment`, even an empty one.
   * Lambda's answers carry `Environment` for a function that was given one, and none for a function
   * created without (recorded AWS responses: LocalStack's test_version_lifecycle creates one without,
   * test_function_lifecycle one with `{"Variables": {}}`); CDK writes none for a function without variables.
   */
  readonly environmentDeclared?: boolean;
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
  /** `Active` or `PassThrough` (TracingConfig.Mode). @default PassThrough */
  readonly tracingMode?: string;
  /** /tmp size in MB (EphemeralStorage.Size). @default 512 */
  readonly ephemeralStorageMb?: number;
  /** @default ['x86_64'] */
  readonly architectures?: readonly string[];
  /** LoggingConfig.LogFormat. @default Text */
  readonly logFormat?: string;
  /** LoggingConfig.LogGroup. @default /aws/lambda/<name> */
  readonly logGroup?: string;
  /** LoggingConfig.ApplicationLogLevel, applied with the JSON format only. @default INFO */
  readonly applicationLogLevel?: string;
  /** DeadLetterConfig.TargetArn: where an Event invoke that failed every attempt goes. */
  readonly deadLetterTargetArn?: string;
}

export interface VersionRecord {
  readonly version: string;
  readonly spec: FunctionSpec;
  readonly lastModified: string;
  readonly description?: string;
  /** Fingerprint of code + configuration: equal fingerprints publish no new version. */
  readonly fingerprint: string;
  /** Changes with every change of the version, its state included (as AWS's RevisionId). */
  readonly revisionId: string;
  readonly state: VersionState;
  /** Absent while a newly published version is Pending. */
  readonly update?: UpdateStatus;
  /** Bytes of code in the code directory (Lambda: the deployment package). */
  readonly codeSize: number;
}

export interface FunctionRegistryOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** Draw in [0,1) for alias weights. @default Math.random */
  readonly random?: () => number;
  /**
   * How long an update or publish over the wire stays InProgress / Pending before it settles, so
   * waiting tools see the transition. @default 250
   */
  readonly settleMs?: number;
  /** When a pending update or publish settles (tests hold them). @default after `settleMs` */
  readonly settle?: (run: () => void) => void;
}

interface FunctionState {
  latest: VersionRecord;
  versions: Map<string, VersionRecord>;
  nextVersion: number;
  aliases: Map<string, AliasConfig>;
  tags: Record<string, string>;
  /** Resource policy statements per qualifier (`$LATEST` = the unqualified function). */
  policies: Map<string, PolicyStatement[]>;
  /** PutFunctionConcurrency (null = deleted); undefined = the deployed template's value. */
  concurrency?: number | null;
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

/** Bytes under a directory; an unreadable one counts 0 (the function may run from elsewhere). */
export function directorySize(dir: string): number {
  let total = 0;
  const walk = (p: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else total += st.size;
  };
  walk(dir);
  return total;
}

/**
 * sha256 (base64, as Lambda's CodeSha256) over a directory's files, their relative paths and contents in
 * a stable order: what code a function runs, wherever its directory is.
 */
export function directorySha256(dir: string): string {
  const h = createHash('sha256');
  const walk = (p: string, rel: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort()) walk(join(p, n), rel ? `${rel}/${n}` : n);
    } else h.update(`${rel}\0${st.size}\0`).update(readFileSync(p));
  };
  walk(dir, '');
  return h.digest('base64');
}

export class FunctionRegistry implements EndpointRegistry {
  readonly region: string;
  readonly accountId: string;
  private readonly random: () => number;
  private readonly settle: (run: () => void) => void;
  protected readonly fns = new Map<string, FunctionState>();
  private readonly listeners: ((name: string) => void)[] = [];

  constructor(options: FunctionRegistryOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT;
    this.random = options.random ?? Math.random;
    const settleMs = options.settleMs ?? 250;
    this.settle = options.settle ?? ((run) => void setTimeout(run, settleMs).unref());
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
    const existing = this.fns.get(spec.name);
    const record = this.record(LATEST, spec, { state: ACTIVE, update: SUCCESSFUL });
    if (!existing) {
      this.fns.set(spec.name, {
        latest: record,
        versions: new Map(),
        nextVersion: 1,
        aliases: new Map(),
        tags: {},
        policies: new Map(),
      });
      return { created: true, changed: true };
    }
    // A changed template value is applied as CloudFormation would (PutFunctionConcurrency).
    if (existing.latest.spec.reservedConcurrency !== spec.reservedConcurrency) existing.concurrency = undefined;
    const changed = existing.latest.fingerprint !== record.fingerprint;
    if (changed) this.replaceLatest(spec.name, existing, record);
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
    return this.functionNames().map((n) => this.config(n, this.fns.get(n)!.latest, { kind: 'unqualified' }));
  }

  getFunction(name: string, qualifier?: string): FunctionConfig | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (!qualifier) return this.config(name, fn.latest, { kind: 'unqualified' });
    const alias = fn.aliases.get(qualifier);
    const version = alias ? alias.FunctionVersion : qualifier;
    const rec = version === LATEST ? fn.latest : fn.versions.get(version);
    // Through an alias AWS reports the alias's version under the ARN the caller named.
    return rec ? this.config(name, rec, { kind: 'qualified', qualifier }) : undefined;
  }

  /** `$LATEST` then every published version, ascending, each under its qualified ARN (as AWS lists them). */
  listVersions(name: string): readonly FunctionConfig[] | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    const published = [...fn.versions.values()].sort((a, b) => Number(a.version) - Number(b.version));
    return [fn.latest, ...published].map((r) => this.config(name, r, { kind: 'qualified', qualifier: r.version }));
  }

  /**
   * Publishes $LATEST as a new version (or returns the latest version when nothing changed, as AWS).
   * $LATEST has settled (an update in progress is refused), so the version is Active at once, as
   * Lambda answers PublishVersion; only UpdateFunctionCode's `Publish` makes a Pending one.
   */
  publishVersion(name: string, input: { readonly Description?: string } = {}): FunctionConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    this.refuseWhileUpdating(name, fn);
    return this.publish(name, fn, input.Description, false);
  }

  /**
   * UpdateFunctionCode: new code for $LATEST, InProgress until it settles; `publish` publishes it at once
   * (Pending). Returns $LATEST's configuration, or the new version's when published.
   */
  updateFunctionCode(name: string, code: CodeUpdate, options: { readonly publish?: boolean } = {}): FunctionConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    this.refuseWhileUpdating(name, fn);
    const spec: FunctionSpec = { ...fn.latest.spec, codeDir: code.codeDir, codeSha256: code.codeSha256 };
    this.beginUpdate(name, fn, spec, code.codeSize);
    // Publish=true publishes the new code at once, while the update itself is still in progress.
    if (options.publish) return this.publish(name, fn, undefined, true);
    return this.config(name, fn.latest, { kind: 'unqualified' });
  }

  /** UpdateFunctionConfiguration: the settings given change on $LATEST, InProgress until it settles. */
  updateFunctionConfiguration(name: string, update: ConfigurationUpdate): FunctionConfig {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    this.refuseWhileUpdating(name, fn);
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    if (update.environment) defined.environmentDeclared = true;
    this.beginUpdate(name, fn, { ...fn.latest.spec, ...defined });
    return this.config(name, fn.latest, { kind: 'unqualified' });
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
      throw new AwsError('ResourceConflictException', 409, `Alias already exists: ${this.arn(name, alias)}`);
    }
    const cfg = this.aliasConfig(name, alias, input.FunctionVersion ?? LATEST, input);
    fn.aliases.set(alias, cfg);
    return cfg;
  }

  updateAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const fn = this.fns.get(name);
    const existing = fn?.aliases.get(alias);
    if (!fn || !existing)
      throw new AwsError('ResourceNotFoundException', 404, `Alias not found: ${this.arn(name, alias)}`);
    const merged: AliasInput = {
      Description: input.Description ?? existing.Description,
      // AWS: an UpdateAlias without RoutingConfig keeps the old one.
      RoutingConfig: input.RoutingConfig ?? existing.RoutingConfig,
    };
    const cfg = this.aliasConfig(name, alias, input.FunctionVersion ?? existing.FunctionVersion, merged);
    fn.aliases.set(alias, cfg);
    return cfg;
  }

  /** DeleteAlias; deleting an alias that does not exist succeeds, as on AWS. False = no such function. */
  deleteAlias(name: string, alias: string): boolean {
    const fn = this.fns.get(name);
    if (!fn) return false;
    fn.aliases.delete(alias);
    fn.policies.delete(alias);
    return true;
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

  /** The function's tags (ListTags); undefined = no such function. */
  tags(name: string): Readonly<Record<string, string>> | undefined {
    const fn = this.fns.get(name);
    return fn && { ...fn.tags };
  }

  /** TagResource (adds or overwrites) and UntagResource (removes; unknown keys are fine). */
  setTags(name: string, add: Readonly<Record<string, string>>, remove: readonly string[] = []): void {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    for (const k of remove) delete fn.tags[k];
    Object.assign(fn.tags, add);
  }

  /** The resource policy of a function, version or alias; undefined when it has no statement. */
  policy(name: string, qualifier = LATEST): { Policy: string; RevisionId: string } | undefined {
    const fn = this.fns.get(name);
    const statements = fn?.policies.get(qualifier);
    if (!fn || !statements || statements.length === 0) return undefined;
    return { Policy: JSON.stringify(resourcePolicy(statements)), RevisionId: this.revisionOf(fn, qualifier) };
  }

  /** The statements of a qualifier's policy, none when it has none. */
  policyStatements(name: string, qualifier = LATEST): readonly PolicyStatement[] {
    return this.fns.get(name)?.policies.get(qualifier) ?? [];
  }

  /**
   * Adds a statement to a qualifier's policy, replacing the one with its Sid (a redeployed template's
   * permission). The same statement again changes nothing, its RevisionId included.
   */
  putStatement(name: string, qualifier: string, statement: PolicyStatement): void {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    const list = fn.policies.get(qualifier) ?? [];
    const i = list.findIndex((s) => s.Sid === statement.Sid);
    if (i >= 0 && JSON.stringify(list[i]) === JSON.stringify(statement)) return;
    fn.policies.set(qualifier, i >= 0 ? list.map((s, j) => (j === i ? statement : s)) : [...list, statement]);
    this.touch(fn, qualifier);
  }

  /** Removes the statement `sid` from a qualifier's policy; false when it holds none. */
  removeStatement(name: string, qualifier: string, sid: string): boolean {
    const fn = this.fns.get(name);
    const list = fn?.policies.get(qualifier) ?? [];
    if (!fn || !list.some((s) => s.Sid === sid)) return false;
    const rest = list.filter((s) => s.Sid !== sid);
    if (rest.length > 0) fn.policies.set(qualifier, rest);
    else fn.policies.delete(qualifier);
    this.touch(fn, qualifier);
    return true;
  }

  /** A policy change counts as a change of the version or alias: its RevisionId moves. */
  private touch(fn: FunctionState, qualifier: string): void {
    const alias = fn.aliases.get(qualifier);
    if (alias) {
      fn.aliases.set(qualifier, { ...alias, RevisionId: randomUUID() });
      return;
    }
    const rec = qualifier === LATEST ? fn.latest : fn.versions.get(qualifier);
    if (!rec) return;
    const next = { ...rec, revisionId: randomUUID() };
    if (qualifier === LATEST) fn.latest = next;
    else fn.versions.set(qualifier, next);
  }

  /** The RevisionId of `$LATEST`, a version or an alias (undefined when it does not exist). */
  revisionId(name: string, qualifier = LATEST): string | undefined {
    const fn = this.fns.get(name);
    return fn ? this.revisionOf(fn, qualifier) || undefined : undefined;
  }

  /** Reserved concurrency in force: PutFunctionConcurrency's, else the deployed template's. */
  reservedConcurrency(name: string): number | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (fn.concurrency === null) return undefined;
    return fn.concurrency ?? fn.latest.spec.reservedConcurrency;
  }

  /** PutFunctionConcurrency (a number) or DeleteFunctionConcurrency (null). */
  setReservedConcurrency(name: string, value: number | null): void {
    const fn = this.fns.get(name);
    if (!fn) throw notFound(this.arn(name));
    fn.concurrency = value;
  }

  /** Function count and code size over every version, for GetAccountSettings. */
  usage(): { functionCount: number; totalCodeSize: number } {
    let totalCodeSize = 0;
    for (const fn of this.fns.values()) {
      totalCodeSize += fn.latest.codeSize;
      for (const v of fn.versions.values()) totalCodeSize += v.codeSize;
    }
    return { functionCount: this.fns.size, totalCodeSize };
  }

  private publish(name: string, fn: FunctionState, description: string | undefined, pending: boolean): FunctionConfig {
    const last = fn.versions.get(String(fn.nextVersion - 1));
    if (last && last.fingerprint === fn.latest.fingerprint) {
      return this.config(name, last, { kind: 'qualified', qualifier: last.version });
    }
    const version = String(fn.nextVersion++);
    const rec: VersionRecord = {
      ...fn.latest,
      version,
      lastModified: awsTimestamp(),
      // PublishVersion's Description overrides the function's for this version only.
      description,
      revisionId: randomUUID(),
      ...(pending ? { state: PENDING, update: undefined } : { state: ACTIVE, update: SUCCESSFUL }),
    };
    fn.versions.set(version, rec);
    if (pending) {
      this.later(() => {
        if (fn.versions.get(version) !== rec) return;
        fn.versions.set(version, { ...rec, state: ACTIVE, update: SUCCESSFUL, revisionId: randomUUID() });
      });
    }
    return this.config(name, rec, { kind: 'qualified', qualifier: version });
  }

  private revisionOf(fn: FunctionState, qualifier: string): string {
    const alias = fn.aliases.get(qualifier);
    if (alias) return alias.RevisionId;
    return (qualifier === LATEST ? fn.latest : fn.versions.get(qualifier))?.revisionId ?? '';
  }

  /** AWS refuses a change of a function while an earlier update of it is in progress (409). */
  private refuseWhileUpdating(name: string, fn: FunctionState): void {
    if (fn.latest.update?.LastUpdateStatus !== 'InProgress') return;
    throw new AwsError(
      'ResourceConflictException',
      409,
      `The operation cannot be performed at this time. An update is in progress for resource: ${this.arn(name)}`,
    );
  }

  /** $LATEST takes `spec` now, InProgress; it settles to Successful after `settleMs`. */
  private beginUpdate(name: string, fn: FunctionState, spec: FunctionSpec, codeSize?: number): void {
    const record = this.record(LATEST, spec, { state: ACTIVE, update: IN_PROGRESS }, codeSize);
    this.replaceLatest(name, fn, record);
    this.later(() => {
      if (fn.latest !== record) return;
      fn.latest = { ...record, update: SUCCESSFUL, revisionId: randomUUID() };
    });
  }

  private replaceLatest(name: string, fn: FunctionState, record: VersionRecord): void {
    fn.latest = record;
    for (const l of this.listeners) l(name);
  }

  private later(run: () => void): void {
    this.settle(run);
  }

  private record(
    version: string,
    spec: FunctionSpec,
    status: { state: VersionState; update?: UpdateStatus },
    codeSize?: number,
  ): VersionRecord {
    return {
      version,
      spec,
      lastModified: awsTimestamp(),
      fingerprint: specFingerprint(spec),
      revisionId: randomUUID(),
      codeSize: codeSize ?? directorySize(spec.codeDir),
      ...status,
    };
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

  private config(name: string, rec: VersionRecord, arn: ArnStyle): FunctionConfig {
    const s = rec.spec;
    return functionConfiguration(
      {
        name,
        version: rec.version,
        region: this.region,
        accountId: this.accountId,
        runtime: s.runtime,
        handler: s.handler,
        role: s.role,
        description: rec.description ?? s.description ?? '',
        timeout: s.timeout,
        memorySize: s.memorySize,
        environment: s.environmentDeclared || Object.keys(s.environment).length > 0 ? s.environment : undefined,
        layerArns: s.layerArns ?? [],
        codeSha256: s.codeSha256,
        codeSize: rec.codeSize,
        lastModified: rec.lastModified,
        revisionId: rec.revisionId,
        tracingMode: s.tracingMode,
        ephemeralStorageMb: s.ephemeralStorageMb,
        architectures: s.architectures,
        logFormat: s.logFormat,
        logGroup: s.logGroup,
        deadLetterTargetArn: s.deadLetterTargetArn,
        state: rec.state,
        update: rec.update,
      },
      arn,
    );
  }
}

function notFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, `Function not found: ${arn}`);
}
