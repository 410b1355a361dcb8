/**
 * Applies cloud assemblies to the local mesh as deployments, in order (docs/local-mesh.md), the way
 * CloudFormation would: each stack's template with its conditions and mappings applied (active-template.ts),
 * its resources in an order that respects their dependencies and waits only where CloudFormation waits
 * (deploy-order.ts). Functions become $LATEST, each
 * `AWS::Lambda::Version` publishes once per logical id while its version runs the function's code
 * (keptVersion), aliases get their version and routing weights, tables and secrets are created, rotation schedules call
 * RotateSecret (which only starts a rotation), custom resources of the CDK Provider framework run their
 * handler (Create, Update only when their properties changed, Delete when they leave), and
 * `Custom::MeshPolicy` resources run the policy seeder the custom resource runs on AWS
 * (functions/control/policy-seeder.ts), which never touches an operator's items.
 * Resources a later assembly drops (or `deleteStack`) are deleted as CloudFormation deletes them:
 * custom resources get Delete, rotation is cancelled, secrets are deleted without a recovery window
 * unless their DeletionPolicy retains them. Functions and tables stay (the local mesh keeps them).
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type MeshPolicyEvent, seed } from '../../functions/control/policy-seeder';
import { POLICY_RESOURCE_TYPE } from '../../shared/names';
import { createTable, localDynamoClient, type TableKeys } from '../endpoint/dynamodb';
import { recordFilter } from '../endpoint/event-filter';
import type { RolePolicies } from '../endpoint/iam';
import type { AsyncInvokeSettings } from '../endpoint/lambda-context';
import type { TableStreams } from '../endpoint/table-streams';
import type { EventBuses } from '../events/event-buses';
import { directorySha256, type FunctionRegistry, type FunctionSpec } from '../registry/function-registry';
import type { TopicStore } from '../sns/topic-store';
import type { EventSourceMapping } from '../sqs/event-source-poller';
import type { QueueStore } from '../sqs/queue-store';
import { activeTemplate } from './active-template';
import { type AssemblyStack, readCloudAssembly, type TemplateResource } from './cloud-assembly';
import { deployOrder } from './deploy-order';
import {
  applyAlarm,
  applyCodeDeployApplication,
  applyDeploymentConfig,
  applyDeploymentGroup,
  type DeploymentGates,
  type GatedUpdate,
  gatedAliasUpdate,
} from './deployment-gates';
import { applyEventBus, applyEventBusPolicy, applyEventRule, type RuleContext, removeEventRule } from './event-rules';
import { fifoMappingRefusal, fifoTargetRefusal } from './fifo-refusals';
import { Resolver, versionKey } from './intrinsics';
import {
  applyLambdaPermission,
  applyQueuePolicy,
  applySecretPolicy,
  applyTablePolicy,
  type PolicyContext,
  removeLambdaPermission,
} from './resource-policies';
import { applySubscription, applyTopic, applyTopicPolicy, type TopicContext } from './topic-resources';

/** Where the CDK Provider framework's function finds the user's handler. */
const PROVIDER_HANDLER_ENV = 'USER_ON_EVENT_FUNCTION_ARN';

/** The Secrets Manager calls a deployment makes. */
export interface DeploymentSecrets {
  create(input: { name: string; secretString?: string; description?: string }): unknown;
  put(secretId: string, input: { secretString?: string }): unknown;
  get(secretId: string): { secretString?: string };
  describe(secretId: string): { ARN?: string; arn?: string };
  /** Whether a usable secret of this name or ARN exists (with or without a current value). */
  has(secretId: string): boolean;
  /** DeleteSecret; `force` = ForceDeleteWithoutRecovery (what CloudFormation does). */
  delete?(secretId: string, input: { force: boolean }): unknown;
}

/** What a deployment writes data into (the endpoint's stores). Absent = that part is skipped. */
export interface DeploymentTargets {
  /** The home region's registry: stacks that name no region deploy here. */
  readonly registry: FunctionRegistry;
  /** Another region's registry and secrets, for stacks that name it. @default everything in `registry`'s region */
  readonly region?: (region: string) => { registry: FunctionRegistry; secrets?: DeploymentSecrets };
  /** DynamoDB endpoint URL (the local endpoint). */
  readonly dynamoEndpoint?: string;
  readonly secrets?: DeploymentSecrets;
  /** Invokes a function of a region synchronously and resolves its JSON result; rejects on a function error. */
  readonly invoke?: (functionName: string, payload: unknown, region: string) => Promise<unknown>;
  /** RotateSecret (rotation schedules): starts a rotation, or only checks the set-up, and returns. */
  readonly rotate?: (input: {
    secretId: string;
    rotationLambdaArn: string;
    rotationRules?: Record<string, unknown>;
    rotateImmediately: boolean;
    region: string;
  }) => Promise<void>;
  /** CancelRotateSecret (a rotation schedule deleted). */
  readonly cancelRotation?: (secretId: string, region: string) => Promise<void>;
  /** The local CodeDeploy and alarms: aliases with a CodeDeploy update policy move by deployments. */
  readonly gates?: DeploymentGates;
  /** The local SQS: AWS::SQS::Queue creates a queue here. */
  readonly queues?: QueueStore;
  /** The local EventBridge: AWS::Events::EventBus and AWS::Events::Rule go here. */
  readonly buses?: EventBuses;
  /** The local SNS: AWS::SNS::Topic creates a topic here, AWS::SNS::Subscription subscribes a function. */
  readonly topics?: TopicStore;
  /** Where AWS::Lambda::EventSourceMapping starts polling. */
  readonly eventSources?: { put(mapping: EventSourceMapping): void };
  /** Where AWS::Lambda::EventInvokeConfig's retries and destinations go. */
  readonly asyncSettings?: { put(functionName: string, qualifier: string | undefined, s: AsyncInvokeSettings): void };
  /** Where inline (ZipFile) code is written. */
  readonly workDir: string;
  readonly log: (line: string) => void;
  /** The roles' identity policies (AWS::IAM::Policy, a role's Policies and managed policies): IAM reads and enforcement. */
  readonly iam?: RolePolicies;
  /** Tables' streams and their event source mappings: changes reach the mapped functions. */
  readonly streams?: TableStreams;
}

/** A resource an earlier deployment created: what a later one compares against and deletes. */
interface DeployedResource {
  readonly stack: string;
  readonly region: string;
  readonly logicalId: string;
  readonly type: string;
  readonly deletionPolicy?: string;
  /** Physical name (secrets), id (custom resources) or the ARN a Lambda permission is on. */
  readonly physicalId?: string;
  /** Resolved properties (custom resources, rotation schedules): unchanged = nothing to do. */
  readonly properties?: string;
}

/** Carried from one deployment to the next. */
export interface DeploymentState {
  /** Resources the deployments created, by `<stack>/<logicalId>`, in creation order. */
  readonly resources: Map<string, DeployedResource>;
}

export function newDeploymentState(): DeploymentState {
  return { resources: new Map() };
}

