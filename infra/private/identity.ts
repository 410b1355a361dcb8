import {
  ArnFormat,
  Aws,
  type CfnElement,
  CustomResource,
  Duration,
  Fn,
  Lazy,
  RemovalPolicy,
  SecretValue,
  Stack,
  Tags,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ASSETS, ENV, IDENTITY, spiffeId, TAGS } from '../../shared/names';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';
import { controlFunctionCode } from './asset-code';
import { besideFunction } from './beside-function';
import { acknowledgeNag } from './nag-acknowledgement';
import { nagArn } from './nag-arn';
import { controlFunction, controlProvider } from './own-logs-role';

/**
 * How long a mesh CA certificate is valid: the issuer's `CA_LIFETIME_MS` (functions/control/ca-issuer.ts,
 * which infra may not import; test/infra/identity-bootstrap.test.ts holds the two together).
 */
export const CA_LIFETIME_DAYS = 365;

/** One service's identity: its secret, the resource that issues it, and the functions that hold it. */
interface ServiceIdentity {
  readonly secret: secretsmanager.Secret;
  readonly issued: CustomResource;
  readonly holders: Set<IdentityMember>;
  /** The holders' roles, which the secret's resource policy lets read it. */
  readonly readers: iam.IRole[];
}

/** Options of the mesh identity (CA, issuer, rotation). */
export interface MeshIdentityOptions {
  /**
   * Lifetime of a service certificate; the identity secret rotates at half of it.
   * @default Duration.hours(24)
   */
  readonly certificateLifetime?: Duration;
  /**
   * How often the mesh CA itself rotates (the previous CA stays trusted). At least three certificate
   * lifetimes and a day (4 days with 24 h certificates): a rotation drops the CA before the previous one;
   * at most 181 days with 24 h certificates: a CA (valid 365 days) stays trusted for two rotations.
   * @default Duration.days(90)
   */
  readonly caRotation?: Duration;
  /**
   * ARN of the role CloudFormation deploys the stack with. Besides the issuer, it is the only principal
   * the secrets' resource policies let write, rotate, relabel, tag, delete or re-police them.
   * @default - the stack synthesizer's CloudFormation execution role (the CDK bootstrap's
   * `cdk-<qualifier>-cfn-exec-role-<account>-<region>`); required when the synthesizer has none
   */
  readonly deploymentRoleArn?: string;
  /**
   * Regions where this mesh is deployed too (a stack per region, same mesh name and account) whose
   * functions may fail over into this region. A function there signs such a call with its own
   * service's identity in this region, so each identity secret here also lets a role of the same
   * mesh and service (its `lambda-mesh:mesh` and `lambda-mesh:service` tags) read it. No CA is
   * trusted across regions (docs/rate-limits.md, "Identity across regions").
   * @default - none: only this region's function reads its identity
   */
  readonly peerRegions?: readonly string[];
}

export interface MeshIdentityProps extends MeshIdentityOptions {
  /** The mesh name: the SPIFFE trust domain and the secrets' name prefix. */
  readonly meshName: string;
}

/** A function that gets an identity: its version and `live` alias wait for the identity to be issued. */
export type IdentityMember = lambda.Function & {
  readonly version?: lambda.IVersion;
  readonly liveAlias?: lambda.IAlias;
};

/**
 * Every Secrets Manager action on a secret at the Write, Tagging or Permissions management access level
 * (a secret's value, versions, labels, rotation, deletion, replicas, tags or resource policy): denied on
 * the mesh's secrets to every principal but the issuer and the deployment role.
 */
export const SECRET_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:ValidateResourcePolicy',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
] as const;

/**
 * Room for MESH_IDENTITY_SERVICES in the issuer's environment: Lambda allows 4 KB for all variables,
 * and the other four (mesh name, CA secret ARN, lifetime) take under 300 bytes.
 */
const SERVICE_LIST_MAX_BYTES = 3_500;

/**
 * The issuer's invoke permissions for Secrets Manager. A rotation schedule depends on its permission:
 * Secrets Manager invokes the function when the schedule is set, and CloudFormation creates resources
 * without a dependency at the same time, so a schedule could be set first and fail ("Secrets Manager
 * cannot invoke the specified Lambda function").
 */
