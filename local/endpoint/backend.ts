/**
 * What the endpoint consumes from the local mesh's deployment state and worker invoker.
 * `local/registry/function-registry.ts` and `local/runtime/invoker.ts` own the real thing; these
 * are the minimal shapes the endpoint needs, so their classes (or a thin adapter, or a test double)
 * satisfy them structurally. Results use Lambda's own wire shapes (PascalCase) so the handlers pass
 * them through unchanged.
 */

import type { PolicyStatement } from './resource-policy';

/** Lambda's FunctionConfiguration (the subset the local mesh knows). */
export interface FunctionConfig {
  readonly FunctionName: string;
  /** Unqualified for $LATEST, `...:function:name:<version>` for a published version (as AWS). */
  readonly FunctionArn: string;
  /** `$LATEST` or a published version number. */
  readonly Version: string;
  readonly Runtime?: string;
  readonly Role?: string;
  readonly Handler?: string;
  readonly Description?: string;
  readonly Timeout?: number;
  readonly MemorySize?: number;
  /** `2024-01-01T00:00:00.000+0000` */
  readonly LastModified?: string;
  readonly CodeSha256?: string;
  readonly CodeSize?: number;
  readonly Environment?: { readonly Variables?: Record<string, string> };
  readonly TracingConfig?: { readonly Mode?: string };
  readonly DeadLetterConfig?: { readonly TargetArn?: string };
  readonly Layers?: readonly { readonly Arn: string; readonly CodeSize?: number }[];
  readonly RevisionId?: string;
  readonly State?: string;
  readonly StateReason?: string;
  readonly StateReasonCode?: string;
  readonly LastUpdateStatus?: string;
  readonly LastUpdateStatusReason?: string;
  readonly LastUpdateStatusReasonCode?: string;
  readonly PackageType?: string;
  readonly Architectures?: readonly string[];
  readonly EphemeralStorage?: { readonly Size: number };
  readonly SnapStart?: { readonly ApplyOn: string; readonly OptimizationStatus: string };
  readonly LoggingConfig?: { readonly LogFormat?: string; readonly LogGroup?: string };
  readonly RuntimeVersionConfig?: { readonly RuntimeVersionArn: string };
}

/** The code an UpdateFunctionCode installs. */
export interface CodeUpdate {
  readonly codeDir: string;
  readonly codeSha256: string;
  readonly codeSize?: number;
}

/** The settings UpdateFunctionConfiguration changes (absent = unchanged). */
export interface ConfigurationUpdate {
  readonly handler?: string;
  readonly runtime?: string;
  readonly role?: string;
  readonly description?: string;
  readonly timeout?: number;
  readonly memorySize?: number;
  readonly environment?: Readonly<Record<string, string>>;
  readonly tracingMode?: string;
  readonly ephemeralStorageMb?: number;
  readonly logFormat?: string;
  readonly logGroup?: string;
  readonly applicationLogLevel?: string;
}

/** Lambda's AliasConfiguration. */
export interface AliasConfig {
  readonly AliasArn: string;
  readonly Name: string;
  readonly FunctionVersion: string;
  readonly Description?: string;
  readonly RoutingConfig?: { readonly AdditionalVersionWeights?: Record<string, number> };
  readonly RevisionId: string;
}

export interface AliasInput {
  readonly FunctionVersion?: string;
  readonly Description?: string;
  /** Already validated by the endpoint (one extra published version, weight 0-1). */
  readonly RoutingConfig?: { readonly AdditionalVersionWeights?: Record<string, number> };
}

/**
 * Deployment state of one region. Names passed in are bare function names (the endpoint parses names,
 * ARNs and partial ARNs). "Not found" is `undefined`; the endpoint words AWS's 404. Mutations throw
 * AwsError for what AWS refuses at that level (an update in progress, an unknown function).
 */