export interface DeploymentReport {
  readonly dir: string;
  readonly functions: { name: string; changed: boolean }[];
  readonly versions: { functionName: string; version: string }[];
  readonly aliases: { functionName: string; name: string; version: string; weights: Record<string, number> }[];
  readonly tables: string[];
  readonly secrets: string[];
  /** Custom resources whose handler ran, in order: `<logicalId> <Create|Update|Delete>`. */
  readonly customResources: string[];
  /** Secrets RotateSecret was called on (rotation schedules created or changed). */
  readonly rotations: string[];
  /** Resources deleted because this assembly no longer has them: `<stack>/<logicalId>`. */
  readonly deleted: string[];
  /** Policy items the seeder wrote (new or changed ones). */
  policyItems: number;
  /** Alias updates CodeDeploy deployments carry out (gated deployments). */
  readonly deployments: GatedUpdate[];
  readonly warnings: string[];
}

/** What the resource handlers share during one deployment. */
interface Apply {
  readonly targets: DeploymentTargets;
  readonly state: DeploymentState;
  readonly resolver: Resolver;
  readonly layers: Map<string, { dir: string; hash: string }>;
  readonly versionNumbers: Map<string, string>;
  readonly currentVersion: Map<string, string>;
  readonly secretArns: Map<string, string>;
  /** The resource (`<stack>/<logicalId>`) that named each table this deployment, by region and name. */
  readonly tableOwners: Map<string, string>;
  readonly report: Omit<DeploymentReport, 'dir'>;
  readonly codeOverrides: ReadonlyMap<string, string>;
  warn(w: string): void;
}

/** The registry and secrets of the region a stack deploys to. */
function regionOf(ctx: Apply, region: string): { registry: FunctionRegistry; secrets?: DeploymentSecrets } {
  if (region === ctx.targets.registry.region || !ctx.targets.region) {
    return { registry: ctx.targets.registry, secrets: ctx.targets.secrets };
  }
  return ctx.targets.region(region);
}

function targetOf(ctx: Apply, stack: AssemblyStack) {
  return regionOf(ctx, ctx.resolver.regionOf(stack));
}

/** How one deployment differs from the assembly as synthesized. */
export interface ApplyOptions {
  /**
   * Function code to run instead of an asset directory (asset dir -> replacement dir): watch mode's
   * hotswap, a function rebundled without synthesizing the app again.
   */
  readonly codeOverrides?: ReadonlyMap<string, string>;
}

export async function applyAssembly(
  dir: string,
  targets: DeploymentTargets,
  state: DeploymentState,
  options: ApplyOptions = {},
): Promise<DeploymentReport> {
  // Every stack's conditions first: a template CloudFormation would refuse is refused before anything deploys.
  const stacks = readCloudAssembly(dir).map((s) => deployedStack(s, targets));
  const ctx = newApply(targets, state, stacks, options.codeOverrides);
  for (const stack of stacks) {
    const resources = stack.template.Resources ?? {};
    for (const id of deployOrder(resources)) await applyResource(ctx, stack, id, resources[id]!);
  }

  // What the earlier deployments of these stacks had and this one does not: deleted, newest first.
  const here = new Set(stacks.map((s) => s.stackName));
  const present = new Set(
    stacks.flatMap((s) => Object.keys(s.template.Resources ?? {}).map((id) => `${s.stackName}/${id}`)),
  );
  const gone = [...state.resources.entries()].filter(([key, r]) => here.has(r.stack) && !present.has(key));
  await removeResources(ctx, gone.map(([key]) => key).reverse());

  return { dir: resolve(dir), ...ctx.report };
}

/** The stack as it deploys here: its conditions and mappings applied in its region and account. */
function deployedStack(stack: AssemblyStack, targets: DeploymentTargets): AssemblyStack {
  const { region, accountId } = targets.registry;
  const place = { stackName: stack.stackName, region: stack.region ?? region, accountId };
  return { ...stack, template: activeTemplate(stack.template, place) };
}

/**
 * Deletes what the deployments created for `stackName` (every stack when omitted), newest first, as
 * `cdk destroy` would: custom resources get Delete, rotation is cancelled, secrets go without a recovery
 * window unless retained. Returns the deleted `<stack>/<logicalId>` keys.
 */
export async function deleteStack(
  targets: DeploymentTargets,
  state: DeploymentState,
  stackName?: string,
): Promise<string[]> {
  const ctx = newApply(targets, state, []);
  const keys = [...state.resources.entries()]
    .filter(([, r]) => stackName === undefined || r.stack === stackName)
    .map(([key]) => key)
    .reverse();
  await removeResources(ctx, keys);
  return ctx.report.deleted;
}

function newApply(
  targets: DeploymentTargets,
  state: DeploymentState,
  stacks: readonly AssemblyStack[],
  codeOverrides: ReadonlyMap<string, string> = new Map(),
): Apply {
  const versionNumbers = new Map<string, string>();
  const secretArns = new Map<string, string>();
  const report: Apply['report'] = {
    functions: [],
    versions: [],
    aliases: [],
    tables: [],
    secrets: [],
    customResources: [],
    rotations: [],
    deleted: [],
    policyItems: 0,
    deployments: [],
    warnings: [],
  };
  return {
    targets,
    state,
    resolver: new Resolver(stacks, {
      region: targets.registry.region,
      accountId: targets.registry.accountId,
      versionNumber: (k) => versionNumbers.get(k),
      secretArn: (name, region) => secretArns.get(`${region}\0${name}`),
      queueUrl: targets.queues ? (name) => targets.queues!.urlOf(name) : undefined,
    }),
    layers: new Map(),
    versionNumbers,
    currentVersion: new Map(),
    secretArns,
    tableOwners: new Map(),
    report,
    codeOverrides,
    warn: (w) => {
      report.warnings.push(w);
      targets.log(`warning: ${w}`);
    },
  };
}

type ResourceHandler = (ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource) => void | Promise<void>;

/** What a deployment does per resource type; types not listed (IAM, permissions, ...) have no local effect. */
const APPLY: Readonly<Record<string, ResourceHandler>> = {
  'AWS::Lambda::LayerVersion': applyLayer,
  'AWS::DynamoDB::Table': applyTable,
  // CDK's TableV2: the same keys and stream; locally one region's replica, the stack's.
  'AWS::DynamoDB::GlobalTable': applyTable,
  'AWS::SecretsManager::Secret': applySecret,
  'AWS::Lambda::Function': applyFunction,
  'AWS::Lambda::Version': applyVersion,
  'AWS::Lambda::Alias': applyAlias,
  'AWS::SecretsManager::RotationSchedule': applyRotationSchedule,
  'AWS::CloudFormation::CustomResource': applyCustomResource,
  'AWS::IAM::Role': applyRolePolicies,
  'AWS::IAM::Policy': applyIamPolicy,
  'AWS::IAM::ManagedPolicy': applyManagedPolicy,
  [POLICY_RESOURCE_TYPE]: applyPolicy,
  'AWS::CodeDeploy::Application': (ctx, stack, id) => applyCodeDeployApplication(gateContext(ctx), stack, id),
  'AWS::CodeDeploy::DeploymentConfig': (ctx, stack, id, r) => applyDeploymentConfig(gateContext(ctx), stack, id, r),
  'AWS::CodeDeploy::DeploymentGroup': (ctx, stack, id, r) => applyDeploymentGroup(gateContext(ctx), stack, id, r),
  'AWS::CloudWatch::Alarm': (ctx, stack, id, r) => applyAlarm(gateContext(ctx), stack, id, r),
  'AWS::SQS::Queue': applyQueue,
  'AWS::Lambda::EventSourceMapping': applyEventSourceMapping,
  'AWS::Lambda::EventInvokeConfig': applyEventInvokeConfig,
  'AWS::Lambda::Permission': applyPermission,
  'AWS::SQS::QueuePolicy': (ctx, stack, id, r) => recordPolicy(ctx, stack, id, r, applyQueuePolicy),
  'AWS::SecretsManager::ResourcePolicy': (ctx, stack, id, r) => recordPolicy(ctx, stack, id, r, applySecretPolicy),
  'AWS::Events::EventBus': (ctx, stack, id, r) =>
    withBuses(ctx, (c) => remember(ctx, stack, id, r, { physicalId: applyEventBus(c, stack, id) })),
  'AWS::Events::Rule': (ctx, stack, id, r) =>
    withBuses(ctx, (c) => remember(ctx, stack, id, r, { physicalId: applyEventRule(c, stack, id, r) })),
  'AWS::Events::EventBusPolicy': (ctx, stack, id, r) =>
    withBuses(ctx, (c) => recordPolicy(ctx, stack, id, r, (_, s, i, res) => applyEventBusPolicy(c, s, i, res))),
  'AWS::SNS::Topic': (ctx, stack, id, r) => {
    const c = topicContext(ctx);
    if (c) remember(ctx, stack, id, r, { physicalId: ctx.resolver.arn(stack, 'sns', applyTopic(c, stack, id, r)) });
  },
  'AWS::SNS::Subscription': (ctx, stack, id, r) => {
    const c = topicContext(ctx);
    if (c) applySubscription(c, stack, id, r);
    remember(ctx, stack, id, r);
  },
  'AWS::SNS::TopicPolicy': (ctx, stack, id, r) => {
    const c = topicContext(ctx);
    if (c) applyTopicPolicy(c, stack, id, r);
    remember(ctx, stack, id, r);
  },
};

