import {
  Aspects,
  type CfnElement,
  CustomResource,
  Duration,
  type IAspect,
  Lazy,
  RemovalPolicy,
  Stack,
  Stage,
  Tags,
  Token,
} from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct, type IConstruct } from 'constructs';
import {
  ASSETS,
  DEPLOYMENT,
  ENV,
  EXTERNAL,
  POLICY_RESOURCE_TYPE,
  POLICY_VERSION,
  SERVICE_NAME_PATTERN,
  SORT_KEY,
  TABLE,
  TAGS,
} from '../shared/names';
import type { PolicyItem, PolicySnapshot } from '../shared/policy';
import { POLICY_STREAM_FILTER } from '../shared/policy-stream-filter';
import {
  DEFAULT_METRIC_DIMENSIONS,
  isMetricDimensions,
  METRIC_DIMENSIONS,
  type MetricDimensions,
} from '../shared/telemetry/metric-dimensions';
import { MeshDashboard, type MeshDashboardOptions, type ServiceAlarms } from './mesh-dashboard';
import type { MeshFunction } from './mesh-function';
import { futurePath, MeshErrorCode, MeshValidationError } from './mesh-validation-error';
import { controlFunctionCode, meshLayerCode } from './private/asset-code';
import { besideFunction } from './private/beside-function';
import { deployTarget } from './private/deploy-target';
import { warnOfExternalTriggers } from './private/external-trigger';
import { attachMeshIdentity, type MeshIdentity, type MeshIdentityOptions } from './private/identity';
import { acknowledgeNag } from './private/nag-acknowledgement';
import { controlFunction, controlProvider } from './private/own-logs-role';
import { PolicyRegistry } from './private/policy-registry';
import { PreTrafficHook } from './private/pre-traffic-hook';
import { attachSnapshotLayer } from './private/snapshot-layer-attachment';
import { snapshotLayerCode } from './private/snapshot-layer-code';
import { newVersionBumperAlarms } from './private/version-bumper-alarms';

// The literal type is checked against shared/names.ts by the assignment; it keeps the public type self-contained.
/** The CloudFormation type of the resource that seeds the policy table (docs/wire-contract.md). */
export const MESH_POLICY_RESOURCE_TYPE: 'Custom::MeshPolicy' = POLICY_RESOURCE_TYPE;

/** A mesh: what functions and tools need to join it. */
export interface IMesh extends IConstruct {
  /** Name of the mesh: function-name prefix, SPIFFE trust domain, MESH_NAME. */
  readonly meshName: string;
  /** The policy table. */
  readonly table: dynamodb.ITable;
  /** The policy table's name, a literal (MESH_POLICY_TABLE). */
  readonly tableName: string;
  /** The mesh runtime layer (docs/wire-contract.md, "The layer"). */
  readonly layer: lambda.ILayerVersion;
}

/** `Mesh`'s identity settings: the identity options, and whether the mesh issues identities at all. */
export interface MeshIdentitySettings extends MeshIdentityOptions {
  /**
   * Whether the mesh has a CA and issues each service an identity. Off, calls carry no identity token
   * and callees check no caller identity: the policy table and IAM alone decide.
   * @default true
   */
  readonly enabled?: boolean;
}

