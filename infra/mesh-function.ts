import { ArnFormat, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct, IConstruct } from 'constructs';
import { MESH_EVENT_SOURCE } from '../shared/channel';
import { HTTP_AUTH, type HttpAuth, type HttpTarget, httpTargetError } from '../shared/http-target';
import {
  breakerPartition,
  DEPLOYMENT,
  ENV,
  EXTERNAL,
  IDENTITY,
  isPublishedVersion,
  LAYER,
  LIVE_ALIAS,
  POLICY_VERSION,
  rateLimitPartition,
  SERVICE_NAME_PATTERN,
  SORT_KEY,
  TAGS,
  UNKNOWN_SOURCE,
} from '../shared/names';
import { LAMBDA_FUNCTION_ARN_PATTERN, type TrafficPolicy } from '../shared/policy';
import type { Mesh } from './mesh';
import { MeshDeployment, type MeshDeploymentOptions } from './mesh-deployment';
import { futurePath, MeshErrorCode, MeshValidationError } from './mesh-validation-error';
import {
  checkCapacityProvider,
  type MeshCapacityProviderOptions,
  useCapacityProvider,
} from './private/capacity-provider';
import {
  type ChannelResource,
  channelName,
  channelTarget,
  fixChannelName,
  isBus,
  isQueue,
  isTopic,
  warnOfNoDeadLetterQueue,
} from './private/channel-resource';
import { conventionalEntry } from './private/conventional-entry';
import { deployTarget } from './private/deploy-target';
import { esbuildRunnerFacts, esbuildRunnerProblem } from './private/esbuild-runner';
import { meshWired } from './private/external-trigger';
import { checkLogLevel } from './private/log-level';
import { acknowledgeNag } from './private/nag-acknowledgement';
import { nagArn } from './private/nag-arn';
import { writeOwnLogsOnly } from './private/own-logs-role';
import { consumeQueue, grantQueueSend } from './private/queue-grants';
import { warnOfDroppedGrants } from './private/role-grants';
import { versionFollowsRuntimeLayer } from './private/runtime-layer-version';
import { LAMBDA_LAYER_LIMIT, MESH_LAYER_COUNT, tooManyLayers } from './private/snapshot-layer-attachment';
import { principalName, warnOfUnqualifiedInvoke } from './private/unqualified-invoke';
import { type MeshTraffic, warnOfUnreachableEndpoints } from './private/vpc-endpoints';
import { type EdgeOptions, type TrafficOptions, trafficFields } from './traffic-options';

/** Lambda's cap on a function's environment variables: 4 KB, keys and values together. */
export const LAMBDA_ENV_LIMIT_BYTES = 4096;
/** Lambda's timeout of a function that sets none (AWS::Lambda::Function's Timeout: 3 seconds). */
const LAMBDA_DEFAULT_TIMEOUT_MS = 3000;
/** Lambda's cap on a function name. */
export const LAMBDA_FUNCTION_NAME_MAX = 64;

/** A function in the mesh. */
export interface IMeshFunction extends lambda.IFunction {
  /** The mesh it belongs to. */
  readonly mesh: Mesh;
  /** Its service name in the mesh. */
  readonly service: string;
  /** The `live` alias callers reach by default. */
  readonly liveAlias: lambda.Alias;
}

/**
 * Where an edge's calls go when the target fails (its breaker open, throttled past the retries,
 * service errors): exactly one of another service, another version of the target, or the target's
 * function in another region.
 */
export interface FallbackOptions {
  /**
   * Another service of the mesh; declare the edge to it too (`allowCallsTo(service)`), which gives
   * the grant and the policy item the fallback call needs.
   * @default - not a service
   */
  readonly service?: MeshFunction;
  /**
   * Another published version of the target, e.g. "3".
   * @default - not a version
   */
  readonly version?: string;
  /**
   * The same function in another region, by its ARN (an alias or version may end it; else the
   * target's alias). The caller's role gets lambda:InvokeFunction on it.
   * @default - not another region
   */
  readonly functionArn?: string;
  /**
   * Also fail over when the target's handler threw (a function error). On an edge that is not
   * idempotent the mesh never fails over after the handler may have run, whatever this says.
   * @default false
   */
  readonly onFunctionError?: boolean;
}

/** Options of `allowCallsTo`: the edge's traffic settings, a note, and a fallback. */
export interface CallEdgeOptions extends EdgeOptions {
  /**
   * Where the edge's calls go when the target fails.
   * @default - no fallback
   */
  readonly fallback?: FallbackOptions;
}

/**
 * A pinned split of the `live` alias between a version you name and this deploy's version. For canaries
 * that need no version numbers, gated by alarms, use `deployment` instead.
 */
export interface CanaryOptions {
  /** Share of the alias's traffic this deploy's new version receives, 0 to 1. */
  readonly weight: number;
  /** The published version that keeps the rest of the traffic, e.g. "1" (never $LATEST). */
  readonly stableVersion: string;
}

/** How callers reach a service over HTTP instead of Lambda Invoke (`MeshFunction.addHttpEndpoint`). */
export interface HttpEndpointOptions {
  /**
   * The https URL callers send to: a Function URL's `url` (a token is fine) or a literal URL. Plain
   * http only on 127.0.0.1, localhost or [::1].
   */
  readonly url: string;
  /**
   * How callers authenticate: `iam` signs with SigV4 (a Function URL with AuthType AWS_IAM; callers get
   * lambda:InvokeFunctionUrl), `mtls` presents the caller's mesh certificate and requires the server's
   * from the mesh CA, `none` sends no credential and never the caller's identity token.
   * @default 'iam'
   */
  readonly auth?: HttpAuth;
}

/** What `MeshFunction` adds to `NodejsFunction`, apart from the mesh itself. */
export interface MeshFunctionOptions {
  /**
   * The function's service name in the mesh: lower-case letters, digits and dashes, starting with a
   * letter, at most 40 characters. Callers use it: `mesh.call('payments', body)`.
   */
  readonly service: string;
  /**
   * Make every deploy that publishes a new version a gated canary: CodeDeploy shifts `live` from the
   * version that is live to the new one on the config's schedule (10% for 5 minutes, then all, unless
   * set), after the mesh's pre-traffic check, and stops and rolls back when an alarm on the new
   * version's mesh metrics fires. No version number appears in your code. Not with `canary`.
   * A new version is published when the function's code, configuration or own layers change, or the
   * mesh's runtime does; a policy change alone publishes none and starts no deployment.
   * @default - no gated deployment: `live` moves to each new version at once
   */
  readonly deployment?: MeshDeploymentOptions;
  /**
   * Pin a split of the `live` alias: `stableVersion` keeps the traffic but `weight`, which goes to this
   * deploy's new version (advanced: a split you step by hand; `deployment` is the gated way). Not with
   * `deployment`.
   * @default - no canary: `live` points at this deploy's version
   */
  readonly canary?: CanaryOptions;
  /**
   * Traffic settings for all callers of this service (a `traffic` item); edges may override them.
   * @default - the mesh defaults
   */
  readonly traffic?: TrafficOptions;
  /**
   * Run on Lambda Managed Instances of this capacity provider, where one execution environment serves
   * several invocations at once (`perExecutionEnvironmentMaxConcurrency`); the mesh runtime keeps each
   * invocation's deadline, trace, caller and idempotency key apart. Services that do not trust each
   * other belong on different capacity providers: a provider, not the function, is the isolation boundary.
   * @default - Lambda's default compute, one invocation at a time per execution environment
   */
  readonly capacityProvider?: MeshCapacityProviderOptions;
  /**
   * Open the layer's local HTTP endpoint in each sandbox: `$MESH_ENDPOINT/<service>` takes a plain HTTP
   * POST as `mesh.call`, so any HTTP client can call through the mesh. It costs every cold start a
   * socket bound at init and ~2 KB more code, so only functions that use it open it.
   * @default false - calls go through `mesh.call` / `mesh.send` only; MESH_ENDPOINT is unset
   */
  readonly localEndpoint?: boolean;
}