/** Runs an EventBridge resource's step when the deployment has buses to put it on. */
function withBuses(ctx: Apply, step: (c: RuleContext) => void): void {
  const buses = ctx.targets.buses;
  if (buses) step({ buses, resolver: ctx.resolver, policies: ctx.targets.iam?.resources, warn: ctx.warn });
}

/** What the SNS resources deploy into; none without a local SNS. */
function topicContext(ctx: Apply): TopicContext | undefined {
  const { topics } = ctx.targets;
  if (!topics) return undefined;
  const { resolver, warn } = ctx;
  const document = (stack: AssemblyStack, d: unknown) => resolvedDocument(ctx, stack, d);
  return { resolver, topics, policies: ctx.targets.iam?.resources, document, warn };
}

/** A resource-based policy, kept for IAM evaluation and remembered so that its removal drops it. */
function recordPolicy(
  ctx: Apply,
  stack: AssemblyStack,
  id: string,
  r: TemplateResource,
  apply: (ctx: PolicyContext, stack: AssemblyStack, id: string, r: TemplateResource) => void,
): void {
  apply(policyContext(ctx), stack, id, r);
  remember(ctx, stack, id, r);
}

/**
 * A template's Lambda permission: its statement in the policy of the ARN it names, taken from the one
 * an earlier deploy put it on when that ARN changed. Put again on every deploy, as the template declares
 * it, though a RemovePermission took it away since.
 */
function applyPermission(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const before = ctx.state.resources.get(`${stack.stackName}/${id}`)?.physicalId;
  const arn = applyLambdaPermission(policyContext(ctx), stack, id, r);
  if (before && before !== arn) removeLambdaPermission(policyContext(ctx), before, id);
  remember(ctx, stack, id, r, arn ? { physicalId: arn } : {});
}

function policyContext(ctx: Apply): PolicyContext {
  return {
    resolver: ctx.resolver,
    policies: ctx.targets.iam?.resources,
    functions: (region) => regionOf(ctx, region).registry,
    document: (stack, document) => resolvedDocument(ctx, stack, document),
    secretArn: (stack, secretId) =>
      secretId.startsWith('arn:')
        ? secretId
        : (ctx.secretArns.get(`${ctx.resolver.regionOf(stack)}\0${secretId}`) ??
          ctx.resolver.arn(stack, 'secretsmanager', `secret:${secretId}`)),
    warn: ctx.warn,
  };
}

/** A queue with its visibility timeout, retention, delays, largest message, redrive policy and type (standard or FIFO, with its deduplication scope). */
function applyQueue(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  if (!ctx.targets.queues) return;
  const p = r.Properties ?? {};
  const name = ctx.resolver.physicalName(stack, id);
  const flag = (v: unknown) => (v === undefined ? undefined : String(ctx.resolver.resolve(stack, v)) === 'true');
  const num = (v: unknown) => (v === undefined ? undefined : Number(ctx.resolver.resolve(stack, v)));
  const text = (v: unknown) => (v === undefined ? undefined : String(ctx.resolver.resolve(stack, v)));
  const redrive = ctx.resolver.resolve(stack, p.RedrivePolicy) as
    | { deadLetterTargetArn?: string; maxReceiveCount?: number | string }
    | undefined;
  ctx.targets.queues.put(name, {
    visibilityTimeoutS: num(p.VisibilityTimeout),
    retentionS: num(p.MessageRetentionPeriod),
    delayS: num(p.DelaySeconds),
    receiveWaitS: num(p.ReceiveMessageWaitTimeSeconds),
    maximumMessageBytes: num(p.MaximumMessageSize),
    fifo: flag(p.FifoQueue),
    contentBasedDeduplication: flag(p.ContentBasedDeduplication),
    deduplicationScope: text(p.DeduplicationScope),
    fifoThroughputLimit: text(p.FifoThroughputLimit),
    ...(redrive?.deadLetterTargetArn
      ? {
          redrive: {
            deadLetterTargetArn: redrive.deadLetterTargetArn,
            maxReceiveCount: Number(redrive.maxReceiveCount ?? 1),
          },
        }
      : {}),
  });
  remember(ctx, stack, id, r, { physicalId: name });
}

/** A DynamoDB stream's ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`). */
const DYNAMODB_STREAM_ARN = /^arn:aws[a-zA-Z-]*:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\//;

/**
 * An event source mapping: a table's stream delivers its changes (table-streams.ts), an SQS queue is
 * polled; other sources are not served locally, and a warning says so.
 */
function applyEventSourceMapping(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const source = ctx.resolver.resolveString(stack, r.Properties?.EventSourceArn);
  if (source && DYNAMODB_STREAM_ARN.test(source)) applyStreamMapping(ctx, stack, id, r, source);
  else applyQueueMapping(ctx, stack, id, r, source);
}

