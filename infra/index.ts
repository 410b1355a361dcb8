/**
 * `lambda-mesh`: the constructs of Lambda Mesh, a service mesh for AWS Lambda declared with AWS CDK.
 * `Mesh` once per mesh, `MeshFunction` for each function, `allowCallsTo` for each edge.
 *
 * This entry loads aws-cdk-lib, constructs and the policy model only: no AWS SDK and nothing of the
 * runtime (handlers import that from `lambda-mesh/runtime`).
 *
 * @packageDocumentation
 */

export {
  type AllowItem,
  type BreakerStateItem,
  type DenyItem,
  type FaultItem,
  type PolicyItem,
  type PolicySnapshot,
  RETRY_ON,
  type RetryOn,
  type RouteItem,
  type ServiceItem,
  type TrafficItem,
} from '../shared/policy';
export type { SnapshotPartition } from '../shared/snapshot-seal';
export type { MetricDimensions } from '../shared/telemetry/metric-dimensions';
export {
  type IMesh,
  MESH_POLICY_RESOURCE_TYPE,
  Mesh,
  type MeshIdentitySettings,
  type MeshOptions,
  type MeshProps,
  type VersionBumperAlarms,
} from './mesh';
export {
  MeshDashboard,
  type MeshDashboardOptions,
  type MeshDashboardProps,
  type MeshDashboardServiceOptions,
  type MeshTopology,
  type MeshTopologyCanary,
  type MeshTopologyFunction,
  type MeshTopologyItem,
  type MeshTopologyVersion,
  type ServiceAlarms,
} from './mesh-dashboard';
export {
  type DeploymentAlarmOptions,
  type DeploymentAlarms,
  MeshDeployment,
  type MeshDeploymentOptions,
  type MeshDeploymentProps,
  type PreTrafficCheckOptions,
} from './mesh-deployment';
export {
  type CallEdgeOptions,
  type CanaryOptions,
  type FallbackOptions,
  type IMeshFunction,
  MeshFunction,
  type MeshFunctionOptions,
  type MeshFunctionProps,
  type ReceiveOptions,
  type SendOptions,
} from './mesh-function';
export { MeshErrorCode, MeshValidationError } from './mesh-validation-error';
export type { MeshCapacityProviderOptions } from './private/capacity-provider';
export type { MeshIdentity, MeshIdentityOptions, MeshIdentityProps } from './private/identity';
export type {
  BreakerOptions,
  BudgetOptions,
  EdgeOptions,
  RateLimitOptions,
  RetryOptions,
  TrafficOptions,
} from './traffic-options';
