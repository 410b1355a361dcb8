/**
 * The contract between the constructs (infra/), the runtime (functions/mesh), the CLI (cli/) and the
 * local mesh (local/): environment variables, table keys, metadata fields, header names and paths.
 * Change a name here and every side follows; never spell one of these strings elsewhere.
 *
 * No imports: this file is loaded on the runtime's init path.
 */

/** Environment variables `MeshFunction` sets on each function and the runtime reads once at init. */
export const ENV = {
  /** Name of the mesh (also the SPIFFE trust domain). */
  meshName: 'MESH_NAME',
  /** This function's service name in the mesh. */
  service: 'MESH_SERVICE',
  /** The user's original handler, `file.export`, relative to LAMBDA_TASK_ROOT. */
  handler: 'MESH_HANDLER',
  /** Name of the DynamoDB policy table. */
  policyTable: 'MESH_POLICY_TABLE',
  /** Policy cache TTL in ms (default 5000). */
  policyTtlMs: 'MESH_POLICY_TTL_MS',
  /** Path of the deploy-time policy snapshot (`LAYER.snapshotPath`); unset = no snapshot. */
  policySnapshot: 'MESH_POLICY_SNAPSHOT',
  /** Set by the wrapper at init: base URL of the local HTTP endpoint, `http://127.0.0.1:<port>`. */
  endpoint: 'MESH_ENDPOINT',
  /** Port for the local HTTP endpoint (default 0 = any free port; Lambda has one sandbox per port space). */
  endpointPort: 'MESH_ENDPOINT_PORT',
  /** ARN or name of this function's identity secret (certificate chain + key). */
  identitySecret: 'MESH_IDENTITY_SECRET',
  /** Turns the mesh off for this function: the wrapper calls the handler directly ("true"). */
  disabled: 'MESH_DISABLED',
  /**
   * "true": when a breaker opens, write the shared `breaker#<version>` item so every sandbox ejects the
   * version. Off by default: it needs dynamodb:PutItem in the targets' partitions (`Mesh` prop `sharedBreakers`).
   */
  sharedBreakers: 'MESH_SHARED_BREAKERS',
  /** Log level of the mesh runtime: debug | info | warn | error (default warn). */
  logLevel: 'MESH_LOG_LEVEL',
} as const;

/** The alias every mesh function is reached through by default. */
export const LIVE_ALIAS = 'live';

/** The caller name given to invocations that carry no mesh metadata (API Gateway, SQS, plain Invoke). */
export const EXTERNAL = 'external';

/**
 * The source recorded (metrics, access log) for a caller whose claimed name was never verified and
 * that was refused: a forger's claim never shows up as an edge.
 */
export const UNKNOWN_SOURCE = 'unknown';

/** Valid service names: they become parts of function names, SPIFFE IDs, table keys and metric dimensions. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The policy table. Single table: partition key `pk` = service, sort key `sk` = kind of item.
 *
 * | sk                    | item                                                        |
 * |-----------------------|-------------------------------------------------------------|
 * | `service`             | the service's registration: function name, alias            |
 * | `allow#<source>`      | `<source>` may call this service (`allow#external` too)     |
 * | `deny#<source>`       | run-time deny; wins over an allow                           |
 * | `traffic`             | this service's traffic policy for all its callers           |
 * | `route`               | client-side routing (weights, matches, sticky, mirror)      |
 * | `fault`               | fault injection                                             |
 * | `breaker#<version>`   | shared breaker state, expires through the `ttl` attribute   |
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL attribute (breaker state). */
  ttlAttribute: 'ttl',
} as const;

export const SORT_KEY = {
  service: 'service',
  traffic: 'traffic',
  route: 'route',
  fault: 'fault',
  allow: (source: string) => `allow#${source}`,
  deny: (source: string) => `deny#${source}`,
  breaker: (version: string) => `breaker#${version}`,
} as const;

/** Who wrote an item: the deploy-time custom resource only ever touches `deploy` items. */
export const MANAGED_BY = { deploy: 'deploy', operator: 'operator' } as const;

/**
 * Mesh metadata, carried in the Invoke ClientContext as `custom.mesh` (a JSON object) on synchronous
 * calls, and as `x-mesh-*` headers on HTTP. Short keys: the base64 ClientContext is capped at 3,583 bytes.
 */
export const META = {
  /** ClientContext field: `{ custom: { mesh: MeshMetadata } }` */
  clientContextKey: 'mesh',
  headers: {
    source: 'x-mesh-source',
    token: 'x-mesh-token',
    deadline: 'x-mesh-deadline',
    attempt: 'x-mesh-attempt',
    idempotencyKey: 'x-mesh-idempotency-key',
    trace: 'x-amzn-trace-id',
  },
} as const;

/** The wire form of the mesh metadata (`custom.mesh`). */
export interface MeshMetadata {
  /** Metadata version. */
  readonly v: 1;
  /** Calling service. */
  readonly src: string;
  /** Signed identity token (see functions/mesh/identity). */
  readonly tok?: string;
  /** Absolute deadline, epoch ms. */
  readonly dl?: number;
  /** Attempt number, 1-based. */
  readonly att?: number;
  /** Idempotency key, the same on every attempt of one call. */
  readonly idk?: string;
  /** X-Ray trace header `Root=…;Parent=…;Sampled=…`. */
  readonly trc?: string;
}

/** The layer's layout. The layer unpacks into /opt; `lambda-mesh` resolves through NODE_PATH. */
export const LAYER = {
  /** Directory of the runtime package inside the layer asset. */
  packageDir: 'nodejs/node_modules/lambda-mesh',
  /** The handler `MeshFunction` points every mesh function at. */
  wrapperHandler: '/opt/nodejs/node_modules/lambda-mesh/wrapper.handler',
  /**
   * The deploy-time policy snapshot (a JSON `PolicySnapshot`), shipped in a layer at this path and
   * named by MESH_POLICY_SNAPSHOT. The local mesh maps /opt to the function's merged layers.
   */
  snapshotPath: '/opt/mesh/policy.json',
  /** Module name apps import (`import { mesh } from 'lambda-mesh'`); external in function bundles. */
  moduleName: 'lambda-mesh',
} as const;

/** Metric namespace and names (EMF), Istio-style. */
export const METRICS = {
  namespace: 'LambdaMesh',
  requestsTotal: 'requests_total',
  requestDurationMs: 'request_duration_ms',
  retriesTotal: 'retries_total',
  breakerOpenTotal: 'breaker_open_total',
  deniedTotal: 'denied_total',
  dimensions: ['source_workload', 'destination_workload', 'destination_version', 'response_code', 'reporter'] as const,
} as const;

/** Tags `Mesh` and `MeshFunction` put on resources, so the CLI finds them without hand-copied ARNs. */
export const TAGS = {
  mesh: 'lambda-mesh:mesh',
  service: 'lambda-mesh:service',
  role: 'lambda-mesh:role',
} as const;

/** SPIFFE-style identity of a service. */
export function spiffeId(mesh: string, service: string): string {
  return `spiffe://${mesh}/svc/${service}`;
}