/** An SQS event source mapping. */
function applyQueueMapping(
  ctx: Apply,
  stack: AssemblyStack,
  id: string,
  r: TemplateResource,
  source: string | undefined,
): void {
  if (!ctx.targets.eventSources) return;
  const p = r.Properties ?? {};
  const fn = ctx.resolver.resolveString(stack, p.FunctionName);
  if (!source?.startsWith('arn:aws:sqs:') || !fn) {
    ctx.warn(
      `${stack.stackName}/${id}: the local mesh serves SQS and DynamoDB stream event sources only ` +
        `(got ${source ?? 'an unresolved source'})`,
    );
    return;
  }
  const num = (v: unknown) => (v === undefined ? undefined : Number(ctx.resolver.resolve(stack, v)));
  const batchSize = num(p.BatchSize);
  const maximumBatchingWindowS = num(p.MaximumBatchingWindowInSeconds);
  const refusal = fifoMappingRefusal(source, batchSize, maximumBatchingWindowS);
  if (refusal) throw new Error(`event source mapping ${stack.id}/${id}: ${refusal}`);
  if (p.Enabled === false) return;
  const { name, qualifier } = splitFunction(fn);
  const types = (ctx.resolver.resolve(stack, p.FunctionResponseTypes) as string[] | undefined) ?? [];
  ctx.targets.eventSources.put({
    key: `${stack.stackName}/${id}`,
    queueArn: source,
    functionName: name,
    qualifier,
    batchSize,
    maximumBatchingWindowS,
    reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
    region: ctx.resolver.regionOf(stack),
    accepts: filterOf(stack, id, p.FilterCriteria),
    maximumConcurrency: maximumConcurrencyOf(ctx, stack, id, p.ScalingConfig),
  });
}

/**
 * ScalingConfig.MaximumConcurrency, a whole number from 2 to 1000 ("AWS::Lambda::EventSourceMapping
 * ScalingConfig"); one outside that range is left out with a warning, the mapping then capped by Lambda's 1,000.
 */
function maximumConcurrencyOf(ctx: Apply, stack: AssemblyStack, id: string, scaling: unknown): number | undefined {
  const raw = (ctx.resolver.resolve(stack, scaling) as { MaximumConcurrency?: unknown } | undefined)
    ?.MaximumConcurrency;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 2 && n <= 1000) return n;
  ctx.warn(
    `${stack.stackName}/${id}: ScalingConfig.MaximumConcurrency must be from 2 to 1000, got ${String(raw)}; ignored`,
  );
  return undefined;
}

/** Retries, maximum event age and destinations of a function's Event invokes. */
function applyEventInvokeConfig(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  if (!ctx.targets.asyncSettings) return;
  const p = r.Properties ?? {};
  const fn = ctx.resolver.resolveString(stack, p.FunctionName);
  if (!fn) return;
  const qualifier = ctx.resolver.resolveString(stack, p.Qualifier);
  const dest = ctx.resolver.resolve(stack, p.DestinationConfig) as
    | { OnFailure?: { Destination?: string }; OnSuccess?: { Destination?: string } }
    | undefined;
  const refusal = fifoTargetRefusal('DestinationConfig.OnFailure', dest?.OnFailure?.Destination);
  if (refusal) throw new Error(`event invoke config ${stack.id}/${id}: ${refusal}`);
  ctx.targets.asyncSettings.put(splitFunction(fn).name, qualifier === '$LATEST' ? undefined : qualifier, {
    ...(p.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: Number(p.MaximumRetryAttempts) } : {}),
    ...(p.MaximumEventAgeInSeconds !== undefined
      ? { maximumEventAgeInSeconds: Number(p.MaximumEventAgeInSeconds) }
      : {}),
    ...(dest?.OnFailure?.Destination ? { onFailure: dest.OnFailure.Destination } : {}),
    ...(dest?.OnSuccess?.Destination ? { onSuccess: dest.OnSuccess.Destination } : {}),
  });
}

/** `name`, `name:qualifier` or a function ARN (with or without a qualifier) as name and qualifier. */
function splitFunction(fn: string): { name: string; qualifier?: string } {
  const parts = fn.startsWith('arn:') ? fn.split(':').slice(6) : fn.split(':');
  return { name: parts[0]!, ...(parts[1] ? { qualifier: parts[1] } : {}) };
}

function gateContext(ctx: Apply) {
  return { gates: ctx.targets.gates, resolver: ctx.resolver, warn: ctx.warn };
}

async function applyResource(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  const handler = APPLY[r.Type] ?? (r.Type.startsWith('Custom::') ? applyCustomResource : undefined);
  await handler?.(ctx, stack, id, r);
}

function remember(
  ctx: Apply,
  stack: AssemblyStack,
  id: string,
  r: TemplateResource,
  extra: Partial<DeployedResource> = {},
) {
  ctx.state.resources.set(`${stack.stackName}/${id}`, {
    stack: stack.stackName,
    region: ctx.resolver.regionOf(stack),
    logicalId: id,
    type: r.Type,
    deletionPolicy: r.DeletionPolicy,
    ...extra,
  });
}

/** A role's inline `Policies`, as IAM would hold them after the deploy. */
function applyRolePolicies(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const iam = ctx.targets.iam;
  if (!iam) return;
  const role = ctx.resolver.physicalName(stack, id);
  iam.addRole(role);
  // The role's policies as this deploy declares them: its AWS::IAM::Policy resources follow it.
  for (const name of iam.names(role)) iam.delete(role, name);
  const inline = (r.Properties?.Policies as { PolicyName?: unknown; PolicyDocument?: unknown }[] | undefined) ?? [];
  for (const p of inline) {
    const name = ctx.resolver.resolveString(stack, p.PolicyName);
    if (name) iam.put(role, name, resolvedDocument(ctx, stack, p.PolicyDocument));
  }
  const managed = (r.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? [];
  iam.attachManaged(
    role,
    managed.map((arn) => ctx.resolver.resolveString(stack, arn)).filter((arn): arn is string => !!arn),
  );
}

/** An AWS::IAM::ManagedPolicy: its document, attached to the roles it names. */
function applyManagedPolicy(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const iam = ctx.targets.iam;
  const arn = ctx.resolver.resolveString(stack, { Ref: id });
  if (!iam || !arn) return;
  const p = r.Properties ?? {};
  const roles = ((p.Roles as unknown[] | undefined) ?? []).map((ref) => ctx.resolver.resolveString(stack, ref));
  iam.putManaged(
    arn,
    resolvedDocument(ctx, stack, p.PolicyDocument),
    roles.filter((role): role is string => !!role),
  );
}

/** An AWS::IAM::Policy: the same inline policy on each of its roles. */
function applyIamPolicy(ctx: Apply, stack: AssemblyStack, _id: string, r: TemplateResource): void {
  const iam = ctx.targets.iam;
  if (!iam) return;
  const p = r.Properties ?? {};
  const name = ctx.resolver.resolveString(stack, p.PolicyName);
  if (!name) return;
  const document = resolvedDocument(ctx, stack, p.PolicyDocument);
  for (const ref of (p.Roles as unknown[] | undefined) ?? []) {
    const role = ctx.resolver.resolveString(stack, ref);
    if (role) iam.put(role, name, document);
  }
}

/**
 * A policy document with every intrinsic resolved, one value at a time: a value with no local meaning (a
 * log group's ARN) becomes `${<the intrinsic>}`, which IAM evaluation leaves undecided rather than
 * guess at, and the rest of the document still holds. Resolved whole, one such value emptied it all.
 */
function resolvedDocument(ctx: Apply, stack: AssemblyStack, document: unknown): unknown {
  if (Array.isArray(document)) return document.map((v) => resolvedDocument(ctx, stack, v));
  if (!document || typeof document !== 'object') return document;
  const keys = Object.keys(document);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
    let value: unknown;
    try {
      value = ctx.resolver.resolve(stack, document);
    } catch {
      value = undefined;
    }
    return value ?? `\${${JSON.stringify(document)}}`;
  }
  return Object.fromEntries(Object.entries(document).map(([k, v]) => [k, resolvedDocument(ctx, stack, v)]));
}

