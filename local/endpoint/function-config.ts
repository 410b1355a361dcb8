/**
 * A version record as Lambda's FunctionConfiguration, every field AWS sends (API reference,
 * "FunctionConfiguration"): CodeSize, EphemeralStorage, LoggingConfig, SnapStart, RuntimeVersionConfig,
 * State and LastUpdateStatus with their reasons, and RevisionId. List operations send a subset: the
 * ListFunctions reference names State, StateReason(Code), LastUpdateStatus(Reason/ReasonCode) and
 * RuntimeVersionConfig as fields only GetFunction returns. Pure: a record in, the wire shape out.
 */
import { createHash } from 'node:crypto';
import type { FunctionConfig } from './backend';

/** Lambda's state of a function version (API reference, "Lambda function states"). */
export interface VersionState {
  readonly State: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  readonly StateReason?: string;
  readonly StateReasonCode?: string;
}

/** The outcome of the last update of a version's code or configuration. */
export interface UpdateStatus {
  readonly LastUpdateStatus: 'InProgress' | 'Successful' | 'Failed';
  readonly LastUpdateStatusReason?: string;
  readonly LastUpdateStatusReasonCode?: string;
}

export const ACTIVE: VersionState = { State: 'Active' };
/** What Lambda reports while a version is being made (a publish): reason and code as AWS words them. */
export const PENDING: VersionState = {
  State: 'Pending',
  StateReason: 'The function is being created.',
  StateReasonCode: 'Creating',
};
export const SUCCESSFUL: UpdateStatus = { LastUpdateStatus: 'Successful' };
/** What Lambda reports right after UpdateFunctionCode / UpdateFunctionConfiguration (recorded AWS responses). */
export const IN_PROGRESS: UpdateStatus = {
  LastUpdateStatus: 'InProgress',
  LastUpdateStatusReason: 'The function is being created.',
  LastUpdateStatusReasonCode: 'Creating',
};

/** The configuration-relevant parts of a version, as the registry keeps them. */
export interface ConfigSource {
  readonly name: string;
  readonly version: string;
  readonly region: string;
  readonly accountId: string;
  readonly runtime: string;
  readonly handler: string;
  readonly role?: string;
  readonly description: string;
  readonly timeout: number;
  readonly memorySize: number;
  /** Undefined: the function was given no `Environment`, and Lambda's answers carry none. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly layerArns: readonly string[];
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly lastModified: string;
  readonly revisionId: string;
  readonly tracingMode?: string;
  readonly ephemeralStorageMb?: number;
  readonly architectures?: readonly string[];
  readonly logFormat?: string;
  readonly logGroup?: string;
  readonly deadLetterTargetArn?: string;
  readonly state: VersionState;
  /** Absent while a new version is Pending (AWS sends none then). */
  readonly update?: UpdateStatus;
}

/** Which ARN a caller sees: the unqualified one, or qualified by version or alias name. */
export type ArnStyle = { readonly kind: 'unqualified' } | { readonly kind: 'qualified'; readonly qualifier: string };

/** Full FunctionConfiguration (GetFunction, GetFunctionConfiguration, PublishVersion, Update*). */
export function functionConfiguration(s: ConfigSource, arn: ArnStyle): FunctionConfig {
  const base = `arn:aws:lambda:${s.region}:${s.accountId}:function:${s.name}`;
  return {
    FunctionName: s.name,
    FunctionArn: arn.kind === 'qualified' ? `${base}:${arn.qualifier}` : base,
    Version: s.version,
    Runtime: s.runtime,
    Role: s.role ?? `arn:aws:iam::${s.accountId}:role/${s.name}-role`,
    Handler: s.handler,
    Description: s.description,
    Timeout: s.timeout,
    MemorySize: s.memorySize,
    LastModified: s.lastModified,
    CodeSha256: s.codeSha256,
    CodeSize: s.codeSize,
    ...(s.environment ? { Environment: { Variables: { ...s.environment } } } : {}),
    TracingConfig: { Mode: s.tracingMode ?? 'PassThrough' },
    ...(s.deadLetterTargetArn ? { DeadLetterConfig: { TargetArn: s.deadLetterTargetArn } } : {}),
    ...(s.layerArns.length > 0 ? { Layers: s.layerArns.map((Arn) => ({ Arn })) } : {}),
    RevisionId: s.revisionId,
    PackageType: 'Zip',
    Architectures: [...(s.architectures ?? ['x86_64'])],
    EphemeralStorage: { Size: s.ephemeralStorageMb ?? 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: s.logFormat ?? 'Text', LogGroup: s.logGroup ?? `/aws/lambda/${s.name}` },
    RuntimeVersionConfig: { RuntimeVersionArn: runtimeVersionArn(s.region, s.runtime) },
    ...s.state,
    ...(s.update ?? {}),
  };
}

const LIST_OMITS = [
  'State',
  'StateReason',
  'StateReasonCode',
  'LastUpdateStatus',
  'LastUpdateStatusReason',
  'LastUpdateStatusReasonCode',
  'RuntimeVersionConfig',
] as const;

/** The subset ListFunctions and ListVersionsByFunction send. */
export function listedConfiguration(config: FunctionConfig): FunctionConfig {
  const out: Record<string, unknown> = { ...config };
  for (const k of LIST_OMITS) delete out[k];
  return out as unknown as FunctionConfig;
}

/**
 * `arn:aws:lambda:<region>::runtime:<64 hex>`: Lambda names the runtime build a version runs; locally
 * the build is the runtime name, so the id is a stable hash of it.
 */
export function runtimeVersionArn(region: string, runtime: string): string {
  return `arn:aws:lambda:${region}::runtime:${createHash('sha256').update(runtime).digest('hex')}`;
}