export interface EndpointRegistry {
  /** Region and account used in ARNs (for messages the endpoint writes itself). */
  readonly region?: string;
  readonly accountId?: string;
  /** `$LATEST` configuration of every function, sorted by name, unqualified ARNs. */
  listFunctions(): readonly FunctionConfig[];
  /**
   * Configuration at a qualifier: `$LATEST` (unqualified ARN) when absent, a version or an alias → its
   * version's configuration under the qualified ARN the caller named.
   */
  getFunction(name: string, qualifier?: string): FunctionConfig | undefined;
  /** `$LATEST` then every published version, ascending, qualified ARNs. undefined = no such function. */
  listVersions(name: string): readonly FunctionConfig[] | undefined;
  /**
   * Publishes $LATEST as a new version, Active at once (or returns the latest version when the code is
   * unchanged, as AWS).
   */
  publishVersion(name: string, input: { readonly Description?: string }): FunctionConfig;
  /** UpdateFunctionCode: $LATEST InProgress until it settles; `publish` also publishes it, Pending until then. */
  updateFunctionCode(name: string, code: CodeUpdate, options?: { readonly publish?: boolean }): FunctionConfig;
  /** UpdateFunctionConfiguration: the given settings change on $LATEST, InProgress until it settles. */
  updateFunctionConfiguration(name: string, update: ConfigurationUpdate): FunctionConfig;
  getAlias(name: string, alias: string): AliasConfig | undefined;
  listAliases(name: string): readonly AliasConfig[] | undefined;
  createAlias(name: string, alias: string, input: AliasInput): AliasConfig;
  updateAlias(name: string, alias: string, input: AliasInput): AliasConfig;
  /** false = no such function (an unknown alias is deleted without complaint, as AWS). */
  deleteAlias(name: string, alias: string): boolean;
  /**
   * The version one invocation runs: `$LATEST` when no qualifier, the version itself, or for an alias
   * a per-request draw over its routing weights. undefined = no such function or qualifier.
   */
  resolveVersion(name: string, qualifier?: string): string | undefined;
  /** RevisionId of $LATEST, a version or an alias. */
  revisionId(name: string, qualifier?: string): string | undefined;
  tags(name: string): Readonly<Record<string, string>> | undefined;
  setTags(name: string, add: Readonly<Record<string, string>>, remove?: readonly string[]): void;
  /** The resource policy (JSON text) of a qualifier, undefined when it has no statement. */
  policy(name: string, qualifier?: string): { Policy: string; RevisionId: string } | undefined;
  /** The statements of a qualifier's policy (templates' permissions and AddPermission's alike). */
  policyStatements(name: string, qualifier?: string): readonly PolicyStatement[];
  /** Adds a statement to a qualifier's policy, or replaces the one with its Sid; moves its RevisionId. */
  putStatement(name: string, qualifier: string, statement: PolicyStatement): void;
  /** Removes a statement by Sid; false when the qualifier's policy holds none. */
  removeStatement(name: string, qualifier: string, sid: string): boolean;
  reservedConcurrency(name: string): number | undefined;
  setReservedConcurrency(name: string, value: number | null): void;
  usage(): { functionCount: number; totalCodeSize: number };
}

export type InvocationType = 'RequestResponse' | 'Event';

export interface InvokeRequest {
  readonly functionName: string;
  /** The region whose function runs (the request's SigV4 region). @default the invoker's own */
  readonly region?: string;
  /** Resolved version to run. */
  readonly version: string;
  /** The ARN the caller invoked (qualified if it gave a qualifier): the context's invokedFunctionArn. */
  readonly invokedFunctionArn: string;
  readonly payload: Buffer;
  readonly invocationType: InvocationType;
  /** Decoded client context JSON text (sync invokes only). */
  readonly clientContext?: string;
  /** Return the last 4 KB of the log. */
  readonly logTail: boolean;
  /** X-Amzn-Trace-Id of the request, if any (the invoker makes one when absent). */
  readonly traceHeader?: string;
  /** Request id the endpoint returned in `x-amzn-RequestId`. */
  readonly requestId: string;
}

export interface InvokeResult {
  /** The function's result, or its error body on a function error. */
  readonly payload: Buffer | Uint8Array | string;
  /** Set when the function failed (`Unhandled`). */
  readonly functionError?: string;
  readonly executedVersion?: string;
  /** Plain-text log tail (the endpoint base64s the last 4 KB). */
  readonly logTail?: string;
}

/**
 * Runs invocations. Throttling is a thrown error with `name` (or `code`) `TooManyRequestsException`
 * plus `reason` (AWS's Reason) and `retryAfterSeconds`.
 */
export interface EndpointInvoker {
  invoke(request: InvokeRequest): Promise<InvokeResult>;
}