/** How a function sends to a queue, topic or bus (`allowSendTo`), besides the edge's traffic settings. */
export interface SendOptions extends EdgeOptions {
  /**
   * The channel's mesh name: what `mesh.send(<name>, …)` names, and its policy partition.
   * @default the resource's construct id in kebab case (`OrderEvents` -> `order-events`)
   */
  readonly channel?: string;
}

/** How a function consumes a queue, topic or bus (`receiveFrom`). */
export interface ReceiveOptions {
  /** The services that may send to this function through the channel; every other sender's record is refused. */
  readonly from: readonly MeshFunction[];
  /**
   * The channel's mesh name (the same as its senders').
   * @default the resource's construct id in kebab case
   */
  readonly channel?: string;
  /**
   * SQS only: most records per batch.
   * @default 10
   */
  readonly batchSize?: number;
}

/** Props of a `MeshFunction`: every `NodejsFunction` prop, plus the mesh, the service and a canary. */
export interface MeshFunctionProps extends NodejsFunctionProps, MeshFunctionOptions {
  /** The mesh the function joins. */
  readonly mesh: Mesh;
}

/**
 * A `NodejsFunction` wrapped by the mesh: the mesh layer runs first (handler = the layer's wrapper,
 * the user's handler kept in MESH_HANDLER), calls go through `live` (optionally a canary), and who may
 * call whom is declared with `allowCallsTo` / `allowExternal` — both the IAM grant and the policy item.
 */
export class MeshFunction extends NodejsFunction implements IMeshFunction {
  /** The mesh it belongs to. */
  public readonly mesh: Mesh;
  /** Its service name in the mesh (MESH_SERVICE). */
  public readonly service: string;
  /** The `live` alias. */
  public readonly liveAlias: lambda.Alias;
  /**
   * The function's current version (`currentVersion`): a new one when its code, configuration or own
   * layers change or the mesh's runtime does, the one before when only the policy changed.
   */
  public readonly version: lambda.Version;
  /** The user's handler as bundled, `index.<export>` (MESH_HANDLER). */
  public readonly meshHandler: string;
  /** The canary, when one is declared. */
  public readonly canary?: CanaryOptions;
  /** The gated deployment of `live` (deployment group, alarms, pre-traffic hook), when one is declared. */
  public readonly deployment?: MeshDeployment;

  private readonly targetFunctions: MeshFunction[] = [];
  private invokeGrant?: iam.Grant;
  private latestDeny?: iam.PolicyStatement;
  private endpoint?: HttpTarget;
  private urlInvoke?: iam.PolicyStatement;
  /** The channels this function sends to, by mesh name. */
  private readonly sendChannels = new Map<string, ChannelResource>();
  /** The channels this function consumes, by mesh name. */
  private readonly inbound = new Map<string, ChannelResource>();
  /** Statements whose dynamodb:LeadingKeys list this function's partitions (see `limitToPartitions`). */
  private readonly partitionLimits: { statement: iam.PolicyStatement; operator: string; keys: () => string[] }[] = [];

  constructor(scope: Construct, id: string, props: MeshFunctionProps) {
    const { functionName, entry } = checkProps(scope, id, props);
    const meshHandler = userHandler(props);
    const external = new Set([...(props.bundling?.externalModules ?? ['@aws-sdk/*']), '@aws-sdk/*', LAYER.moduleName]);

    // Event invoke settings belong on `live`, the qualifier mesh.send invokes (Lambda applies the
    // EventInvokeConfig of the qualifier invoked; NodejsFunction would put them on $LATEST).
    const { onFailure, onSuccess, retryAttempts, maxEventAge, ...functionProps } = props;
    super(scope, id, {
      ...functionProps,
      functionName,
      entry,
      handler: LAYER.wrapperHandler,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      layers: [props.mesh.layer, ...(props.layers ?? [])],
      bundling: { ...props.bundling, externalModules: [...external] },
    });
    // A role of the app's own (props.role) is the app's; a durable function keeps its managed policy.
    if (!props.role && !props.durableConfig) {
      writeOwnLogsOnly(this, { functionName, logGroup: props.logGroup, vpc: props.vpc });
    }
    checkLogLevel(this, props.deployment !== undefined);
    this.mesh = props.mesh;
    this.service = props.service;
    this.meshHandler = meshHandler;
    this.canary = props.canary;

    this.addRuntimeEnvironment(props);
    if (props.capacityProvider) useCapacityProvider(this, props.capacityProvider);

    versionFollowsRuntimeLayer(this, props.mesh.layer);
    this.version = this.currentVersion;
    this.liveAlias = this.newLiveAlias(props.canary);
    if (onFailure || onSuccess || retryAttempts !== undefined || maxEventAge) {
      this.liveAlias.configureAsyncInvoke({ onFailure, onSuccess, retryAttempts, maxEventAge });
    }
    if (props.deployment) {
      this.deployment = new MeshDeployment(this, 'Deployment', { ...props.deployment, fn: this, functionName });
      // The new version's check reads its policy: the deploy's items are in the table before traffic moves.
      this.liveAlias.node.addDependency(this.mesh.policy);
    }
    this.grantPolicyReads();

    this.mesh.addPolicyItem({ pk: this.service, sk: SORT_KEY.service, functionName, alias: LIVE_ALIAS });
    if (props.traffic)
      this.mesh.addPolicyItem({ pk: this.service, sk: SORT_KEY.traffic, ...trafficFields(props.traffic, this) });

    Tags.of(this).add(TAGS.mesh, this.mesh.meshName);
    Tags.of(this).add(TAGS.service, this.service);
    this.acknowledgeNagFindings();
    this.node.addValidation({ validate: () => this.checkEnvironmentSize() });
    if (props.role) this.node.addValidation({ validate: () => warnOfDroppedGrants(this) });
    const vpc = props.vpc;
    if (vpc) this.node.addValidation({ validate: () => warnOfUnreachableEndpoints(this, vpc, this.networkTraffic()) });
    claimFunctionName(this, functionName);
    this.mesh._register(this);
  }

  /** What the layer's runtime reads (shared/names.ts ENV); the 4 KB of environment stay for what has no default. */
  private addRuntimeEnvironment(props: MeshFunctionProps): void {
    this.addEnvironment(ENV.meshName, this.mesh.meshName);
    this.addEnvironment(ENV.service, this.service);
    this.addEnvironment(ENV.handler, this.meshHandler);
    this.addEnvironment(ENV.policyTable, this.mesh.tableName);
    this.addEnvironment(ENV.policySnapshot, LAYER.snapshotPath);
    if (this.mesh.policyTtlMs !== undefined) this.addEnvironment(ENV.policyTtlMs, String(this.mesh.policyTtlMs));
    if (this.mesh.sharedBreakers) this.addEnvironment(ENV.sharedBreakers, 'true');
    // The default needs no variable: the 4 KB of environment stay for what has no default.
    if (this.mesh.metricDimensions !== 'standard')
      this.addEnvironment(ENV.metricDimensions, this.mesh.metricDimensions);
    if (props.localEndpoint) this.addEnvironment(ENV.endpointPort, '0');
    // The targets' HTTP endpoints, rendered at synth (edges and endpoints may be declared in any order).
    this.addEnvironment(ENV.httpTargets, Lazy.string({ produce: () => this.httpTargetsJson() }));
    this.addEnvironment(ENV.channels, Lazy.string({ produce: () => this.channelsJson() }));
    this.addEnvironment(ENV.inboundChannels, Lazy.string({ produce: () => this.inboundJson() }));
  }