function applyLayer(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const code = assetOf(stack, r, 'Content');
  const arn = ctx.resolver.resolveString(stack, { Ref: id });
  if (code && arn) ctx.layers.set(arn, code);
  else ctx.warn(`layer ${stack.id}/${id} has no local asset directory; functions using it run without it`);
}

async function applyTable(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  applyTablePolicy(policyContext(ctx), stack, id, r);
  if (!ctx.targets.dynamoEndpoint) return;
  const name = ctx.resolver.physicalName(stack, id);
  const where = `${name} (${stack.id}/${id})`;
  const region = ctx.resolver.regionOf(stack);
  claimTableName(ctx, region, name, `${stack.id}/${id}`);
  const p = r.Properties ?? {};
  warnOfReplicas(ctx, stack, where, p.Replicas);
  // A template always declares both; without them the table gets the policy table's keys.
  const keys = p.KeySchema && p.AttributeDefinitions ? (p as unknown as TableKeys) : undefined;
  // Tables are regional: each stack's in its own region.
  try {
    await createTable(ctx.targets.dynamoEndpoint, name, keys, region);
  } catch (err) {
    throw new Error(`table ${where} cannot be created locally: ${(err as Error).message}`);
  }
  ctx.report.tables.push(name);
  const viewType = (p.StreamSpecification as { StreamViewType?: unknown } | undefined)?.StreamViewType;
  if (typeof viewType === 'string' && ctx.targets.streams) {
    const arn = ctx.resolver.resolveString(stack, { 'Fn::GetAtt': [id, 'StreamArn'] });
    if (arn) ctx.targets.streams.declare(name, arn, viewType, ctx.resolver.regionOf(stack));
  }
}

/**
 * One table per name and region, as CloudFormation has it ("already exists"): a second resource naming
 * it would otherwise get the first one's table, keys and items.
 */
function claimTableName(ctx: Apply, region: string, name: string, owner: string): void {
  const key = `${region}\0${name}`;
  const first = ctx.tableOwners.get(key);
  if (first && first !== owner) {
    throw new Error(
      `table ${name} (${owner}) is already ${first}'s in ${region}; CloudFormation refuses a second table of one name: ` +
        'change the TableName of one, or leave it out and let the stack name the table',
    );
  }
  ctx.tableOwners.set(key, owner);
}

/** A global table's replicas in other regions are not made locally: a reader there would find no table. */
function warnOfReplicas(ctx: Apply, stack: AssemblyStack, where: string, replicas: unknown): void {
  const region = ctx.resolver.regionOf(stack);
  const others = (Array.isArray(replicas) ? replicas : [])
    .map((r) => ctx.resolver.resolveString(stack, (r as { Region?: unknown }).Region))
    .filter((r) => r !== undefined && r !== region);
  if (others.length === 0) return;
  ctx.warn(
    `table ${where}: the local mesh creates the replica in ${region} only, not in ${others.join(', ')}; ` +
      `a function reading the table there finds none locally`,
  );
}

/** An event source mapping on a table's stream: the table's changes are delivered to the function (table-streams.ts). */
function applyStreamMapping(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource, source: string): void {
  const { streams, invoke } = ctx.targets;
  if (!streams || !invoke) return;
  const p = r.Properties ?? {};
  const fn = ctx.resolver.resolveString(stack, p.FunctionName);
  if (!fn) {
    ctx.warn(`event source mapping ${stack.id}/${id} names no function that resolves; nothing is delivered locally`);
    return;
  }
  if (p.Enabled === false) return;
  const region = ctx.resolver.regionOf(stack);
  streams.map({
    streamArn: source,
    functionName: fn,
    batchSize: typeof p.BatchSize === 'number' ? p.BatchSize : 100,
    accepts: filterOf(stack, id, p.FilterCriteria),
    deliver: (event) => invoke(fn, event, region),
  });
  remember(ctx, stack, id, r);
}