/** Settings of a `Mesh` other than its name. */
export interface MeshOptions {
  /**
   * Name of the policy table.
   * @default `${meshName}-policy`
   */
  readonly tableName?: string;
  /**
   * What happens to the policy table when it leaves the stack.
   * @default RemovalPolicy.RETAIN — operators' run-time policy lives there
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long a function keeps policy items before revalidating them (MESH_POLICY_TTL_MS).
   * @default - the runtime's default, 5 seconds
   */
  readonly policyTtl?: Duration;
  /**
   * The mesh CA and service identities (certificate lifetime, CA rotation); `enabled: false` turns
   * identity off.
   * @default - on: 24 h certificates rotated at half life, CA rotated every 90 days
   */
  readonly identity?: MeshIdentitySettings;
  /**
   * Share open breakers between sandboxes: a function whose breaker for a target version opens writes
   * the target's `breaker#<version>` item, and every caller ejects that version. Breaker state lives in
   * a partition of its own (`breaker#<target>`); each function may PutItem only in its targets' breaker
   * partitions (`dynamodb:LeadingKeys`), never in their policy. A compromised caller can still mark a
   * target's versions open (eject them) until the item's open time runs out.
   * @default false — each sandbox ejects on its own failures
   */
  readonly sharedBreakers?: boolean;
  /**
   * The CloudWatch dimension sets of the mesh's EMF metrics (MESH_METRIC_DIMENSIONS), which each mesh
   * publishes in a namespace of its own, `LambdaMesh/<meshName>`. `standard`
   * publishes per edge (source, destination) and per callee version, and keeps the response code and the
   * version a caller reached in log properties (Logs Insights): a 50-service mesh stays under 1,000
   * custom metrics. `detailed` adds every (source, destination, version, response code, reporter)
   * combination, several times the metrics and the bill (docs/observability.md). The dashboard and
   * alarms read the standard sets, which both settings publish.
   * @default 'standard'
   */
  readonly metricDimensions?: MetricDimensions;
  /**
   * The CloudWatch dashboard and the per-service alarms (`mesh.dashboard`, `mesh.alarmsFor(service)`).
   * @default - `${meshName}-mesh`, alarms below 99% success or above 1 s p99 for 3 minutes
   */
  readonly dashboard?: MeshDashboardOptions;
}

/**
 * The alarms of the policy version bumper, the function that makes changes written outside the CLI and
 * the deploy (the console, scripts, IaC) reach the sandboxes (docs/safety.md).
 */
export interface VersionBumperAlarms {
  /** Fires on any error of the bumper in 5 minutes: the changes of the failed batch are not seen until a retry goes through. */
  readonly failed: cloudwatch.Alarm;
  /** Fires when the stream records it takes are more than 30 s old, two minutes in a row: changes reach sandboxes that late. */
  readonly lag: cloudwatch.Alarm;
}

/** Props of a `Mesh`. */
export interface MeshProps extends MeshOptions {
  /**
   * Name of the mesh: lower-case letters, digits and dashes, starting with a letter, at most 40
   * characters. Prefixes every function name (`${meshName}-${service}`).
   */
  readonly meshName: string;
}

/**
 * A service mesh for Lambda functions: the policy table, the mesh layer, the deploy-time policy
 * (seeded into the table by `Custom::MeshPolicy` and shipped to every function as a snapshot at
 * LAYER.snapshotPath) and the list of its functions.
 *
 * Extension points: `functions` / `services` (what joined so far), `onFunction(hook)` (runs for every
 * function, present and future), `addPolicyItem(item)`, `table`, `layer`, `policy`, `dashboard`,
 * `alarmsFor(service)` and `versionBumperAlarms`.
 */
export class Mesh extends Construct implements IMesh {
  /** Name of the mesh: function-name prefix, SPIFFE trust domain, MESH_NAME. */
  public readonly meshName: string;
  /** The policy table (partition key `pk` = service, sort key `sk` = kind of item). */
  public readonly table: dynamodb.Table;
  /** The policy table's name, a literal (MESH_POLICY_TABLE). */
  public readonly tableName: string;
  /** The mesh runtime layer, prebuilt in the package; every `MeshFunction` of this mesh gets it. */
  public readonly layer: lambda.LayerVersion;
  /** The function that writes the deploy-time items into the table. */
  public readonly seeder: lambda.Function;
  /** The function the table's stream triggers to bump the policy version for any writer's change. */
  public readonly versionBumper: lambda.Function;
  /** The version bumper's alarms: it failed, or it lags behind the table's stream (a deny waits on both). */
  public readonly versionBumperAlarms: VersionBumperAlarms;
  /** The `Custom::MeshPolicy` resource (properties TableName and Items). */
  public readonly policy: CustomResource;
  /** Policy TTL in ms handed to every function, if set. */
  public readonly policyTtlMs?: number;
  /** Whether functions write shared breaker items (see `MeshOptions.sharedBreakers`). */
  public readonly sharedBreakers: boolean;
  /** The dimension sets of the mesh's metrics (see `MeshOptions.metricDimensions`). */
  public readonly metricDimensions: MetricDimensions;
  /** The mesh CA, issuer and identity secrets (undefined when identity is off). */
  public readonly identity?: MeshIdentity;
  /** The CloudWatch dashboard of the mesh's golden metrics (every function and edge, found at synth). */
  public readonly dashboard: MeshDashboard;