  /** `live`: this deploy's version, or the canary's stable version with `weight` to this one. */
  private newLiveAlias(canary: CanaryOptions | undefined): lambda.Alias {
    const stable = canary
      ? lambda.Version.fromVersionAttributes(this, 'StableVersion', {
          lambda: this,
          version: canary.stableVersion,
        })
      : this.version;
    return new lambda.Alias(this, 'LiveAlias', {
      aliasName: LIVE_ALIAS,
      version: stable,
      additionalVersions: canary ? [{ version: this.version, weight: canary.weight }] : undefined,
    });
  }

  /**
   * Read only the policy of the services this function touches: itself, its targets, the channels it
   * sends to and those it consumes (a consumer asks a record's channel about its sender too), with
   * shared breakers each of their breaker partitions (the runtime reads one with every service's policy,
   * its own included), and the shards of the mesh-wide policy version.
   */
  private grantPolicyReads(): void {
    // One statement for both: IAM caps a role's inline policy at 10,240 characters. StringLike matches
    // the service names literally (a service name holds no wildcard) and the version shards by prefix.
    this.limitToPartitions(['dynamodb:Query', 'dynamodb:GetItem'], 'ForAllValues:StringLike', () => {
      const services = [
        this.service,
        ...this.targets.map((t) => t.service),
        ...new Set([...this.sendChannels.keys(), ...this.inbound.keys()]),
      ];
      const breakers = this.mesh.sharedBreakers ? services.map(breakerPartition) : [];
      return [...services, ...breakers, `${POLICY_VERSION.partitionPrefix}*`];
    });
  }

  /** cdk-nag (AwsSolutions) findings a mesh function accepts, each with its reason (test/infra/identity-nag). */
  private acknowledgeNagFindings(): void {
    acknowledgeNag(
      this,
      'AwsSolutions-IAM5[Resource::*]',
      'Active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and, in a VPC, the network interfaces Lambda manages (ec2:*NetworkInterface*) support no resource-level permissions',
    );
    acknowledgeNag(
      this,
      'AwsSolutions-L1',
      "The runtime is the app's choice (props.runtime); the mesh default, nodejs22.x, is the runtime the layer and the local mesh are built and tested for",
    );
  }

  /** What this function sends over the network itself (private/vpc-endpoints.ts), once every edge is declared. */
  private networkTraffic(): MeshTraffic {
    const channels = [...this.sendChannels.values()].map((c) => (isQueue(c) ? 'sqs' : isTopic(c) ? 'sns' : 'events'));
    return {
      identity: this.mesh.identity !== undefined,
      invokes: this.targets.some((t) => !t.httpEndpoint),
      channels: new Set(channels),
      http: this.targets.some((t) => t.httpEndpoint !== undefined),
    };
  }

  /**
   * `actions` on the policy table, in the partitions `keys` names. The list is written out, and written
   * again as edges and channels are declared (`refreshPartitionLimits`), not left to a Lazy: aws-cdk-lib
   * sizes a role's policy before it resolves it, to move what passes IAM's 10,240 characters into
   * managed policies, and counts an unresolved list as the few characters of its token. With the ARNs
   * written out too (cdk init's flags: enablePartitionLiterals), a caller of 40 services measured
   * under the cap and was 11,025 characters, a policy IAM refuses at deploy.
   */
  private limitToPartitions(actions: string[], operator: string, keys: () => string[]): void {
    const statement = new iam.PolicyStatement({ actions, resources: [this.mesh.table.tableArn] });
    this.partitionLimits.push({ statement, operator, keys });
    this.refreshPartitionLimits();
    this.addToRolePolicy(statement);
  }

  /** Once the app has synthesized, the role's statements are frozen: a new edge could not reach them. */
  private checkPolicyOpen(call: string): void {
    if (!this.partitionLimits.some((l) => l.statement.frozen)) return;
    throw new MeshValidationError(
      MeshErrorCode.INVALID_EDGE,
      `MeshFunction ${this.node.path}: ${call} after the app was synthesized, when its role's policy is final; declare edges and channels before synth (app.synth(), Template.fromStack)`,
      this,
    );
  }

  private refreshPartitionLimits(): void {
    for (const { statement, operator, keys } of this.partitionLimits)
      statement.addCondition(operator, { 'dynamodb:LeadingKeys': keys() });
  }

  /** The services this function may call, in the order the edges were declared. */
  public get targets(): readonly MeshFunction[] {
    return [...this.targetFunctions];
  }

  /** The channels (queues, topics, buses) this function sends to (`allowSendTo`), by mesh name. */
  public get sendsTo(): readonly string[] {
    return [...this.sendChannels.keys()];
  }

  /** The channels this function consumes (`receiveFrom`), by mesh name. */
  public get receivesFrom(): readonly string[] {
    return [...this.inbound.keys()];
  }

  /** How callers reach this service over HTTP (`addHttpEndpoint`); undefined = by Lambda Invoke. */
  public get httpEndpoint(): HttpTarget | undefined {
    return this.endpoint;
  }

  /**
   * Callers reach this service over HTTP at `url` instead of Lambda Invoke. The deployment is the only
   * place an HTTP target is declared: callers get it in MESH_HTTP_TARGETS, and a policy item cannot
   * name a URL. With `auth: 'iam'` (a Function URL with AuthType AWS_IAM, e.g.
   * `fn.liveAlias.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM }).url`), each caller's role
   * gets lambda:InvokeFunctionUrl on this function. Declaring the same endpoint again is a no-op.
   */
  public addHttpEndpoint(options: HttpEndpointOptions): void {
    const where = `MeshFunction ${this.node.path}`;
    const endpoint: HttpTarget = { url: options.url, auth: options.auth ?? HTTP_AUTH.iam };
    // A token (a Function URL) is https by construction; its auth is still checked.
    const checked = Token.isUnresolved(endpoint.url) ? { ...endpoint, url: 'https://unresolved.invalid/' } : endpoint;
    const error = httpTargetError(this.service, checked);
    if (error) throw new MeshValidationError(MeshErrorCode.INVALID_HTTP_ENDPOINT, `${where}: ${error}`, this);
    if (this.endpoint) {
      if (this.endpoint.url === endpoint.url && this.endpoint.auth === endpoint.auth) return;
      throw new MeshValidationError(
        MeshErrorCode.INVALID_HTTP_ENDPOINT,
        `${where}: service "${this.service}" already has an HTTP endpoint (${this.endpoint.auth}); declare one endpoint per service`,
        this,
      );
    }
    this.endpoint = endpoint;
    // Callers that declared their edge already get the URL grant now; later ones in allowCallsTo.
    for (const caller of this.mesh.functions) if (caller.targetFunctions.includes(this)) caller.grantUrlInvoke(this);
  }