/** A mapping's `FilterCriteria` as a record matcher (undefined: none); a pattern Lambda would refuse fails the deploy. */
function filterOf(stack: AssemblyStack, id: string, criteria: unknown): ((record: unknown) => boolean) | undefined {
  const filters = (criteria as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters;
  if (!filters?.length) return undefined;
  try {
    return recordFilter(filters.map((f) => String(f.Pattern)));
  } catch (err) {
    throw new Error(`event source mapping ${stack.id}/${id}: ${(err as Error).message}`);
  }
}

function applySecret(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const { secrets } = targetOf(ctx, stack);
  if (!secrets) return;
  const name = ctx.resolver.physicalName(stack, id);
  const p = r.Properties ?? {};
  const value =
    p.SecretString !== undefined
      ? ctx.resolver.resolveString(stack, p.SecretString)
      : generateSecret(p.GenerateSecretString);
  // Existence is the store's answer, not a failed read: a secret with no current value (a
  // placeholder) or a failed put must not fall into create (ResourceExistsException). A name still in
  // its recovery window is not "there": create fails for it, as CloudFormation's would.
  const previous = ctx.state.resources.get(`${stack.stackName}/${id}`);
  if (secrets.has(name)) {
    // CloudFormation writes SecretString only when the template's literal changed since the last
    // deployment, so the issuer's values stay. A secret this mesh did not create gets the literal
    // when it has no current value or another one.
    let current: string | undefined;
    try {
      current = secrets.get(name).secretString;
    } catch {
      current = undefined;
    }
    const changed = previous ? previous.properties !== value : current !== value;
    if (p.SecretString !== undefined && value !== undefined && changed) secrets.put(name, { secretString: value });
  } else {
    try {
      secrets.create({ name, secretString: value, description: ctx.resolver.resolveString(stack, p.Description) });
    } catch (err) {
      throw new Error(`secret ${name} (${stack.id}/${id}) cannot be created: ${(err as Error).message}`);
    }
  }
  const d = secrets.describe(name);
  const arn = d.ARN ?? d.arn;
  if (arn) ctx.secretArns.set(`${ctx.resolver.regionOf(stack)}\0${name}`, arn);
  ctx.report.secrets.push(name);
  remember(ctx, stack, id, r, { physicalId: name, properties: value });
}

function applyFunction(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const { resolver, warn } = ctx;
  const p = r.Properties ?? {};
  const name = resolver.physicalName(stack, id);
  const runtime = resolver.resolveString(stack, p.Runtime) ?? '';
  if (!runtime.startsWith('nodejs')) {
    warn(
      `function ${name} (${stack.id}/${id}) has runtime ${runtime || 'none'}; the local mesh runs Node.js functions only, so it is left out`,
    );
    return;
  }
  let code = functionCode(ctx, stack, r);
  // Watch mode's hotswap: a function rebundled into another directory, without a new synthesis.
  const replacement = code && ctx.codeOverrides.get(code.dir);
  if (code && replacement) code = { dir: replacement, hash: code.hash };
  if (!code) {
    warn(`function ${name} has no local code (no asset directory and no inline code); it is left out`);
    return;
  }
  const configuration = configurationOf(ctx, stack, p);
  const refusal = fifoTargetRefusal('DeadLetterConfig', configuration.deadLetterTargetArn);
  if (refusal) throw new Error(`function ${name} (${stack.id}/${id}): ${refusal}`);
  const environment = functionEnvironment(ctx, stack, name, p.Environment);
  const layers = functionLayers(ctx, stack, name, p.Layers);
  const reserved =
    p.ReservedConcurrentExecutions !== undefined
      ? Number(resolver.resolve(stack, p.ReservedConcurrentExecutions))
      : undefined;
  const spec: FunctionSpec = {
    name,
    codeDir: code.dir,
    handler: resolver.resolveString(stack, p.Handler) ?? 'index.handler',
    runtime,
    timeout: Number(resolver.resolve(stack, p.Timeout) ?? 3),
    memorySize: Number(resolver.resolve(stack, p.MemorySize) ?? 128),
    environment,
    ...(p.Environment !== undefined ? { environmentDeclared: true } : {}),
    layerDirs: layers.map((l) => l.dir),
    layerArns: layers.map((l) => l.arn),
    layerSha256s: layers.map((l) => l.hash),
    role: resolver.resolveString(stack, p.Role),
    description: resolver.resolveString(stack, p.Description),
    reservedConcurrency: Number.isFinite(reserved) ? reserved : undefined,
    // The code's own content, not the asset's name: the same bundle built twice (a synthesis, a
    // hotswap) is the same code, and publishes no new version.
    codeSha256: directorySha256(code.dir),
    ...configuration,
  };
  const { changed } = targetOf(ctx, stack).registry.putFunction(spec);
  ctx.report.functions.push({ name, changed });
}

/** The function's code: its staged asset, or inline (ZipFile) code written to the work directory. */
function functionCode(
  ctx: Apply,
  stack: AssemblyStack,
  r: TemplateResource,
): { dir: string; hash: string } | undefined {
  const asset = assetOf(stack, r, 'Code');
  if (asset) return asset;
  const zip = (r.Properties?.Code as { ZipFile?: unknown } | undefined)?.ZipFile;
  const text = zip !== undefined ? ctx.resolver.resolveString(stack, zip) : undefined;
  if (text === undefined) return undefined;
  const hash = createHash('sha256').update(text).digest('hex');
  const dir = join(ctx.targets.workDir, `inline-${hash.slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), text);
  return { dir, hash };
}

/** Environment variables with local values; one that has none is left unset, with a warning. */
function functionEnvironment(ctx: Apply, stack: AssemblyStack, name: string, env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const vars = (env as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  for (const [k, v] of Object.entries(vars)) {
    const s = ctx.resolver.resolveString(stack, v);
    if (s === undefined)
      ctx.warn(
        `function ${name}: environment variable ${k} has no local value (${JSON.stringify(v).slice(0, 120)}); left unset`,
      );
    else out[k] = s;
  }
  return out;
}

/** The function's layers that this deployment has, in order; a missing one is left out, with a warning. */
function functionLayers(
  ctx: Apply,
  stack: AssemblyStack,
  name: string,
  refs: unknown,
): { arn: string; dir: string; hash: string }[] {
  const out: { arn: string; dir: string; hash: string }[] = [];
  for (const l of (refs as unknown[] | undefined) ?? []) {
    const arn = ctx.resolver.resolveString(stack, l);
    const layer = arn ? ctx.layers.get(arn) : undefined;
    if (!arn || !layer) {
      ctx.warn(
        `function ${name}: layer ${arn ?? JSON.stringify(l)} is not in the assembly (a layer published outside the app); ` +
          'left out, so a module the function loads from it fails locally with Runtime.ImportModuleError',
      );
      continue;
    }
    out.push({ arn, ...layer });
  }
  return out;
}

/** The settings GetFunction reports that the template may set (absent = Lambda's default). */
function configurationOf(ctx: Apply, stack: AssemblyStack, p: Record<string, unknown>): Partial<FunctionSpec> {
  const { resolver } = ctx;
  const mode = resolver.resolveString(stack, (p.TracingConfig as { Mode?: unknown } | undefined)?.Mode);
  const storage = Number(resolver.resolve(stack, (p.EphemeralStorage as { Size?: unknown } | undefined)?.Size));
  const architectures = resolver.resolve(stack, p.Architectures);
  const logging = (p.LoggingConfig ?? {}) as { LogFormat?: unknown; LogGroup?: unknown; ApplicationLogLevel?: unknown };
  const out: { -readonly [K in keyof FunctionSpec]?: FunctionSpec[K] } = {};
  if (mode) out.tracingMode = mode;
  if (Number.isInteger(storage)) out.ephemeralStorageMb = storage;
  if (Array.isArray(architectures) && architectures.every((a) => typeof a === 'string'))
    out.architectures = architectures;
  const logFormat = resolver.resolveString(stack, logging.LogFormat);
  const logGroup = resolver.resolveString(stack, logging.LogGroup);
  if (logFormat) out.logFormat = logFormat;
  if (logGroup) out.logGroup = logGroup;
  const applicationLogLevel = resolver.resolveString(stack, logging.ApplicationLogLevel);
  if (applicationLogLevel) out.applicationLogLevel = applicationLogLevel;
  const dlq = resolver.resolveString(stack, (p.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn);
  if (dlq) out.deadLetterTargetArn = dlq;
  return out;
}

/** Publishes (unchanged code returns the existing number, as PublishVersion does). */
function applyVersion(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const { registry } = targetOf(ctx, stack);
  const fn = functionNameOf(ctx.resolver.resolveString(stack, r.Properties?.FunctionName));
  if (!fn || !registry.hasFunction(fn)) {
    ctx.warn(`version ${stack.id}/${id} names a function the local mesh does not run (${fn ?? 'unresolved'})`);
    return;
  }
  const v =
    keptVersion(ctx, stack, id, fn) ??
    registry.publishVersion(fn, { Description: ctx.resolver.resolveString(stack, r.Properties?.Description) }).Version;
  remember(ctx, stack, id, r, { physicalId: v });
  ctx.versionNumbers.set(versionKey(stack, id), v);
  ctx.currentVersion.set(fn, v);
  ctx.report.versions.push({ functionName: fn, version: v });
}

/**
 * The version an earlier deploy published for this Version resource, when it stands: CloudFormation
 * publishes a version when it creates the resource and never again while its logical id stays, so a
 * change of the function alone (its configuration, its layers: a policy change's snapshot) moves
 * nothing. It stands only while it runs the function's code: a hotswap (`codeOverrides`, `mesh local
 * --watch`) publishes the code it rebuilt, as `cdk watch --hotswap` does, and a later round that
 * deploys the template's code again publishes that, rather than keep the hotswapped version.
 */
function keptVersion(ctx: Apply, stack: AssemblyStack, id: string, fn: string): string | undefined {
  const before = ctx.state.resources.get(`${stack.stackName}/${id}`);
  if (before?.type !== 'AWS::Lambda::Version' || !before.physicalId) return undefined;
  const { registry } = targetOf(ctx, stack);
  const kept = registry.getRecord(fn, before.physicalId)?.spec.codeSha256;
  return kept !== undefined && kept === registry.getSpec(fn)?.codeSha256 ? before.physicalId : undefined;
}

/**
 * Version + weights; a literal version this mesh never published falls back to the current one. An
 * alias whose update CodeDeploy carries out moves by a deployment instead (deployment-gates.ts).
 */
async function applyAlias(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  const { registry } = targetOf(ctx, stack);
  const { resolver, warn } = ctx;
  const p = r.Properties ?? {};
  const fn = functionNameOf(resolver.resolveString(stack, p.FunctionName));
  const aliasName = resolver.resolveString(stack, p.Name);
  if (!fn || !aliasName || !registry.hasFunction(fn)) {
    warn(`alias ${stack.id}/${id} names a function the local mesh does not run (${fn ?? 'unresolved'})`);
    return;
  }
  const fallback = ctx.currentVersion.get(fn) ?? registry.latestPublished(fn) ?? '$LATEST';
  let version = resolver.resolveString(stack, p.FunctionVersion) ?? fallback;
  let fellBack = false;
  if (version !== '$LATEST' && !registry.getRecord(fn, version)) {
    warn(
      `alias ${fn}:${aliasName} points at version ${version}, which does not exist locally (apply the earlier release's assembly first); routing 100% to version ${fallback}`,
    );
    version = fallback;
    fellBack = true;
  }
  const weights: Record<string, number> = {};
  const routing =
    (p.RoutingConfig as { AdditionalVersionWeights?: unknown[] } | undefined)?.AdditionalVersionWeights ?? [];
  for (const w of fellBack ? [] : routing) {
    const entry = w as { FunctionVersion?: unknown; FunctionWeight?: unknown };
    const v = resolver.resolveString(stack, entry.FunctionVersion);
    const weight = Number(resolver.resolve(stack, entry.FunctionWeight));
    if (!v || !registry.getRecord(fn, v) || v === version) {
      warn(
        `alias ${fn}:${aliasName}: additional version ${v ?? 'unresolved'} is missing locally or equals the primary; weight ${weight} dropped`,
      );
      continue;
    }
    weights[v] = weight;
  }
  const gated = await gatedAliasUpdate(gateContext(ctx), stack, r, registry, fn, aliasName, version);
  if (gated) {
    const now = registry.getAlias(fn, aliasName);
    const moved = { ...(now?.RoutingConfig?.AdditionalVersionWeights ?? {}) };
    ctx.report.deployments.push(gated);
    ctx.report.aliases.push({
      functionName: fn,
      name: aliasName,
      version: now?.FunctionVersion ?? version,
      weights: moved,
    });
    return;
  }
  registry.putAlias(fn, aliasName, {
    FunctionVersion: version,
    Description: resolver.resolveString(stack, p.Description),
    RoutingConfig: Object.keys(weights).length > 0 ? { AdditionalVersionWeights: weights } : undefined,
  });
  ctx.report.aliases.push({ functionName: fn, name: aliasName, version, weights });
}

/**
 * RotateSecret when the schedule is new or changed. It returns once the rotation has started (or, with
 * RotateImmediatelyOnUpdate false, once Secrets Manager has begun checking the set-up): CloudFormation
 * does not wait for a rotation to finish, so neither does anything here.
 */
async function applyRotationSchedule(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  const props = ctx.resolver.resolve(stack, r.Properties ?? {}) as Record<string, unknown> | undefined;
  const secretId = typeof props?.SecretId === 'string' ? props.SecretId : undefined;
  const lambdaArn = typeof props?.RotationLambdaARN === 'string' ? props.RotationLambdaARN : undefined;
  if (!props || !secretId || !lambdaArn) {
    ctx.warn(`rotation schedule ${stack.id}/${id} names no resolvable secret and rotation function; not applied`);
    return;
  }
  const json = JSON.stringify(props);
  const key = `${stack.stackName}/${id}`;
  if (ctx.state.resources.get(key)?.properties === json) return; // unchanged: CloudFormation calls nothing
  if (!ctx.targets.rotate) {
    ctx.warn(`rotation schedule ${stack.id}/${id}: no Secrets Manager endpoint to call; not applied`);
    return;
  }
  try {
    await ctx.targets.rotate({
      secretId,
      rotationLambdaArn: lambdaArn,
      rotationRules: props.RotationRules as Record<string, unknown> | undefined,
      rotateImmediately: props.RotateImmediatelyOnUpdate !== false,
      region: ctx.resolver.regionOf(stack),
    });
  } catch (err) {
    // Secrets Manager's refusal names neither the secret nor the function (a missing one is "cannot
    // invoke the specified Lambda function"): the deployment names both.
    throw new Error(
      `rotation schedule ${stack.id}/${id} (secret ${secretId}, rotation function ${lambdaArn}): ${(err as Error).message}`,
    );
  }
  ctx.report.rotations.push(secretId);
  remember(ctx, stack, id, r, { physicalId: secretId, properties: json });
}

/**
 * A custom resource of the CDK Provider framework: its handler (the framework function's
 * USER_ON_EVENT_FUNCTION_ARN) runs synchronously with the event CloudFormation would send; the
 * deployment waits for it and fails when it fails. Unchanged properties: nothing runs, as on AWS.
 */
async function applyCustomResource(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  const props = ctx.resolver.resolve(stack, r.Properties ?? {}) as Record<string, unknown> | undefined;
  if (!props) {
    ctx.warn(`custom resource ${stack.id}/${id} has properties with no local value; not run`);
    return;
  }
  const json = JSON.stringify(props);
  const key = `${stack.stackName}/${id}`;
  const previous = ctx.state.resources.get(key);
  if (previous?.properties === json) return;
  const region = ctx.resolver.regionOf(stack);
  const handler = providerHandler(ctx, props.ServiceToken, region);
  if (!handler || !ctx.targets.invoke) {
    ctx.warn(
      `custom resource ${stack.id}/${id} (${r.Type}) is not a CDK Provider-framework resource the local mesh can run; skipped`,
    );
    return;
  }
  const requestType = previous ? 'Update' : 'Create';
  let out: { PhysicalResourceId?: unknown } | undefined;
  try {
    out = (await ctx.targets.invoke(
      handler,
      {
        RequestType: requestType,
        ServiceToken: props.ServiceToken,
        ResponseURL: 'http://127.0.0.1/unused-locally',
        StackId: ctx.resolver.resolveString(stack, { Ref: 'AWS::StackId' }),
        RequestId: randomUUID(),
        LogicalResourceId: id,
        ResourceType: r.Type,
        ResourceProperties: props,
        ...(previous
          ? { PhysicalResourceId: previous.physicalId, OldResourceProperties: JSON.parse(previous.properties ?? '{}') }
          : {}),
      },
      region,
    )) as { PhysicalResourceId?: unknown } | undefined;
  } catch (err) {
    throw new Error(
      `custom resource ${stack.id}/${id} (${r.Type}) failed on ${requestType}: ${(err as Error).message}`,
    );
  }
  const physicalId =
    typeof out?.PhysicalResourceId === 'string' ? out.PhysicalResourceId : (previous?.physicalId ?? key);
  ctx.report.customResources.push(`${id} ${requestType}`);
  remember(ctx, stack, id, r, { physicalId, properties: json });
}

/** The user handler behind a Provider-framework service token, or undefined. */
function providerHandler(ctx: Apply, serviceToken: unknown, region: string): string | undefined {
  const framework = functionNameOf(typeof serviceToken === 'string' ? serviceToken : undefined);
  const registry = regionOf(ctx, region).registry;
  const user = framework ? registry.getSpec(framework)?.environment[PROVIDER_HANDLER_ENV] : undefined;
  return functionNameOf(user);
}

/** Deletes recorded resources in the order given (newest first), as CloudFormation deletes them. */
async function removeResources(ctx: Apply, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const r = ctx.state.resources.get(key);
    if (!r) continue;
    const retained = r.deletionPolicy === 'Retain' || r.deletionPolicy === 'RetainExceptOnCreate';
    const { secrets } = regionOf(ctx, r.region);
    if (r.type === 'AWS::SecretsManager::Secret' && !retained && r.physicalId) {
      secrets?.delete?.(r.physicalId, { force: true });
    } else if (r.type === 'AWS::SecretsManager::RotationSchedule' && r.physicalId && secrets?.has(r.physicalId)) {
      await ctx.targets.cancelRotation?.(r.physicalId, r.region);
    } else if (r.type === POLICY_RESOURCE_TYPE) {
      await removePolicy(ctx, r);
    } else if (r.type === 'AWS::SNS::Topic' && r.physicalId) {
      ctx.targets.topics?.remove(r.physicalId);
    } else if (r.type === 'AWS::SNS::Subscription') {
      ctx.targets.topics?.unsubscribe(key);
    } else if (r.type === 'AWS::Lambda::Permission' && r.physicalId) {
      removeLambdaPermission(policyContext(ctx), r.physicalId, r.logicalId);
    } else if (r.type === 'AWS::Events::Rule' && r.physicalId && ctx.targets.buses) {
      removeEventRule(ctx.targets.buses, r.region, r.physicalId);
    } else if (r.type.startsWith('Custom::') || r.type === 'AWS::CloudFormation::CustomResource') {
      await deleteCustomResource(ctx, r);
    }
    ctx.targets.iam?.resources.remove(key);
    ctx.state.resources.delete(key);
    ctx.report.deleted.push(key);
  }
}