const ROTATES_CA = 'SecretsManagerRotatesCa';
const ROTATES_IDENTITIES = 'SecretsManagerRotatesIdentities';

/**
 * The mesh CA and service identities (internal to `Mesh`):
 * - the CA secret, whose private key only the issuer function can read;
 * - the issuer: one function (functions/control/issuer.ts) that issues at deploy (custom resources
 *   through the Provider framework, which CloudFormation waits for) and rotates on schedule. It issues
 *   only what the deployment declared: the CA secret and `<mesh>/identity/<service>` for the services in
 *   MESH_IDENTITY_SERVICES, whatever a secret's value says;
 * - per service (`addService`): an identity secret readable only by that function's role and the
 *   issuer, issued by `Custom::MeshIdentity` before the function's version and `live` alias exist, then
 *   rotated at half life.
 * Every secret's resource policy denies reads to all but its readers, and every change to all but the
 * issuer and the deployment role (docs/identity.md says what that protects against).
 */
export class MeshIdentity extends Construct {
  readonly caSecret: secretsmanager.Secret;
  readonly issuer: lambda.Function;
  /** `Custom::MeshCertificateAuthority`: issues the CA at deploy; every identity resource depends on it. */
  readonly caIssued: CustomResource;
  readonly caRotation: secretsmanager.CfnRotationSchedule;
  /** In alarm when the issuer failed (a rotation or a deploy-time issuance); the current identities stay valid. */
  readonly issuerFailedAlarm: cloudwatch.Alarm;
  private readonly meshName: string;
  private readonly leafHours: number;
  private readonly deploymentRoleArn: string;
  private readonly peerRegions: readonly string[];
  private readonly provider: cr.Provider;
  private readonly services = new Map<string, ServiceIdentity>();