  private readonly registry: PolicyRegistry;
  private readonly members: MeshFunction[] = [];
  private readonly hooks: Array<(fn: MeshFunction) => void> = [];
  private snapshotLayerVersion?: lambda.LayerVersion;
  private deploymentApplication?: codedeploy.LambdaApplication;
  /** The pre-traffic hook of each stack with gated functions (the mesh's own, or a nested stack's). */
  private readonly preTraffic = new Map<Stack, PreTrafficHook>();

  constructor(scope: Construct, id: string, props: MeshProps) {
    const where = `Mesh ${futurePath(scope, id)}`;
    checkMeshName(futurePath(scope, id), props.meshName);
    checkMeshNameFree(scope, futurePath(scope, id), props.meshName);
    if (props.metricDimensions !== undefined && !isMetricDimensions(props.metricDimensions)) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_METRIC_DIMENSIONS,
        `${where}: metricDimensions must be one of ${METRIC_DIMENSIONS.map((d) => `'${d}'`).join(', ')}, got ${JSON.stringify(props.metricDimensions)}`,
        futurePath(scope, id),
      );
    }
    super(scope, id);
    this.meshName = props.meshName;
    this.registry = new PolicyRegistry(this, where);
    this.tableName = props.tableName ?? `${props.meshName}-policy`;
    if (props.policyTtl) this.policyTtlMs = props.policyTtl.toMilliseconds();
    this.sharedBreakers = props.sharedBreakers ?? false;
    this.metricDimensions = props.metricDimensions ?? DEFAULT_METRIC_DIMENSIONS;

    this.table = new dynamodb.Table(this, 'PolicyTable', {
      tableName: this.tableName,
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // The new image lets the version bumper (newVersionBumper) leave out the writes a bump already
      // announced (the CLI's and the seeder's), which it tells by their values.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });

    this.layer = new lambda.LayerVersion(this, 'RuntimeLayer', {
      // A name that says "mesh", so `mesh check` recognises the layer from its ARN alone.
      layerVersionName: `${props.meshName}-mesh-runtime`,
      code: meshLayerCode(),
      description: `Lambda Mesh runtime for mesh ${props.meshName}`,
    });

    ({ seeder: this.seeder, policy: this.policy } = this.newPolicySeeding());
    this.versionBumper = this.newVersionBumper();
    this.versionBumperAlarms = newVersionBumperAlarms(this, this.versionBumper, this.meshName);

    Tags.of(this).add(TAGS.mesh, this.meshName);
    Aspects.of(this).add(new SnapshotAspect(this));
    this.dashboard = new MeshDashboard(this, 'Dashboard', { ...props.dashboard, meshName: this.meshName, mesh: this });
    // Identity: CA secret, issuer/rotation and each function's identity secret (infra/private/identity.ts).
    if (props.identity?.enabled !== false) this.identity = attachMeshIdentity(this, props.identity);
    this.acknowledgeNagFindings();
    this.node.addValidation({ validate: () => [...this.checkItemOwners(), ...this.checkAllowSources()] });
    this.node.addValidation({ validate: () => this.warnOfExternalTriggers() });
  }

  /**
   * Warns on each function that admits no caller from outside the mesh and yet has a trigger from
   * outside (private/external-trigger.ts): its events would all be refused. Checked at synth, once
   * every trigger and every `allowExternal` is declared. A warning: it returns no error.
   */
  private warnOfExternalTriggers(): string[] {
    const external = new Set(
      this.policyItems()
        .filter((i) => i.sk === SORT_KEY.allow(EXTERNAL))
        .map((i) => i.pk),
    );
    warnOfExternalTriggers(
      this.node.root,
      this.members.filter((f) => !external.has(f.service)),
    );
    return [];
  }

  /**
   * Every deploy-time item belongs to a service or a channel of this mesh: an item for a name nothing
   * reads (a typo in `addPolicyItem`) would ship and never take effect. Checked at synth, when every
   * function and channel has joined.
   */
  private checkItemOwners(): string[] {
    const services = this.services;
    const channels = [...new Set(this.members.flatMap((f) => f.sendsTo))];
    const known = new Set([...services, ...channels]);
    const list = (names: readonly string[]) => (names.length ? names.join(', ') : 'none');
    return [...new Set(this.policyItems().map((i) => i.pk))]
      .filter((pk) => !known.has(pk))
      .map(
        (pk) =>
          `Mesh ${this.node.path}: the policy items of "${pk}" belong to no service or channel of mesh "${this.meshName}" ` +
          `(services: ${list(services)}; channels: ${list(channels)}); fix the pk in addPolicyItem, or add a MeshFunction with service "${pk}"`,
      );
  }

  /**
   * Every deploy-time allow item admits a service of this mesh, callers outside it (`external`) or the
   * pre-traffic check. An identity is a name: an item for a name no function holds would let in a
   * certificate a removed service left behind (valid until it expires), and any later service that
   * takes the name. Checked at synth, when every function has joined.
   */
  private checkAllowSources(): string[] {
    const known = new Set([...this.services, EXTERNAL, DEPLOYMENT.checkSource]);
    const services = this.services.length ? this.services.join(', ') : 'none';
    return this.policyItems()
      .filter((i) => i.sk.startsWith(SORT_KEY.allow('')) && !known.has(i.sk.slice(SORT_KEY.allow('').length)))
      .map((i) => {
        const source = i.sk.slice(SORT_KEY.allow('').length);
        return (
          `Mesh ${this.node.path}: the policy item ${i.pk}/${i.sk} admits "${source}", which is no service of mesh "${this.meshName}" ` +
          `(services: ${services}): a certificate a removed service of that name left behind would be let in, and so would ` +
          `any later service that takes the name; remove the item, or add a MeshFunction with service "${source}"`
        );
      });
  }

  /**
   * The seeder function and the `Custom::MeshPolicy` resource that runs it: the deploy-time items go
   * into the table at deploy (docs/wire-contract.md). Items are rendered at synth, after every edge
   * has been declared.
   */
  private newPolicySeeding(): { seeder: lambda.Function; policy: CustomResource } {
    const seeder = controlFunction(this, 'PolicySeeder', {
      code: controlFunctionCode(ASSETS.policySeeder),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      timeout: Duration.minutes(5),
      description: `Seeds the deploy-time policy of mesh ${this.meshName} into ${this.tableName}`,
    });
    // UpdateItem: the seeder bumps the policy version after its writes (shared/policy-version.ts).
    this.table.grant(seeder, 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    const provider = controlProvider(this, 'PolicyProvider', seeder);
    const policy = new CustomResource(this, 'Policy', {
      serviceToken: provider.serviceToken,
      resourceType: MESH_POLICY_RESOURCE_TYPE,
      properties: {
        TableName: this.tableName,
        Items: Lazy.string({ produce: () => JSON.stringify(this.registry.list()) }),
      },
    });
    // TableName is a literal (the local mesh and tools read it as is), so order the table explicitly.
    policy.node.addDependency(this.table);
    return { seeder, policy };
  }

  /**
   * The function the table's stream triggers: it bumps the policy version for the services any writer
   * changed (the console, scripts, IaC, other tools), so their caches see the change within one stream
   * delay plus TTL + 1 s (docs/safety.md). It may update the version items and nothing else, and read
   * items (the changed ones, whose values it carries in the version).
   */
  private newVersionBumper(): lambda.Function {
    const fn = controlFunction(this, 'PolicyVersionBumper', {
      code: controlFunctionCode(ASSETS.policyStream),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      timeout: Duration.seconds(30),
      environment: { [ENV.policyTable]: this.tableName },
      description: `Bumps the policy version of mesh ${this.meshName} when any writer changes ${this.tableName}`,
    });
    fn.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        // A bump repeated is harmless; a bump lost would hide a deny: retry until it goes through.
        retryAttempts: -1,
        // Policy items only: not invoked for its own version writes nor for breaker state.
        filters: [lambda.FilterCriteria.filter(POLICY_STREAM_FILTER as unknown as Record<string, unknown>)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${POLICY_VERSION.partitionPrefix}*`] },
        },
      }),
    );
    // It reads the version and the changed items, whatever service they belong to: a bump carries their values.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }));
    acknowledgeNag(
      fn,
      'AwsSolutions-IAM5[Resource::*]',
      'The stream event source needs dynamodb:ListStreams, which supports no resource-level permissions; reads of the stream itself are granted on its ARN',
    );
    acknowledgeNag(
      fn,
      'AwsSolutions-L1',
      'The version bumper runs on nodejs22.x, the runtime the mesh is built and tested for',
    );
    return fn;
  }

  /** cdk-nag (AwsSolutions) findings on the seeder and its provider, each with its reason. */
  private acknowledgeNagFindings(): void {
    acknowledgeNag(
      this,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.seeder.node.defaultChild as CfnElement)}.Arn>:*]`,
      'The custom-resource provider framework invokes the seeder function; ":*" only adds its versions and aliases',
    );
    acknowledgeNag(
      this.seeder,
      'AwsSolutions-L1',
      'The seeder runs once per deploy on nodejs22.x, the runtime the mesh is built and tested for',
    );
  }

  /**
   * The alarms of `service`'s `live` alias (success rate and p99 latency), for canary tooling and
   * alarm actions. Idempotent: the same alarms for the same service.
   */
  public alarmsFor(service: string): ServiceAlarms {
    return this.dashboard.alarmsFor(service);
  }

  /**
   * @internal The CodeDeploy application of the mesh's gated deployments, made on first use and named
   * after the mesh (shared/names.ts DEPLOYMENT), so tools find a service's deployments by name.
   */
  public _deploymentApplication(): codedeploy.ILambdaApplication {
    this.deploymentApplication ??= new codedeploy.LambdaApplication(this, 'Deployments', {
      applicationName: DEPLOYMENT.applicationName(this.meshName),
    });
    return this.deploymentApplication;
  }

  /**
   * @internal The mesh's pre-traffic hook (one for all its gated functions of `fn`'s stack, made on first use), now also
   * checking `fn`'s new versions: with `request` when one is declared, else with a ping.
   */
  public _preTrafficHook(
    fn: MeshFunction,
    functionName: string,
    request: unknown,
    group: codedeploy.ILambdaDeploymentGroup,
  ): lambda.IFunction {
    const stack = Stack.of(fn);
    const hook =
      this.preTraffic.get(stack) ?? new PreTrafficHook(besideFunction(this, fn), 'PreTrafficHook', this, this.identity);
    this.preTraffic.set(stack, hook);
    hook.add(fn, functionName, request, group);
    return hook.function;
  }

  /** The functions that joined this mesh, in construction order. */
  public get functions(): readonly MeshFunction[] {
    return [...this.members];
  }

  /** Service names of the functions that joined this mesh. */
  public get services(): readonly string[] {
    return this.members.map((f) => f.service);
  }

  /** The function of `service` in this mesh, if any. */
  public functionOf(service: string): MeshFunction | undefined {
    return this.members.find((f) => f.service === service);
  }

  /**
   * Runs `hook` for every function of the mesh: those that joined already, now, and each later one
   * when it joins (e.g. to give it an identity secret or a dashboard row).
   */
  public onFunction(hook: (fn: MeshFunction) => void): void {
    this.hooks.push(hook);
    for (const fn of this.members) hook(fn);
  }

  /**
   * Declares one deploy-time policy item (managedBy "deploy" is set here). Validated at once with
   * shared/policy.ts; re-declaring the same item is a no-op, a conflicting one is an error.
   */
  public addPolicyItem(item: Record<string, unknown>): PolicyItem {
    return this.registry.add(item);
  }

  /** Every deploy-time item, sorted by pk and sk: what Custom::MeshPolicy writes and the snapshot holds. */
  public policyItems(): PolicyItem[] {
    return this.registry.list();
  }

  /** The deploy-time snapshot as it stands now (the layer is built from it at synth). */
  public snapshot(): PolicySnapshot {
    return this.registry.snapshot(this.meshName);
  }

  /** The layer that ships the snapshot at LAYER.snapshotPath; exists once synthesis has started. */
  public get snapshotLayer(): lambda.ILayerVersion | undefined {
    return this.snapshotLayerVersion;
  }

  /**
   * @internal Called by MeshFunction when it joins, once its props passed the checks (which refuse a
   * service name already taken, before the function exists).
   */
  public _register(fn: MeshFunction): void {
    if (!this.members.includes(fn)) this.members.push(fn);
    if (this.snapshotLayerVersion) attachSnapshotLayer(fn, this.snapshotLayerVersion);
    for (const hook of this.hooks) hook(fn);
  }

  /**
   * @internal Builds the snapshot layer from the final policy and attaches it to every function.
   * Runs once, late (from an Aspect during synthesis), so edges declared after the functions were
   * constructed are in it.
   */
  public _attachSnapshot(): void {
    if (this.snapshotLayerVersion) return;
    this.snapshotLayerVersion = new lambda.LayerVersion(this, 'SnapshotLayer', {
      code: snapshotLayerCode(this.snapshot()),
      description: `Lambda Mesh deploy-time policy snapshot of mesh ${this.meshName}`,
    });
    for (const fn of this.members) attachSnapshotLayer(fn, this.snapshotLayerVersion);
  }
}

/** A mesh name is a literal service-style name: it names functions, secrets and table keys at synth. */
function checkMeshName(path: string, meshName: string): void {
  const where = `Mesh ${path}`;
  if (Token.isUnresolved(meshName)) {
    throw new MeshValidationError(
      MeshErrorCode.INVALID_MESH_NAME,
      `${where}: meshName must be a literal string (it names functions and table keys at synth)`,
      path,
    );
  }
  if (!SERVICE_NAME_PATTERN.test(meshName)) {
    throw new MeshValidationError(
      MeshErrorCode.INVALID_MESH_NAME,
      `${where}: meshName ${JSON.stringify(meshName)} is not valid; use lower-case letters, digits and dashes, starting with a letter, at most 40 characters (e.g. "shop")`,
      path,
    );
  }
}

/**
 * A mesh name is free in its stage, account and region: it names the table, the layers, the dashboard,
 * the identity secrets and every function, so a second mesh of that name could not deploy beside the
 * first.
 */
function checkMeshNameFree(scope: Construct, path: string, meshName: string): void {
  const here = deployTarget(scope);
  const clash = scope.node.root.node
    .findAll()
    .find((c): c is Mesh => c instanceof Mesh && c.meshName === meshName && deployTarget(c) === here);
  if (clash) {
    throw new MeshValidationError(
      MeshErrorCode.DUPLICATE_MESH,
      `Mesh ${path}: meshName "${meshName}" is already used by Mesh ${clash.node.path} in the same account and region, ` +
        `and the name makes the policy table, the layer, the dashboard, the identity secrets and every function name, ` +
        `so the two would collide at deploy; give this mesh another meshName, or ${shareMesh(scope, clash)}`,
      path,
    );
  }
}

/**
 * How the functions of a second mesh of one name can join the first instead. From another stack they
 * cannot take it as their mesh (MeshFunction refuses a mesh in another stack), so the fix names the
 * stack they move to; from another stage (a dev and a prod aimed at one account and region) they should
 * not, so the fix is to aim the stages apart.
 */
function shareMesh(scope: Construct, existing: Mesh): string {
  const stack = Stack.of(existing);
  if (Stack.of(scope) === stack) return `pass ${existing.node.path} to its MeshFunctions`;
  const [here, there] = [Stage.of(scope), Stage.of(existing)];
  if (here !== there) return `deploy ${stageName(here)} and ${stageName(there)} to different accounts or regions`;
  return `declare its MeshFunctions in stack ${stack.node.path} with ${existing.node.path} (a mesh and its functions deploy in one stack)`;
}

/** A stage as a fix names it; the app itself is a stage, with no path. */
function stageName(stage: Stage | undefined): string {
  const path = stage?.node.path;
  return path ? `stage ${path}` : "the app's top-level stacks";
}

/**
 * Builds the snapshot layer when synthesis visits the mesh: by then every edge is declared. A mesh with
 * functions in nested stacks renders its dashboard then too, before the templates are prepared: a nested
 * stack's template is hashed then, and references into it become its outputs then. A mesh in one stack
 * renders it at validation, as it always has (its alarms then stay out of the mesh's tags).
 */
class SnapshotAspect implements IAspect {
  constructor(private readonly mesh: Mesh) {}
  public visit(node: IConstruct): void {
    if (node !== this.mesh) return;
    this.mesh._attachSnapshot();
    const here = Stack.of(this.mesh);
    if (this.mesh.functions.some((f) => Stack.of(f) !== here)) this.mesh.dashboard._render();
  }
}