async function deleteCustomResource(ctx: Apply, r: DeployedResource): Promise<void> {
  const props = JSON.parse(r.properties ?? '{}') as Record<string, unknown>;
  const handler = providerHandler(ctx, props.ServiceToken, r.region);
  if (!handler || !ctx.targets.invoke) return;
  try {
    await ctx.targets.invoke(
      handler,
      {
        RequestType: 'Delete',
        ServiceToken: props.ServiceToken,
        ResponseURL: 'http://127.0.0.1/unused-locally',
        RequestId: randomUUID(),
        LogicalResourceId: r.logicalId,
        ResourceType: r.type,
        PhysicalResourceId: r.physicalId,
        ResourceProperties: props,
      },
      r.region,
    );
    ctx.report.customResources.push(`${r.logicalId} Delete`);
  } catch (err) {
    ctx.warn(`custom resource ${r.stack}/${r.logicalId} failed on Delete: ${(err as Error).message}`);
  }
}

/**
 * Custom::MeshPolicy: the seeder its custom resource runs on AWS, called in process with the event
 * CloudFormation would send (Create; Update with the last deployment's properties; nothing when they
 * did not change). The seeder writes and removes only deploy items, so an operator's item with the
 * same key stays as it is.
 */
async function applyPolicy(ctx: Apply, stack: AssemblyStack, id: string, r: TemplateResource): Promise<void> {
  const endpoint = ctx.targets.dynamoEndpoint;
  if (!endpoint) return;
  const tableName = ctx.resolver.resolveString(stack, r.Properties?.TableName);
  const items = ctx.resolver.resolveString(stack, r.Properties?.Items);
  if (!tableName || items === undefined) {
    ctx.warn(`policy ${stack.id}/${id} has no resolvable TableName/Items; not seeded`);
    return;
  }
  const properties = { TableName: tableName, Items: items };
  const json = JSON.stringify(properties);
  const previous = ctx.state.resources.get(`${stack.stackName}/${id}`);
  if (previous?.properties === json) return;
  const event: MeshPolicyEvent = previous
    ? { RequestType: 'Update', ResourceProperties: properties, OldResourceProperties: JSON.parse(previous.properties!) }
    : { RequestType: 'Create', ResourceProperties: properties };
  const result = await runSeeder(ctx, endpoint, event, `${stack.id}/${id}`, ctx.resolver.regionOf(stack));
  ctx.report.policyItems += result.Data.Written;
  remember(ctx, stack, id, r, { physicalId: result.PhysicalResourceId, properties: json });
}

