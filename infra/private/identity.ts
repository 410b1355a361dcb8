import { ArnFormat, Aws, Duration, RemovalPolicy, SecretValue, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ASSETS, ENV, spiffeId, TAGS } from '../../shared/names';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';
import { controlFunctionCode } from './asset-code';

/** Options of the mesh identity (CA, issuer, rotation). */
export interface MeshIdentityOptions {
  /**
   * Lifetime of a service certificate; the identity secret rotates at half of it.
   * @default Duration.hours(24)
   */
  readonly certificateLifetime?: Duration;
  /**
   * How often the mesh CA itself rotates (the previous CA stays trusted).
   * @default Duration.days(90)
   */
  readonly caRotation?: Duration;
}

export interface MeshIdentityProps extends MeshIdentityOptions {
  /** The mesh name: the SPIFFE trust domain and the secrets' name prefix. */
  readonly meshName: string;
}

/**
 * The mesh CA and service identities (internal to `Mesh`):
 * - the CA secret, whose private key only the issuer function can read (resource policy denies
 *   everyone else, even principals with broad secretsmanager grants);
 * - the issuer: one rotation function (functions/control/rotation.ts) for the CA and every identity
 *   secret, allowed to write identity secrets by name prefix (its policy does not grow per service);
 * - per service (`addService`): an identity secret readable only by that function's role and the
 *   issuer, rotated on a schedule (AWS-WIRE §5), the first issue at deploy.
 * Placeholder values name what the rotation function should issue; they hold nothing secret.
 */
export class MeshIdentity extends Construct {
  readonly caSecret: secretsmanager.Secret;
  readonly issuer: lambda.Function;
  readonly caRotation: secretsmanager.CfnRotationSchedule;
  private readonly meshName: string;
  private readonly leafHours: number;
  private readonly services = new Map<string, secretsmanager.Secret>();

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
    const caDays = (props.caRotation ?? Duration.days(90)).toDays();

    this.caSecret = new secretsmanager.Secret(this, 'CaSecret', {
      secretName: `${props.meshName}/mesh-ca`,
      description: `Mesh CA of ${props.meshName} (certificate and private key); read only by the issuer`,
      // Placeholder: the first rotation (at deploy) creates the CA. See rotation.ts kindOf.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ kind: 'ca', mesh: props.meshName })),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.issuer = new lambda.Function(this, 'Issuer', {
      code: controlFunctionCode(ASSETS.rotation),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      description: `Issues and rotates the ${props.meshName} mesh CA and service certificates`,
      environment: {
        MESH_CA_SECRET: this.caSecret.secretArn,
        MESH_CERT_LIFETIME_HOURS: String(this.leafHours),
      },
    });
    this.issuer.addPermission('SecretsManagerRotates', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
    });

    // The issuer reads and rotates the CA secret; nobody else may read it.
    this.caSecret.grantRead(this.issuer);
    this.caSecret.grantWrite(this.issuer);
    this.issuer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:UpdateSecretVersionStage', 'secretsmanager:DescribeSecret'],
        resources: [this.caSecret.secretArn],
      }),
    );
    denyReadExcept(this.caSecret, [this.issuer.role!]);

    // Identity secrets by name prefix: one statement for any number of services.
    this.issuer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:DescribeSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [identitySecretArnPattern(this, props.meshName)],
      }),
    );

    // cdk-nag (AwsSolutions) findings on the issuer, each with its reason.
    Validations.of(this.issuer.role!).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole only lets the issuer write its own CloudWatch Logs; it grants no access to secrets or keys',
    });
    Validations.of(this.issuer.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${nagValue(Stack.of(this).region, '<AWS::Region>')}:${nagValue(Stack.of(this).account, '<AWS::AccountId>')}:secret:${props.meshName}/identity/*]`,
      reason:
        'The issuer rotates every identity secret of this mesh; one name-prefix grant keeps its policy from growing per service (IAM 10,240-character cap). Each identity secret also denies reads to all but its function and the issuer.',
    });

    this.caRotation = new secretsmanager.CfnRotationSchedule(this, 'CaRotation', {
      secretId: this.caSecret.secretArn,
      rotationLambdaArn: this.issuer.functionArn,
      rotationRules: { scheduleExpression: `rate(${Math.max(1, Math.round(caDays))} days)` },
      rotateImmediatelyOnUpdate: true,
    });
    this.caRotation.node.addDependency(this.issuer);
  }

  /**
   * The identity secret of one service: created with a placeholder, issued at deploy and rotated at
   * half the certificate lifetime; readable by `role` and the issuer only. Sets MESH_IDENTITY_SECRET.
   * Idempotent per service.
   */
  addService(service: string, fn: lambda.Function): secretsmanager.Secret {
    const existing = this.services.get(service);
    if (existing) return existing;
    const secret = new secretsmanager.Secret(this, `Identity-${service}`, {
      secretName: `${this.meshName}/identity/${service}`,
      description: `Mesh identity of ${spiffeId(this.meshName, service)} (certificate chain and key)`,
      secretStringValue: SecretValue.unsafePlainText(
        JSON.stringify({ kind: 'identity', spiffeId: spiffeId(this.meshName, service) }),
      ),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const rotation = new secretsmanager.CfnRotationSchedule(this, `Rotation-${service}`, {
      secretId: secret.secretArn,
      rotationLambdaArn: this.issuer.functionArn,
      // Rotate at half life, so a certificate is always at least half its lifetime from expiry.
      rotationRules: { scheduleExpression: `rate(${Math.max(4, Math.floor(this.leafHours / 2))} hours)` },
      rotateImmediatelyOnUpdate: true,
    });
    // The CA must exist before the first certificate is issued from it.
    rotation.addResourceDependency(this.caRotation);
    rotation.node.addDependency(this.issuer);
    secret.grantRead(fn);
    if (fn.role) denyReadExcept(secret, [fn.role, this.issuer.role!]);
    fn.addEnvironment(ENV.identitySecret, secret.secretArn);
    Tags.of(secret).add(TAGS.mesh, this.meshName);
    Tags.of(secret).add(TAGS.service, service);
    this.services.set(service, secret);
    return secret;
  }
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

/** How cdk-nag spells a value in a finding id: literal, or the pseudo parameter it stands for. */
function nagValue(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? pseudo : value;
}

/** Resource policy: GetSecretValue is denied to every principal but these roles. */
function denyReadExcept(secret: secretsmanager.Secret, roles: iam.IRole[]): void {
  secret.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyOwnerReads',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      conditions: { StringNotEquals: { 'aws:PrincipalArn': roles.map((r) => r.roleArn) } },
    }),
  );
}

/** What `attachMeshIdentity` needs from a mesh: its name, a hook per joining function. */
export interface IdentityHost extends Construct {
  readonly meshName: string;
  onFunction(hook: (fn: lambda.Function & { readonly service: string }) => void): void;
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