  /**
   * Declares the edge this -> `target`: the role may invoke the target's `live` alias and published
   * versions (one statement lists every target, so many edges keep the role policy small), and the
   * target's `allow#<this service>` item carries the edge's traffic settings. Idempotent.
   *
   * @returns the grant of the invoke statement (shared by all of this function's edges)
   */
  public allowCallsTo(target: MeshFunction, options: CallEdgeOptions = {}): iam.Grant {
    this.checkPolicyOpen(`allowCallsTo(${target.service})`);
    this.checkEdge(target);
    const traffic = trafficFields(options, this);
    this.checkEdgeTimeouts(target, traffic);
    const fallback = options.fallback ? this.fallbackField(target, options.fallback) : undefined;
    this.mesh.addPolicyItem({
      pk: target.service,
      sk: SORT_KEY.allow(this.service),
      source: this.service,
      ...traffic,
      ...(fallback ? { fallback } : {}),
      ...(options.description ? { description: options.description } : {}),
    });
    if (this.targetFunctions.includes(target)) return this.invokeGrant!;
    this.targetFunctions.push(target);
    this.refreshPartitionLimits();
    this.grantUrlInvoke(target);
    const grant = this.grantEdgeInvoke(target);
    acknowledgeNag(
      this,
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'lambda', `function:${target.physicalName}:*`)}]`,
      `A declared edge: ":*" covers ${target.service}'s published versions and its live alias (weighted canary); $LATEST is denied by an explicit statement`,
    );
    return grant;
  }

  /**
   * The policy item's `fallback`, with what it needs: a service fallback needs its own edge (checked
   * at synth, so it may be declared after this one), another region's function a grant here.
   */
  private fallbackField(target: MeshFunction, fb: FallbackOptions): Record<string, unknown> {
    const where = `MeshFunction ${this.node.path}: allowCallsTo(${target.service}) fallback`;
    const set = (['service', 'version', 'functionArn'] as const).filter((k) => fb[k] !== undefined);
    if (set.length !== 1) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_FALLBACK,
        `${where} must set exactly one of service, version or functionArn; it sets ${set.length === 0 ? 'none' : set.join(' and ')}`,
        this,
      );
    }
    const out: Record<string, unknown> =
      fb.onFunctionError !== undefined ? { onFunctionError: fb.onFunctionError } : {};
    if (fb.service) return { ...out, service: this.serviceFallback(where, target, fb.service) };
    if (fb.version !== undefined) return { ...out, version: this.versionFallback(where, fb.version) };
    return { ...out, functionArn: this.regionFallback(where, fb.functionArn!) };
  }

  /** Another service: never the target itself, and an edge of its own, declared before or after this one. */
  private serviceFallback(where: string, target: MeshFunction, svc: MeshFunction): string {
    if (!(svc instanceof MeshFunction) || svc.mesh !== this.mesh) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_FALLBACK,
        `${where}: service must be a MeshFunction of mesh "${this.mesh.meshName}" (the construct, not its name), got ${typeof svc === 'string' ? JSON.stringify(svc) : String(svc)}`,
        this,
      );
    }
    if (svc === target) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_FALLBACK,
        `${where}: the fallback is the target itself; name another version (fallback.version) or a function in another region (fallback.functionArn)`,
        this,
      );
    }
    this.node.addValidation({
      validate: () =>
        this.targetFunctions.includes(svc)
          ? []
          : [
              `${where}: ${svc.service} is not a target of ${this.service}; declare the edge too: ${this.service}.allowCallsTo(${svc.service})`,
            ],
    });
    return svc.service;
  }

  /** Another published version of the target. */
  private versionFallback(where: string, version: string): string {
    if (!Token.isUnresolved(version) && !isPublishedVersion(version)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_FALLBACK,
        `${where}: version must be a published version number such as "3", got ${JSON.stringify(version)} (never $LATEST)`,
        this,
      );
    }
    return version;
  }

  /** A function named by its ARN (another region's copy), with the grants to invoke it and sign for it there. */
  private regionFallback(where: string, arn: string): string {
    if (Token.isUnresolved(arn) || !LAMBDA_FUNCTION_ARN_PATTERN.test(arn)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_FALLBACK,
        `${where}: functionArn must be a literal Lambda function ARN, arn:aws:lambda:<region>:<account>:function:<name>[:<alias>], got ${Token.isUnresolved(arn) ? 'a token' : JSON.stringify(arn)}`,
        this,
      );
    }
    const unqualified = arn.split(':').slice(0, 7).join(':');
    // The alias, its versions, never $LATEST (as the edge's own grant). Not the bare ARN either: an
    // Invoke by the unqualified name runs $LATEST, and the deny below names only `:$LATEST`. The
    // failover always names a qualifier.
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${unqualified}:*`] }),
    );
    this.addToRolePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['lambda:InvokeFunction'],
        resources: [`${unqualified}:$LATEST`],
      }),
    );
    this.grantIdentityIn(arn);
    return arn;
  }

  /**
   * A fallback in another region is signed with this service's identity there (the callee trusts only
   * its own region's CA): read access to that secret, which that region's Mesh opens to this service's
   * role with `identity: { peerRegions }`.
   */
  private grantIdentityIn(functionArn: string): void {
    const [, partition, , region, account] = functionArn.split(':');
    const here = Stack.of(this).region;
    if (!this.mesh.identity || region === here) return;
    const secret = `arn:${partition}:secretsmanager:${region}:${account}:secret:${IDENTITY.secretName(this.mesh.meshName, this.service)}-??????`;
    this.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret] }));
    acknowledgeNag(
      this,
      `AwsSolutions-IAM5[Resource::${secret}]`,
      `"-??????" is the random suffix Secrets Manager adds to ${this.service}'s identity secret in ${region}, the one secret this grant names`,
    );
  }

  /**
   * How two functions of other stacks come into one mesh: a mesh takes functions of its own stack only
   * (checkStack), so "one mesh" alone would lead to that refusal next.
   */
  private oneStackWith(target: MeshFunction): string {
    const mine = Stack.of(this);
    const theirs = Stack.of(target);
    if (mine === theirs) return '';
    return `, and so in one stack (a mesh and its functions deploy together): declare ${target.node.path} in stack ${mine.node.path}, or ${this.node.path} in stack ${theirs.node.path}`;
  }

  /** An edge goes to another MeshFunction of the same mesh. */
  private checkEdge(target: MeshFunction): void {
    const where = `MeshFunction ${this.node.path}`;
    if (!(target instanceof MeshFunction)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_EDGE,
        `${where}: allowCallsTo takes a MeshFunction, got ${String(target)}; wrap the target in MeshFunction`,
        this,
      );
    }
    if (target.mesh !== this.mesh) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_EDGE,
        `${where}: cannot call ${target.node.path} (service "${target.service}"): it is in mesh "${target.mesh.meshName}", this function is in mesh "${this.mesh.meshName}"; put both in one mesh${this.oneStackWith(target)}`,
        this,
      );
    }
    if (target === this || target.service === this.service) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_EDGE,
        `${where}: service "${this.service}" cannot call itself through the mesh; call the code directly`,
        this,
      );
    }
  }

  /**
   * An edge's timeouts fit in this function's own: the runtime never waits past the time Lambda leaves
   * the invocation, so a longer one would be a setting that never applies (a 5 s edge on Lambda's
   * default 3 s function ends after under 3 s).
   */
  private checkEdgeTimeouts(target: MeshFunction, traffic: TrafficPolicy): void {
    const functionMs = this.timeout?.toMilliseconds({ integral: false }) ?? LAMBDA_DEFAULT_TIMEOUT_MS;
    if (Token.isUnresolved(functionMs)) return;
    for (const field of ['timeoutMs', 'perTryTimeoutMs'] as const) {
      const edgeMs = traffic[field];
      if (edgeMs === undefined || edgeMs <= functionMs) continue;
      const name = field === 'timeoutMs' ? 'timeout' : 'perTryTimeout';
      throw new MeshValidationError(
        MeshErrorCode.INVALID_EDGE,
        `MeshFunction ${this.node.path}: allowCallsTo(${target.service}) ${name} is ${edgeMs} ms, longer than the function's own timeout of ${functionMs} ms${this.timeout ? '' : " (Lambda's default)"}, so it would never apply: Lambda ends the invocation first. Give the edge a ${name} of at most ${functionMs} ms, or raise the function's timeout (e.g. timeout: Duration.seconds(${Math.ceil(edgeMs / 1000) + 5}))`,
        this,
      );
    }
  }

  /**
   * lambda:InvokeFunction on the target's live alias and published versions (`:*`), in one statement
   * for every target, with $LATEST denied: `:*` matches it too, and the mesh never calls unpublished
   * code. The first edge creates the statements; later ones add their target to them.
   */
  private grantEdgeInvoke(target: MeshFunction): iam.Grant {
    const qualified = `${target.unqualifiedArn()}:*`;
    const latest = `${target.unqualifiedArn()}:$LATEST`;
    if (this.invokeGrant) {
      for (const s of this.invokeGrant.principalStatements) s.addResources(qualified);
      this.latestDeny?.addResources(latest);
      return this.invokeGrant;
    }
    this.invokeGrant = iam.Grant.addToPrincipal({
      grantee: this,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [qualified],
    });
    this.latestDeny = new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['lambda:InvokeFunction'],
      resources: [latest],
    });
    this.addToRolePolicy(this.latestDeny);
    // Rate-limit buckets live in the targets' rate-limit partitions (pk = ratelimit#<target>): a caller
    // leases slices there, for a limit declared now or set later with `mesh policy set`.
    this.limitToPartitions(['dynamodb:UpdateItem'], 'ForAllValues:StringEquals', () =>
      this.targets.map((t) => rateLimitPartition(t.service)),
    );
    if (this.mesh.sharedBreakers) {
      // Shared breaker items live in the targets' breaker partitions (pk = breaker#<target>), never in
      // the targets' own: this function may write breaker state and not a target's policy.
      this.limitToPartitions(['dynamodb:PutItem'], 'ForAllValues:StringEquals', () =>
        this.targets.map((t) => breakerPartition(t.service)),
      );
    }
    return this.invokeGrant;
  }

  /**
   * lambda:InvokeFunctionUrl on `target` when callers reach it by a Function URL with AWS_IAM (one
   * statement lists every such target). The URL may be on the function or an alias: both ARNs.
   */
  private grantUrlInvoke(target: MeshFunction): void {
    if (target.endpoint?.auth !== HTTP_AUTH.iam) return;
    const arns = [target.unqualifiedArn(), `${target.unqualifiedArn()}:*`];
    if (this.urlInvoke) {
      this.urlInvoke.addResources(...arns);
      return;
    }
    this.urlInvoke = new iam.PolicyStatement({
      actions: ['lambda:InvokeFunctionUrl'],
      resources: arns,
      conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
    });
    this.addToRolePolicy(this.urlInvoke);
  }

  /** MESH_HTTP_TARGETS: the targets that declared an HTTP endpoint, as JSON; undefined = none (no variable). */
  private httpTargetsJson(): string | undefined {
    const declared = this.targetFunctions.filter((t) => t.endpoint);
    if (declared.length === 0) return undefined;
    return Stack.of(this).toJsonString(Object.fromEntries(declared.map((t) => [t.service, t.endpoint])));
  }

  /**
   * Declares that this function sends to `target` with `mesh.send`: a MeshFunction (an Event invoke, the
   * same grant and policy item as `allowCallsTo`), or an SQS queue, SNS topic or EventBridge bus (a
   * channel): the role may send to it, the channel's `allow#<this service>` item lets the mesh pipeline
   * through, and the function learns the channel in MESH_CHANNELS. Consumers declare whom they accept
   * with `receiveFrom`. Idempotent.
   */
  public allowSendTo(target: MeshFunction | ChannelResource, options: SendOptions = {}): iam.Grant {
    if (target instanceof MeshFunction) return this.allowCallsTo(target, options);
    this.checkPolicyOpen('allowSendTo');
    const where = `MeshFunction ${this.node.path}`;
    if (!isQueue(target) && !isTopic(target) && !isBus(target)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_CHANNEL,
        `${where}: allowSendTo takes a MeshFunction, an SQS queue, an SNS topic or an EventBridge bus, got ${String(target)}`,
        this,
      );
    }
    const name = this.channelNameOf(target, options.channel);
    this.mesh.addPolicyItem({
      pk: name,
      sk: SORT_KEY.allow(this.service),
      source: this.service,
      ...trafficFields(options, this),
      ...(options.description ? { description: options.description } : {}),
    });
    this.sendChannels.set(name, target);
    this.refreshPartitionLimits();
    if (isQueue(target)) return grantQueueSend(target, this);
    if (isTopic(target)) return target.grantPublish(this);
    return target.grantPutEventsTo(this);
  }

  /**
   * Consumes `source` through the `live` alias: an SQS event source mapping that reports partial batch
   * failures (a refused record stays in the queue, for its dead-letter queue, instead of being deleted
   * with the batch), an SNS subscription, or an EventBridge rule on the mesh's messages to this channel.
   * Only the services in `from` may send: their records are verified and authorized one by one, every
   * other record refused.
   */
  public receiveFrom(source: ChannelResource, options: ReceiveOptions): void {
    this.checkPolicyOpen('receiveFrom');
    const where = `MeshFunction ${this.node.path}`;
    if (!isQueue(source) && !isTopic(source) && !isBus(source)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_CHANNEL,
        `${where}: receiveFrom takes an SQS queue, an SNS topic or an EventBridge bus, got ${String(source)}`,
        this,
      );
    }
    if (!options?.from?.length) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_CHANNEL,
        `${where}: receiveFrom needs from: the MeshFunctions that send to it (e.g. { from: [orders] }); records of other senders are refused`,
        this,
      );
    }
    const name = this.channelNameOf(source, options.channel);
    if (this.inbound.has(name)) return;
    for (const sender of options.from) {
      if (!(sender instanceof MeshFunction) || sender.mesh !== this.mesh) {
        throw new MeshValidationError(
          MeshErrorCode.INVALID_CHANNEL,
          `${where}: receiveFrom's from lists ${String(sender)}, not a MeshFunction of mesh "${this.mesh.meshName}"`,
          this,
        );
      }
      this.mesh.addPolicyItem({ pk: this.service, sk: SORT_KEY.allow(sender.service), source: sender.service });
    }
    // Checked at synth, not here: the senders may declare allowSendTo after this call.
    const senders = options.from as MeshFunction[];
    this.node.addValidation({ validate: () => this.checkSenders(name, senders) });
    this.inbound.set(name, source);
    this.refreshPartitionLimits();
    if (isQueue(source)) warnOfNoDeadLetterQueue(this, source);
    // The mesh's own trigger: the check for triggers from outside the mesh passes it over.
    meshWired(this, () => this.consume(source, name, options.batchSize ?? 10));
  }

  /** Wires `source` to `live`: an event source mapping, an SNS subscription, or a rule on the bus. */
  private consume(source: ChannelResource, name: string, batchSize: number): void {
    if (isQueue(source)) {
      consumeQueue(this.liveAlias, source, batchSize);
    } else if (isTopic(source)) {
      source.addSubscription(new snsSubscriptions.LambdaSubscription(this.liveAlias));
    } else {
      new events.Rule(this, `Receive-${name}`, {
        eventBus: source as events.IEventBus,
        eventPattern: { source: [MESH_EVENT_SOURCE], detailType: [name] },
        targets: [new eventTargets.LambdaFunction(this.liveAlias)],
      });
    }
  }

  private channelNameOf(r: ChannelResource, wanted: string | undefined): string {
    const name = channelName(r, wanted);
    const error = typeof name === 'string' ? this.channelNameTaken(name, r) : name.error;
    if (typeof name !== 'string' || error !== undefined) {
      throw new MeshValidationError(MeshErrorCode.INVALID_CHANNEL, `MeshFunction ${this.node.path}: ${error}`, this);
    }
    fixChannelName(r, name);
    return name;
  }

  /**
   * Why `name` cannot be `r`'s channel in this mesh, if it cannot: a service has it, or another resource.
   * A channel name is one partition of the policy and one key of MESH_CHANNELS and MESH_INBOUND_CHANNELS,
   * so a second queue under it would replace the first in a sender's channels, and a consumer's second
   * receiveFrom under it would consume nothing.
   */
  private channelNameTaken(name: string, r: ChannelResource): string | undefined {
    const service = this.mesh.functionOf(name);
    if (service)
      return `channel "${name}" has the name of service ${service.node.path}; pass { channel: '<another name>' }`;
    const other = this.mesh.functions.map((f) => f.channelNamed(name)).find((c) => c !== undefined && c !== r);
    if (!other) return undefined;
    return (
      `channel "${name}" is already the name of ${other.node.path} in mesh "${this.mesh.meshName}", so ${r.node.path} cannot have it: ` +
      "a channel name is one queue, topic or bus (its policy partition); pass { channel: '<another name>' }"
    );
  }

  /** The queue, topic or bus this function sends to or consumes as channel `name`, if any. */
  private channelNamed(name: string): ChannelResource | undefined {
    return this.sendChannels.get(name) ?? this.inbound.get(name);
  }

  /** MESH_CHANNELS: the channels this function sends to, as JSON; undefined = none. */
  private channelsJson(): string | undefined {
    if (this.sendChannels.size === 0) return undefined;
    const entries = [...this.sendChannels].map(([name, r]) => [name, channelTarget(r)]);
    return Stack.of(this).toJsonString(Object.fromEntries(entries));
  }

  /** MESH_INBOUND_CHANNELS: the channels this function consumes (name -> ARN); undefined = none. */
  private inboundJson(): string | undefined {
    if (this.inbound.size === 0) return undefined;
    const entries = [...this.inbound].map(([name, r]) => [name, channelTarget(r).arn]);
    return Stack.of(this).toJsonString(Object.fromEntries(entries));
  }

  /** As `Function.addPermission`, with a synth warning: a trigger of the function itself runs `$LATEST`, past `live`. */
  public override addPermission(id: string, permission: lambda.Permission): void {
    warnOfUnqualifiedInvoke(this, this.service, principalName(permission.principal));
    super.addPermission(id, permission);
  }

  /**
   * As `Function.addEventSourceMapping` (which `addEventSource` calls), with the same synth warning: the
   * mapping polls for the function itself, `$LATEST`; `fn.liveAlias.addEventSource(...)` maps the alias.
   */
  public override addEventSourceMapping(id: string, options: lambda.EventSourceMappingOptions) {
    warnOfUnqualifiedInvoke(this, this.service, 'An event source mapping');
    return super.addEventSourceMapping(id, options);
  }

  /** Admits callers outside the mesh (API Gateway, SQS, a plain Invoke): the `allow#external` item. */
  public allowExternal(options: EdgeOptions = {}): void {
    if (options.rateLimit) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_EDGE,
        `MeshFunction ${this.node.path}: allowExternal takes no rateLimit: callers outside the mesh do not go through the mesh's client, so nothing would enforce it; throttle them where they come in (API Gateway usage plans, reserved concurrency)`,
        this,
      );
    }
    this.mesh.addPolicyItem({
      pk: this.service,
      sk: SORT_KEY.allow(EXTERNAL),
      source: EXTERNAL,
      ...trafficFields(options, this),
      ...(options.description ? { description: options.description } : {}),
    });
  }

  /**
   * The function's ARN without a qualifier, built from its literal name: no reference to the
   * function resource, so two functions that call each other create no dependency cycle.
   */
  public unqualifiedArn(): string {
    return Stack.of(this).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: this.physicalName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * A sender in `from` that never declared `allowSendTo(channel)` has no grant to send there and no
   * channel to name: its records could never arrive, and the consumer's allow item would only widen it.
   */
  private checkSenders(channel: string, senders: readonly MeshFunction[]): string[] {
    return senders
      .filter((sender) => !sender.sendsTo.includes(channel))
      .map(
        (sender) =>
          `MeshFunction ${this.node.path}: receiveFrom("${channel}") lists ${sender.service}, which never declared ` +
          `allowSendTo on that channel, so it may not send there; add ${sender.service}'s allowSendTo(<the channel>)` +
          ` (MeshFunction ${sender.node.path}), or remove it from from`,
      );
  }

  private checkEnvironmentSize(): string[] {
    const cfn = this.node.defaultChild as lambda.CfnFunction;
    const env = Stack.of(this).resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
    const vars = env?.variables ?? {};
    let bytes = 0;
    for (const [k, v] of Object.entries(vars)) {
      // Unresolved values (references) are counted by key only; their length is not known at synth.
      bytes += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    if (bytes > LAMBDA_ENV_LIMIT_BYTES) {
      const biggest = Object.entries(vars)
        .filter(([, v]) => typeof v === 'string')
        .sort(([, a], [, b]) => (b as string).length - (a as string).length)[0];
      return [
        `MeshFunction ${this.node.path}: environment variables take ${bytes} bytes, over Lambda's ${LAMBDA_ENV_LIMIT_BYTES}-byte limit` +
          (biggest ? ` (largest: ${biggest[0]}, ${(biggest[1] as string).length} bytes)` : '') +
          '; move large values into the bundle or a parameter',
      ];
    }
    return [];
  }
}

/**
 * Checks the props before the function exists (`path` is the one it will have); returns the function
 * name to use.
 */
function checkProps(
  scope: Construct,
  id: string,
  props: MeshFunctionProps,
): { functionName: string; entry: string | undefined } {
  const path = futurePath(scope, id);
  const refuse: Refuse = (code, message) => new MeshValidationError(code, `MeshFunction ${path}: ${message}`, path);
  if (!props.mesh)
    throw refuse(MeshErrorCode.MISSING_PROP, 'the mesh prop is required; pass the Mesh the function joins');
  checkStack(scope, props, refuse);
  checkRoleStack(scope, props, refuse);
  checkService(props, refuse);
  const functionName = checkFunctionName(props, refuse);
  checkFunctionNameFree(scope, props, functionName, refuse);
  checkTraffic(props, refuse);
  if (props.capacityProvider) checkCapacityProvider(path, props.capacityProvider);
  const entry = checkCode(id, props, refuse);
  checkEsbuildRunner(scope, props, refuse);
  checkRuntime(props, refuse);
  checkEnvironment(props, refuse);
  checkLayers(props, refuse);
  return { functionName, entry };
}

/**
 * The variables the mesh sets on every function (or that its wrapper sets at init), each with where its
 * value comes from instead. `addEnvironment` replaces a value the `environment` prop gave, so a user's
 * MESH_SERVICE would vanish from the template without a word; the mesh's own knobs that it never sets
 * (MESH_LOG_LEVEL, MESH_ROUTE_HEADERS, MESH_DISABLED) stay the user's to set.
 */
const MESH_OWNED_ENV: Readonly<Partial<Record<ENV, string>>> = {
  [ENV.meshName]: 'the Mesh prop meshName names the mesh',
  [ENV.service]: 'the service prop names the service',
  [ENV.handler]: "the handler comes from entry and handler (the mesh's wrapper runs it)",
  [ENV.policyTable]: 'the mesh sets it to its policy table',
  [ENV.policySnapshot]: "the mesh sets it to its policy snapshot's path",
  [ENV.policyTtlMs]: 'set the Mesh prop policyTtl',
  [ENV.endpoint]: 'the wrapper sets it at init; pass localEndpoint: true to have one',
  [ENV.endpointPort]: 'pass localEndpoint: true',
  [ENV.identitySecret]: "the mesh's identity sets it (the Mesh prop identity)",
  [ENV.sharedBreakers]: 'set the Mesh prop sharedBreakers',
  [ENV.httpTargets]: "a target's addHttpEndpoint declares it",
  [ENV.channels]: 'allowSendTo declares the channels',
  [ENV.inboundChannels]: 'receiveFrom declares the channels',
  [ENV.metricDimensions]: 'set the Mesh prop metricDimensions',
};

/** Refuses an `environment` entry the mesh would overwrite, naming it and where its value comes from. */
function checkEnvironment({ environment }: MeshFunctionProps, refuse: Refuse): void {
  for (const name of Object.keys(environment ?? {})) {
    const fix = Object.hasOwn(MESH_OWNED_ENV, name) ? MESH_OWNED_ENV[name as ENV] : undefined;
    if (fix === undefined) continue;
    throw refuse(
      MeshErrorCode.RESERVED_ENVIRONMENT,
      `environment sets ${name}, which the mesh sets itself and would overwrite; remove ${name} from environment (${fix})`,
    );
  }
}

/**
 * The function in its mesh's stack, or in a nested stack under it (at any depth): one deployment. The
 * mesh names each function (identity, policy items, dashboard) and each function waits for its identity
 * in the mesh: across separate stacks those references run both ways, a cycle CloudFormation cannot
 * deploy (aws-cdk reports it as a cyclic reference, naming neither). A nested stack passes them as its
 * parameters and outputs instead, and is how a mesh grows past one template's 500 resources.
 */
function checkStack(scope: Construct, { mesh }: MeshFunctionProps, refuse: Refuse): void {
  const here = Stack.of(scope);
  const meshStack = Stack.of(mesh);
  for (let s: Stack | undefined = here; s; s = s.nestedStackParent) if (s === meshStack) return;
  throw refuse(
    MeshErrorCode.MESH_IN_OTHER_STACK,
    `it is in stack ${here.node.path} and its mesh ${mesh.node.path} in stack ${meshStack.node.path}; a mesh and its functions deploy in one stack. Create the MeshFunction in stack ${meshStack.node.path} (inside a construct of your own there if you like), or in a NestedStack of it (each nested stack is a template of its own, the way past 500 resources), or give stack ${here.node.path} a Mesh of its own`,
  );
}

/** The stack a stack deploys with: itself, or the top of the nested stacks it is in. */
function topStack(stack: Stack): Stack {
  return stack.nestedStackParent ? topStack(stack.nestedStackParent) : stack;
}

/**
 * A role of the app's own made in another stack: aws-cdk puts the statements added to a role into that
 * role's policy, in the role's stack, so the mesh's grants (the table, the identity secret, the targets)
 * would refer to the mesh's stack while the function refers to the role, a cycle aws-cdk reports
 * without the way out. An imported role keeps them in a policy where it is imported.
 */
function checkRoleStack(scope: Construct, { role, mesh }: MeshFunctionProps, refuse: Refuse): void {
  if (!(role instanceof iam.Role)) return;
  const here = topStack(Stack.of(scope)).node.path;
  const roleStack = topStack(Stack.of(role)).node.path;
  if (roleStack === topStack(Stack.of(mesh)).node.path) return;
  throw refuse(
    MeshErrorCode.ROLE_IN_OTHER_STACK,
    `role ${role.node.path} is made in stack ${roleStack}, so the mesh's grants (its policy reads, its identity secret, its targets) would go into that role's policy in stack ${roleStack}, which would then refer to stack ${here} while this function refers to the role: a cycle CloudFormation cannot deploy. Import the role in stack ${here}, role: iam.Role.fromRoleArn(this, '${role.node.id}', <the role>.roleArn), and the grants go into a policy of stack ${here}; or make the role in stack ${here}`,
  );
}

/** The oldest Node.js major the layer is built for (functions/mesh/build.ts BUNDLE_OPTIONS.target). */
const OLDEST_NODE_MAJOR = 20;

/** A Node.js runtime the layer runs on: `nodejs<major>.x` from nodejs20.x on (or `nodejs`, Lambda's latest). */
function checkRuntime({ runtime }: MeshFunctionProps, refuse: Refuse): void {
  if (runtime === undefined || runtime.name === 'nodejs') return;
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (major === undefined || Number(major) < OLDEST_NODE_MAJOR) {
    throw refuse(
      MeshErrorCode.INVALID_RUNTIME,
      `runtime ${runtime.name} cannot run the mesh's layer, which needs Node.js ${OLDEST_NODE_MAJOR} or later; use lambda.Runtime.NODEJS_22_X (the default) or another nodejs${OLDEST_NODE_MAJOR}.x or later runtime`,
    );
  }
}

/** Layers added later (`addLayers`) are counted at synth, with the snapshot layer (snapshot-layer-attachment.ts). */
function checkLayers({ layers }: MeshFunctionProps, refuse: Refuse): void {
  const count = (layers?.length ?? 0) + MESH_LAYER_COUNT;
  if (count > LAMBDA_LAYER_LIMIT) throw refuse(MeshErrorCode.TOO_MANY_LAYERS, tooManyLayers(count));
}

type Refuse = (code: MeshErrorCode, message: string) => MeshValidationError;

/**
 * Names the mesh reads as something other than a service, with why: a service of one of these names
 * would be taken for it (its edges would be `allow#external`, which admits every caller outside the mesh).
 */
const RESERVED_SERVICES: Readonly<Record<string, string>> = {
  [DEPLOYMENT.checkSource]: "the mesh's pre-traffic check calls new versions under this name",
  [EXTERNAL]: `an edge from it would be the item allow#${EXTERNAL}, which admits every caller outside the mesh`,
  [UNKNOWN_SOURCE]: 'metrics and access logs record unverified callers under this name',
};

/** A valid service name, not taken in the mesh by a service or a channel, and not one the mesh reserves. */
function checkService({ mesh, service }: MeshFunctionProps, refuse: Refuse): void {
  if (Token.isUnresolved(service) || typeof service !== 'string' || !SERVICE_NAME_PATTERN.test(service)) {
    throw refuse(
      MeshErrorCode.INVALID_SERVICE_NAME,
      `service ${JSON.stringify(service)} is not a valid service name; use lower-case letters, digits and dashes, starting with a letter, at most 40 characters (e.g. "payments")`,
    );
  }
  const clash = mesh.functionOf(service);
  if (clash) {
    throw refuse(
      MeshErrorCode.DUPLICATE_SERVICE,
      `service "${service}" is already taken in mesh "${mesh.meshName}" by ${clash.node.path}; give each function its own service name`,
    );
  }
  const channelUser = mesh.functions.find((f) => f.sendsTo.includes(service) || f.receivesFrom.includes(service));
  if (channelUser) {
    throw refuse(
      MeshErrorCode.DUPLICATE_SERVICE,
      `service "${service}" is already the name of a channel of ${channelUser.node.path} in mesh "${mesh.meshName}", and a channel's allow items would admit its senders as callers of the service; give the service or the channel ({ channel: '<another name>' }) another name`,
    );
  }
  if (Object.hasOwn(RESERVED_SERVICES, service)) {
    throw refuse(
      MeshErrorCode.RESERVED_SERVICE_NAME,
      `service "${service}" is reserved: ${RESERVED_SERVICES[service]}; pick another service name`,
    );
  }
}

/** The function's name: a literal the policy items can name at synth, within Lambda's length. */
function checkFunctionName({ mesh, service, functionName: given }: MeshFunctionProps, refuse: Refuse): string {
  if (given !== undefined && Token.isUnresolved(given)) {
    throw refuse(
      MeshErrorCode.INVALID_FUNCTION_NAME,
      `functionName must be a literal string (the mesh names it in policy items at synth); omit it for "${mesh.meshName}-${service}"`,
    );
  }
  const functionName = given ?? `${mesh.meshName}-${service}`;
  if (functionName.length > LAMBDA_FUNCTION_NAME_MAX) {
    throw refuse(
      MeshErrorCode.INVALID_FUNCTION_NAME,
      `function name "${functionName}" has ${functionName.length} characters, over Lambda's ${LAMBDA_FUNCTION_NAME_MAX}; use a shorter service or mesh name, or pass a shorter functionName`,
    );
  }
  return functionName;
}

/**
 * The mesh functions of each app (its root construct), by where they deploy and their function name: a
 * name is found taken without walking the construct tree for every function (quadratic in a large app).
 */
const NAMED_FUNCTIONS = new WeakMap<IConstruct, Map<string, MeshFunction>>();

/** The key of a function name in NAMED_FUNCTIONS: its deploy target and the name. */
function nameKey(scope: IConstruct, functionName: string): string {
  return `${deployTarget(scope)}\u0000${functionName}`;
}

/** Claims `functionName` in its app for `fn`, once `fn` is built (checkFunctionNameFree found it free). */
function claimFunctionName(fn: MeshFunction, functionName: string): void {
  const root = fn.node.root;
  const named = NAMED_FUNCTIONS.get(root) ?? new Map<string, MeshFunction>();
  NAMED_FUNCTIONS.set(root, named);
  named.set(nameKey(fn, functionName), fn);
}

/**
 * A function name no other mesh function deploying to the same account and region has. Names are made
 * from two parts (`${meshName}-${service}`), so mesh "shop" with service "a-b" and mesh "shop-a" with
 * service "b" both make shop-a-b; nothing else would stop the second before CloudFormation's create
 * failed on a name Lambda already has.
 */
function checkFunctionNameFree(
  scope: Construct,
  { mesh, service }: MeshFunctionProps,
  functionName: string,
  refuse: Refuse,
): void {
  const clash = NAMED_FUNCTIONS.get(scope.node.root)?.get(nameKey(scope, functionName));
  if (!clash) return;
  const owner = (meshName: string, name: string) => `mesh "${meshName}", service "${name}"`;
  throw refuse(
    MeshErrorCode.DUPLICATE_FUNCTION_NAME,
    `function name "${functionName}" (${owner(mesh.meshName, service)}) is already the name of MeshFunction ${clash.node.path} (${owner(clash.mesh.meshName, clash.service)}) in the same account and region, where Lambda function names are unique; give one of them another service name, or pass a functionName of its own`,
  );
}

/** A pinned canary or a gated deployment, not both; a canary's weight and stable version as Lambda takes them. */
function checkTraffic(props: MeshFunctionProps, refuse: Refuse): void {
  if (props.canary && props.deployment) {
    throw refuse(
      MeshErrorCode.CANARY_WITH_DEPLOYMENT,
      'set canary or deployment, not both: canary pins live to stableVersion and a fixed weight, while deployment lets CodeDeploy move live to each new version on its schedule, and the two would fight over the alias. Drop canary for gated deploys without version numbers, or drop deployment to step a pinned split by hand',
    );
  }
  if (!props.canary) return;
  const { weight, stableVersion } = props.canary;
  if (!Token.isUnresolved(weight) && !(weight >= 0 && weight <= 1)) {
    throw refuse(
      MeshErrorCode.INVALID_CANARY,
      `canary.weight must be between 0 and 1, got ${weight}; e.g. 0.1 sends 10% of live to the new version`,
    );
  }
  if (!Token.isUnresolved(stableVersion) && !isPublishedVersion(stableVersion)) {
    throw refuse(
      MeshErrorCode.INVALID_CANARY,
      `canary.stableVersion must be a published version number such as "1", got ${JSON.stringify(stableVersion)} (never $LATEST)`,
    );
  }
}

/** Either an entry to bundle, or code with its handler. */
/**
 * The entry to bundle: the one given, or NodejsFunction's `<defining file>.<id>.ts` without one (a team
 * moving its NodejsFunctions to the mesh keeps their handler files where they are); none with `code`.
 */
function checkCode(id: string, props: MeshFunctionProps, refuse: Refuse): string | undefined {
  if (props.code !== undefined && props.handler === undefined) {
    throw refuse(MeshErrorCode.MISSING_PROP, 'with code, handler is required ("file.export")');
  }
  checkNodeModules(props, refuse);
  if (props.entry !== undefined || props.code !== undefined) return props.entry;
  const { entry, lookedFor } = conventionalEntry(id, MeshFunction.name);
  if (entry) return entry;
  const convention = lookedFor
    ? `, and there is no ${lookedFor} (nor .js, .mjs, .mts, .cts, .cjs) to take by NodejsFunction's convention`
    : '';
  throw refuse(
    MeshErrorCode.MISSING_PROP,
    `entry is required${convention}; pass the path of the handler file, e.g. entry: join(__dirname, '..', 'lambda', 'orders.ts')`,
  );
}

function checkNodeModules(props: MeshFunctionProps, refuse: Refuse): void {
  // An app that lists all its dependencies in nodeModules lists this package too. Installed beside the
  // bundle, it would take the function's code past Lambda's 250 MB (the CLI's and the local mesh's
  // dependencies come with it), and its runtime would shadow the layer's for the handler: a second
  // module that knows nothing of the invocation the layer's wrapper serves.
  if (props.bundling?.nodeModules?.includes(LAYER.moduleName)) {
    throw refuse(
      MeshErrorCode.INVALID_BUNDLING,
      `bundling.nodeModules names ${LAYER.moduleName}: the mesh layer brings ${LAYER.moduleName}/runtime to the function, and a copy installed beside the bundle would shadow it (with the package's CLI and local-mesh dependencies, over Lambda's 250 MB of code); leave it out of nodeModules`,
    );
  }
}

/** Refuses to bundle where the app's package manager cannot run esbuild (private/esbuild-runner.ts). */
function checkEsbuildRunner(scope: Construct, props: MeshFunctionProps, refuse: Refuse): void {
  // Code given, or a stack the CLI does not bundle (`cdk deploy OtherStack`): no esbuild runs.
  if (props.code !== undefined || !Stack.of(scope).bundlingRequired) return;
  const facts = esbuildRunnerFacts(props.depsLockFilePath, props.projectRoot);
  const problem = esbuildRunnerProblem({ ...facts, forceDocker: props.bundling?.forceDockerBundling });
  if (problem) throw refuse(MeshErrorCode.INVALID_BUNDLING, problem);
}

/** The user's handler as NodejsFunction bundles it: `index.<export>`, or as given when it names a file. */
function userHandler(props: MeshFunctionProps): string {
  const handler = props.handler ?? 'handler';
  return handler.includes('.') ? handler : `index.${handler}`;
}
