import type { IConstruct } from 'constructs';

/**
 * Stable codes of the mesh constructs' validation errors. The message says what to fix; the code
 * stays the same across releases, so tests and tools can match on it rather than on the wording.
 */
export enum MeshErrorCode {
  /** `meshName` is not a valid name, or is a token. */
  INVALID_MESH_NAME = 'InvalidMeshName',
  /** Two meshes of one stage, account and region share a `meshName`, so their resources' names collide. */
  DUPLICATE_MESH = 'DuplicateMesh',
  /** `service` is not a valid service name. */
  INVALID_SERVICE_NAME = 'InvalidServiceName',
  /** Two functions of one mesh claim the same service name, or a service takes the name of a channel. */
  DUPLICATE_SERVICE = 'DuplicateService',
  /** A required prop (`mesh`, `entry`, `handler` with `code`) is missing. */
  MISSING_PROP = 'MissingProp',
  /** `functionName` is a token, or longer than Lambda allows. */
  INVALID_FUNCTION_NAME = 'InvalidFunctionName',
  /** Two mesh functions of one stage, account and region have one function name (`${meshName}-${service}` or `functionName`). */
  DUPLICATE_FUNCTION_NAME = 'DuplicateFunctionName',
  /** `canary.weight` or `canary.stableVersion` is out of range. */
  INVALID_CANARY = 'InvalidCanary',
  /** `allowCallsTo` got something that cannot be an edge (not a MeshFunction, another mesh, itself). */
  INVALID_EDGE = 'InvalidEdge',
  /** A duration that must be known at synth is a token. */
  UNRESOLVED_DURATION = 'UnresolvedDuration',
  /** A deploy-time policy item fails the policy model. */
  INVALID_POLICY_ITEM = 'InvalidPolicyItem',
  /** The same policy item is declared twice with different settings. */
  CONFLICTING_POLICY_ITEM = 'ConflictingPolicyItem',
  /** A dashboard or alarm setting is out of range. */
  INVALID_DASHBOARD_OPTION = 'InvalidDashboardOption',
  /** The mesh's dashboard passes CloudWatch's widgets or its body's budget even in its compact form. */
  DASHBOARD_TOO_LARGE = 'DashboardTooLarge',
  /** An identity setting (certificate lifetime, CA rotation) is out of range. */
  INVALID_IDENTITY_OPTION = 'InvalidIdentityOption',
  /** A gated deployment setting (alarm thresholds, period, pre-traffic request) is out of range. */
  INVALID_DEPLOYMENT = 'InvalidDeployment',
  /** `canary` and `deployment` are both set: a pinned split and a gated deployment cannot share `live`. */
  CANARY_WITH_DEPLOYMENT = 'CanaryWithDeployment',
  /** A service name the mesh reads as something else: `external`, `unknown`, the pre-traffic check's caller. */
  RESERVED_SERVICE_NAME = 'ReservedServiceName',
  /** An edge's `fallback` names none or several targets, itself, or an ARN that is not a literal function ARN. */
  INVALID_FALLBACK = 'InvalidFallback',
  /** `addHttpEndpoint` got a URL or auth the mesh cannot call safely, or a second endpoint for one service. */
  INVALID_HTTP_ENDPOINT = 'InvalidHttpEndpoint',
  /** A Lambda Managed Instances setting (`capacityProvider`) is out of range. */
  INVALID_CAPACITY_PROVIDER = 'InvalidCapacityProvider',
  /** A queue, topic or bus a function sends to or consumes cannot be a channel (its name, its consumers). */
  INVALID_CHANNEL = 'InvalidChannel',
  /** `metricDimensions` is not one of the settings the runtime knows. */
  INVALID_METRIC_DIMENSIONS = 'InvalidMetricDimensions',
  /** `runtime` is not a Node.js runtime the mesh's layer runs on (nodejs20.x or later). */
  INVALID_RUNTIME = 'InvalidRuntime',
  /** A `MeshFunction` is declared in another stack than its `Mesh`. */
  MESH_IN_OTHER_STACK = 'MeshInOtherStack',
  /** A `MeshFunction`'s `role` is made in another stack than its `Mesh`: the role's policy would refer back to the mesh's. */
  ROLE_IN_OTHER_STACK = 'RoleInOtherStack',
  /** The `environment` prop sets a variable the mesh sets itself (MESH_SERVICE, MESH_NAME, ...). */
  RESERVED_ENVIRONMENT = 'ReservedEnvironment',
  /**
   * `bundling` would install lambda-mesh beside the function (`nodeModules`), a second copy of the layer's
   * runtime; or the app's package manager cannot run esbuild (pnpm, without esbuild among the app's dependencies).
   */
  INVALID_BUNDLING = 'InvalidBundling',
  /** The function would have more than Lambda's five layers, the mesh's runtime and policy snapshot layers included. */
  TOO_MANY_LAYERS = 'TooManyLayers',
}

// aws-cdk marks its own construct errors with these symbols; `Errors.isValidationError(err)` from
// aws-cdk-lib recognises a mesh error the same way.
const CDK_CONSTRUCT_ERROR = Symbol.for('@aws-cdk/core.SynthesisError');
const CDK_VALIDATION_ERROR = Symbol.for('@aws-cdk/core.ValidationError');

/**
 * A mesh construct refused its input: `code` is stable, `constructPath` names the construct (the path
 * it would have when it is refused before it exists), and the message names the value and the fix.
 */
export class MeshValidationError extends Error {
  /** The stable code of the check that failed. */
  public readonly code: MeshErrorCode;
  /** Path of the construct in the construct tree, e.g. `Shop/Payments`. */
  public readonly constructPath: string;
  /** Always `validation`, as aws-cdk's ValidationError. */
  public readonly type = 'validation';

  /**
   * @param code the check that failed
   * @param message what is wrong and how to fix it
   * @param where the construct, or the path it will have when the check runs before it exists
   */
  constructor(code: MeshErrorCode, message: string, where: IConstruct | string) {
    super(message);
    this.name = 'MeshValidationError';
    this.code = code;
    this.constructPath = typeof where === 'string' ? where : where.node.path;
    Object.defineProperty(this, CDK_CONSTRUCT_ERROR, { value: true });
    Object.defineProperty(this, CDK_VALIDATION_ERROR, { value: true });
  }
}

/** Path a construct will have once `super(scope, id)` has run: for checks made before that. */
export function futurePath(scope: IConstruct, id: string): string {
  return scope.node.path ? `${scope.node.path}/${id}` : id;
}