  constructor(scope: Construct, id: string, props: MeshIdentityProps) {
    super(scope, id);
    this.meshName = props.meshName;
    const lifetime = props.certificateLifetime ?? Duration.hours(24);
    this.leafHours = lifetime.toHours();
    if (this.leafHours < 8) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_IDENTITY_OPTION,
        `${this.node.path}: certificateLifetime must be at least 8 hours (Secrets Manager rotates at most every 4 hours, at half life), got ${this.leafHours} h`,
        this,
      );
    }
    const caDays = this.caRotationDays(props.caRotation ?? Duration.days(90));
    this.deploymentRoleArn = props.deploymentRoleArn ?? defaultDeploymentRole(this);
    this.peerRegions = props.peerRegions ?? [];

    this.caSecret = new secretsmanager.Secret(this, 'CaSecret', {
      secretName: IDENTITY.caSecretName(props.meshName),
      description: `Mesh CA of ${props.meshName} (certificate and private key); read only by the issuer`,
      // Nothing secret: the CA resource below issues the CA at deploy.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ kind: 'ca', mesh: props.meshName })),
      // Delete: CloudFormation then deletes without a recovery window, so a redeploy can reuse the name.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.issuer = this.newIssuer(props.meshName);
    this.node.addValidation({ validate: () => this.checkServiceList() });
    this.grantIssuer(props.meshName);

    // Deploy-time issuance: CloudFormation waits for these resources, so it is done before anything
    // that depends on them (the functions' versions and aliases) exists.
    this.provider = controlProvider(this, 'IssuerProvider', this.issuer);
    this.caIssued = new CustomResource(this, 'CaIssued', {
      serviceToken: this.provider.serviceToken,
      resourceType: IDENTITY.resourceType.ca,
      properties: { SecretId: this.caSecret.secretArn },
    });

    this.caRotation = new secretsmanager.CfnRotationSchedule(this, 'CaRotation', {
      secretId: this.caSecret.secretArn,
      rotationLambdaArn: this.issuer.functionArn,
      rotationRules: { scheduleExpression: `rate(${caDays} days)` },
      // The CA resource issued it; the schedule only takes over (RotateSecret is asynchronous: nothing
      // at deploy may wait on a rotation).
      rotateImmediatelyOnUpdate: false,
    });
    this.caRotation.node.addDependency(this.caIssued, this.issuer.node.findChild(ROTATES_CA));

    this.issuerFailedAlarm = this.newIssuerFailedAlarm(props.meshName);
    this.acknowledgeNagFindings(props.meshName);
  }

  /**
   * The CA's rotation period in whole days, held between two bounds. At least: a CA rotation drops the
   * CA before the previous one, which signs until the previous rotation is two certificate lifetimes
   * old, and whose certificates stay valid one lifetime more; Secrets Manager rotates anywhere in the
   * scheduled UTC day ("Duration", RotationRulesType, Secrets Manager API Reference), so two rotations
   * of rate(N days) may be N - 1 days apart. Shorter, it would drop a CA whose certificates are in use
   * (the issuer refuses such a rotation, and its alarm fires at every attempt). At most: a CA stays
   * trusted until the rotation after next (a day late at worst) and the bundles that hold it are a
   * certificate lifetime or two old; longer, it would expire while trusted, and TLS (mTLS targets)
   * refuses a chain whose CA has expired.
   */
  private caRotationDays(period: Duration): number {
    const days = Math.max(1, Math.round(period.toDays()));
    const least = 1 + Math.ceil((3 * this.leafHours) / 24);
    const most = Math.floor((CA_LIFETIME_DAYS - 1 - (2 * this.leafHours) / 24) / 2);
    if (days < least || days > most) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_IDENTITY_OPTION,
        `${this.node.path}: caRotation must be between ${least} and ${most} days with a certificateLifetime of ${this.leafHours} h ` +
          `(a CA rotation drops a CA whose certificates stay in use three lifetimes after the rotation before, ` +
          `and Secrets Manager may rotate anywhere in the scheduled day; a CA is valid ${CA_LIFETIME_DAYS} days and ` +
          `stays trusted two rotations), got ${days} days`,
        this,
      );
    }
    return days;
  }

  /** The issuer: deploy-time issuance and rotation of the CA and of every identity, one function. */
  private newIssuer(meshName: string): lambda.Function {
    return controlFunction(this, 'Issuer', {
      code: controlFunctionCode(ASSETS.issuer),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      description: `Issues and rotates the ${meshName} mesh CA and service certificates`,
      environment: {
        [IDENTITY.env.trustDomain]: meshName,
        [IDENTITY.env.caSecret]: this.caSecret.secretArn,
        [IDENTITY.env.leafLifetimeHours]: String(this.leafHours),
        // The declared services, rendered at synth: the issuer issues no other identity.
        [IDENTITY.env.services]: Lazy.string({ produce: () => [...this.services.keys()].sort().join(',') }),
      },
    });
  }

  /**
   * Secrets Manager may invoke the issuer only to rotate this mesh's secrets; the issuer may read and
   * write the CA secret (nobody else may read it) and the identity secrets, by name prefix.
   */
  private grantIssuer(meshName: string): void {
    // Secrets Manager may invoke the issuer only to rotate this mesh's CA and identity secrets.
    this.issuer.addPermission(ROTATES_CA, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: this.caSecret.secretArn,
    });
    this.issuer.addPermission(ROTATES_IDENTITIES, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: identitySecretArnPattern(this, meshName),
    });

    // The issuer reads, writes and relabels the CA secret; nobody else may read it.
    this.issuer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ISSUER_ACTIONS, resources: [this.caSecret.secretArn] }),
    );
    this.protect(this.caSecret, [this.issuer.role!.roleArn]);
    // Identity secrets by name prefix: one statement for any number of services.
    this.issuer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ISSUER_ACTIONS, resources: [identitySecretArnPattern(this, meshName)] }),
    );
  }

  private newIssuerFailedAlarm(meshName: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, 'IssuerFailed', {
      alarmDescription: `The ${meshName} mesh issuer failed (a rotation or a deploy-time issuance); current identities stay valid until their certificates expire. See the issuer's log: each failure is one line naming the secret and the step.`,
      metric: this.issuer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** cdk-nag (AwsSolutions) findings on the issuer, each with its reason. */
  private acknowledgeNagFindings(meshName: string): void {
    acknowledgeNag(
      this.issuer.role!,
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', `secret:${meshName}/identity/*`)}]`,
      'The issuer rotates every identity secret of this mesh; one name-prefix grant keeps its policy from growing per service (IAM 10,240-character cap). It writes only the services the deployment declared, and each identity secret denies reads to all but its function and the issuer.',
    );
    acknowledgeNag(
      this.provider,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.issuer.node.defaultChild as CfnElement)}.Arn>:*]`,
      'The custom-resource provider framework invokes the issuer at deploy; ":*" only adds the issuer\'s versions and aliases',
    );
  }

  /**
   * The identity secret of one service: created with a placeholder, issued at deploy by its
   * `Custom::MeshIdentity` (after the CA's), which the function's version and `live` alias wait for,
   * and rotated at half the certificate lifetime; readable by the function's role and the issuer only.
   * Sets MESH_IDENTITY_SECRET. The three resources go beside `home` (the function itself unless given;
   * see private/beside-function.ts). Again for the same service, `fn` holds that identity too (the
   * pre-traffic hook of each stack holds `mesh-deploy-check`'s): the same secret, one more reader.
   */
  addService(service: string, fn: IdentityMember, home: Construct = fn): secretsmanager.Secret {
    const held = this.services.get(service) ?? this.newServiceIdentity(service, besideFunction(this, home), fn);
    if (held.holders.has(fn)) return held.secret;
    held.holders.add(fn);
    // No traffic before the identity exists: the version and the alias callers reach wait for it.
    if (fn.version) fn.version.node.addDependency(held.issued);
    if (fn.liveAlias) fn.liveAlias.node.addDependency(held.issued);
    // GetSecretValue only: the runtime reads its identity with nothing else (grantRead adds DescribeSecret).
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [held.secret.secretArn],
    });
    if (fn.role) held.readers.push(fn.role);
    fn.addEnvironment(ENV.identitySecret, held.secret.secretArn);
    return held.secret;
  }

  /** `service`'s secret, the resource that issues it and its rotation, in `scope`; its first holder is `fn`. */
  private newServiceIdentity(service: string, scope: Construct, fn: IdentityMember): ServiceIdentity {
    const secret = new secretsmanager.Secret(scope, `Identity-${service}`, {
      secretName: IDENTITY.secretName(this.meshName, service),
      description: `Mesh identity of ${spiffeId(this.meshName, service)} (certificate chain and key)`,
      // Nothing secret: Custom::MeshIdentity issues the identity at deploy.
      secretStringValue: SecretValue.unsafePlainText(
        JSON.stringify({ kind: 'identity', spiffeId: spiffeId(this.meshName, service) }),
      ),
      // Delete: CloudFormation then deletes without a recovery window, so a redeploy (or a service that
      // comes back) can reuse the name.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const issued = new CustomResource(scope, `Issued-${service}`, {
      serviceToken: this.provider.serviceToken,
      resourceType: IDENTITY.resourceType.identity,
      properties: { SecretId: secret.secretArn, Service: service },
    });
    issued.node.addDependency(this.caIssued);
    const rotation = new secretsmanager.CfnRotationSchedule(scope, `Rotation-${service}`, {
      secretId: secret.secretArn,
      rotationLambdaArn: this.issuer.functionArn,
      // Rotate at half life, so a certificate is always at least half its lifetime from expiry.
      rotationRules: { scheduleExpression: `rate(${Math.max(4, Math.floor(this.leafHours / 2))} hours)` },
      rotateImmediatelyOnUpdate: false,
    });
    rotation.node.addDependency(issued, this.issuer.node.findChild(ROTATES_IDENTITIES));
    const held: ServiceIdentity = { secret, issued, holders: new Set(), readers: [] };
    // The readers are rendered at synth: every holder's role, then the issuer's.
    const readers = Lazy.list({ produce: () => [...held.readers, this.issuer.role!].map((r) => r.roleArn) });
    if (fn.role) this.protect(secret, readers, this.peerRegions.length > 0 ? service : undefined);
    Tags.of(secret).add(TAGS.mesh, this.meshName);
    Tags.of(secret).add(TAGS.service, service);
    this.services.set(service, held);
    return held;
  }

  /** The resource that issues `service`'s identity at deploy (what its version and alias depend on). */
  issuedResource(service: string): CustomResource | undefined {
    return this.services.get(service)?.issued;
  }

  /**
   * The secret's resource policy: reads denied to all but `readers`; every change (SECRET_WRITE_ACTIONS)
   * denied to all but the issuer and the deployment role, whatever their identity policies allow.
   */
  private protect(secret: secretsmanager.Secret, readers: string[], peerService?: string): void {
    const notReader = { 'aws:PrincipalArn': readers };
    if (peerService === undefined) {
      secret.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyOwnerReads',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['*'],
          conditions: { StringNotEquals: notReader },
        }),
      );
    } else {
      // Peer regions: the readers, or a role tagged with this mesh AND this service (the same service
      // in a peer region). Two denies, one per tag: a principal that lacks either is refused.
      const tags = [
        ['OnlyOwnerOrPeerMeshReads', TAGS.mesh, this.meshName],
        ['OnlyOwnerOrPeerServiceReads', TAGS.service, peerService],
      ] as const;
      for (const [sid, tag, value] of tags) {
        secret.addToResourcePolicy(
          new iam.PolicyStatement({
            sid,
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['secretsmanager:GetSecretValue'],
            resources: ['*'],
            conditions: { StringNotEquals: { ...notReader, [`aws:PrincipalTag/${tag}`]: value } },
          }),
        );
      }
    }
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyIssuerAndDeploymentChange',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...SECRET_WRITE_ACTIONS],
        resources: ['*'],
        conditions: { StringNotEquals: { 'aws:PrincipalArn': [this.issuer.role!.roleArn, this.deploymentRoleArn] } },
      }),
    );
  }

  private checkServiceList(): string[] {
    const bytes = [...this.services.keys()].join(',').length;
    if (bytes <= SERVICE_LIST_MAX_BYTES) return [];
    return [
      `MeshIdentity ${this.node.path}: ${this.services.size} services take ${bytes} bytes in the issuer's ${IDENTITY.env.services}, over the ${SERVICE_LIST_MAX_BYTES} bytes Lambda's 4 KB environment leaves; split the services over more than one mesh or use shorter service names`,
    ];
  }
}

/** The synthesizer's CloudFormation execution role, or an error that says what to pass instead. */
function defaultDeploymentRole(scope: Construct): string {
  // DefaultStackSynthesizer (and BootstraplessSynthesizer) name it; the synthesizer interface does not.
  const arn = (Stack.of(scope).synthesizer as { readonly cloudFormationExecutionRoleArn?: string })
    .cloudFormationExecutionRoleArn;
  if (!arn) {
    throw new MeshValidationError(
      MeshErrorCode.INVALID_IDENTITY_OPTION,
      `MeshIdentity ${scope.node.path}: the stack's synthesizer names no CloudFormation execution role, so the mesh cannot tell which principal deploys it; pass identity: { deploymentRoleArn: '<the role CloudFormation deploys with>' } to Mesh`,
      scope,
    );
  }
  // DefaultStackSynthesizer spells it with ${AWS::...} placeholders.
  return arn.includes('${') ? Fn.sub(arn) : arn;
}

/** arn:…:secret:<mesh>/identity/* — the issuer's one grant over every identity secret of the mesh. */
function identitySecretArnPattern(scope: Construct, mesh: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${mesh}/identity/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** What the issuer does to a secret it issues: read it, write a new version, move its labels. */
const ISSUER_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/** What `attachMeshIdentity` needs from a mesh: its name, a hook per joining function. */
export interface IdentityHost extends Construct {
  readonly meshName: string;
  onFunction(hook: (fn: IdentityMember & { readonly service: string }) => void): void;
}

/**
 * Gives a mesh its CA and issuer, and every function of it (present and future) its identity secret.
 * One call from `Mesh`'s constructor: `this.identity = attachMeshIdentity(this, props.identity)`.
 */
export function attachMeshIdentity(mesh: IdentityHost, options: MeshIdentityOptions = {}): MeshIdentity {
  const existing = mesh.node.tryFindChild('Identity');
  if (existing instanceof MeshIdentity) return existing; // idempotent
  const identity = new MeshIdentity(mesh, 'Identity', { ...options, meshName: mesh.meshName });
  mesh.onFunction((fn) => identity.addService(fn.service, fn));
  return identity;
}