/** A Custom::MeshPolicy resource left the template: Delete removes the deploy items it declared. */
async function removePolicy(ctx: Apply, r: DeployedResource): Promise<void> {
  const endpoint = ctx.targets.dynamoEndpoint;
  if (!endpoint || !r.properties) return;
  const event: MeshPolicyEvent = {
    RequestType: 'Delete',
    PhysicalResourceId: r.physicalId,
    ResourceProperties: JSON.parse(r.properties),
  };
  try {
    await runSeeder(ctx, endpoint, event, `${r.stack}/${r.logicalId}`, r.region);
  } catch (err) {
    ctx.warn(`policy ${r.stack}/${r.logicalId} failed on Delete: ${(err as Error).message}`);
  }
}

async function runSeeder(ctx: Apply, endpoint: string, event: MeshPolicyEvent, where: string, region: string) {
  const client = localDynamoClient(endpoint, region);
  try {
    const result = await seed(client, event, () => {});
    const skipped = result.Data.Skipped;
    if (skipped) {
      ctx.warn(
        `policy ${where}: ${skipped.replaceAll(',', ', ')} in ${event.ResourceProperties.TableName} are operator-managed; the deploy's copies are not written`,
      );
    }
    return result;
  } catch (err) {
    throw new Error(
      `policy ${where} (${POLICY_RESOURCE_TYPE}) failed on ${event.RequestType}: ${(err as Error).message}`,
    );
  } finally {
    client.destroy();
  }
}

/** A function reference (name or ARN, maybe qualified) -> its name. */
function functionNameOf(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const m = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(ref);
  return m ? m[1] : ref.split(':')[0];
}

/**
 * The staged asset directory of a Code/Content property: the `aws:asset:path` metadata (the CDK CLI
 * adds it) or the S3 key's hash looked up in the stack's asset manifest.
 */
function assetOf(
  stack: AssemblyStack,
  r: TemplateResource,
  prop: 'Code' | 'Content',
): { dir: string; hash: string } | undefined {
  const key = (r.Properties?.[prop] as { S3Key?: unknown } | undefined)?.S3Key;
  const hash = typeof key === 'string' ? key.replace(/\.zip$/, '') : undefined;
  const metaPath = r.Metadata?.['aws:asset:path'];
  const metaProp = r.Metadata?.['aws:asset:property'];
  if (typeof metaPath === 'string' && (metaProp === undefined || metaProp === prop)) {
    const dir = resolve(stack.dir, metaPath);
    if (existsSync(dir))
      return {
        dir,
        hash: hash ?? String(r.Metadata?.['aws:asset:hash'] ?? createHash('sha256').update(dir).digest('hex')),
      };
  }
  if (hash && stack.assets.has(hash)) {
    const dir = stack.assets.get(hash)!;
    if (existsSync(dir)) return { dir, hash };
  }
  return undefined;
}

function generateSecret(gen: unknown): string {
  const g = (gen ?? {}) as { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number };
  const value = createHash('sha256')
    .update(String(Math.random()))
    .digest('base64url')
    .slice(0, g.PasswordLength ?? 32);
  if (g.SecretStringTemplate && g.GenerateStringKey) {
    try {
      return JSON.stringify({ ...JSON.parse(g.SecretStringTemplate), [g.GenerateStringKey]: value });
    } catch {
      /* fall through */
    }
  }
  return value;
}
