/**
 * The contract between the constructs (infra/), the runtime (functions/mesh), the CLI (cli/) and the
 * local mesh (local/): environment variables, table keys, metadata fields, header names and paths.
 * Change a name here and every side follows; never spell one of these strings elsewhere.
 *
 * No imports: this file is loaded on the runtime's init path.
 */

/**
 * Environment variables `MeshFunction` sets on each function and the runtime reads once at init. An enum,
 * not an object: the bundler writes each name where it is used, so the layer's files carry only the
 * names they read instead of a copy of the whole list each.
 */
export enum ENV {
  /** Name of the mesh (also the SPIFFE trust domain). */
  meshName = 'MESH_NAME',
  /** This function's service name in the mesh. */
  service = 'MESH_SERVICE',
  /** The user's original handler, `file.export`, relative to LAMBDA_TASK_ROOT. */
  handler = 'MESH_HANDLER',
  /** Name of the DynamoDB policy table. */
  policyTable = 'MESH_POLICY_TABLE',
  /** Policy cache TTL in ms (default 5000). */
  policyTtlMs = 'MESH_POLICY_TTL_MS',
  /** Path of the deploy-time policy snapshot (`LAYER.snapshotPath`); unset = no snapshot. */
  policySnapshot = 'MESH_POLICY_SNAPSHOT',
  /**
   * Set by the wrapper at init, in its own process: base URL of the local HTTP endpoint,
   * `http://127.0.0.1:<port>/<secret>`. The secret path is drawn per sandbox, so only this function's
   * processes can use the endpoint; clients append `/<service>` to the URL as it is.
   */
  endpoint = 'MESH_ENDPOINT',
  /**
   * Set: the wrapper opens its local HTTP endpoint (MESH_ENDPOINT) on this port, 0 = any free port
   * (Lambda has one sandbox per port space); unset: no endpoint. `MeshFunction` prop `localEndpoint`.
   */
  endpointPort = 'MESH_ENDPOINT_PORT',
  /** ARN or name of this function's identity secret (certificate chain + key). */
  identitySecret = 'MESH_IDENTITY_SECRET',
  /** Turns the mesh off for this function: the wrapper calls the handler directly ("true"). */
  disabled = 'MESH_DISABLED',
  /**
   * "true": when a breaker opens, write the shared `breaker#<version>` item (partition
   * `breaker#<target>`) so every sandbox ejects the version, and read those items with each target's
   * policy. Off by default: it needs dynamodb:PutItem in the targets' breaker partitions (`Mesh` prop
   * `sharedBreakers`).
   */
  sharedBreakers = 'MESH_SHARED_BREAKERS',
  /**
   * This function's HTTP targets, set by `MeshFunction` from its targets' `addHttpEndpoint`: a JSON
   * object, service -> `{ url, auth }` (shared/http-target.ts). The only source of HTTP targets: a
   * policy item cannot name a URL. Unset = every target is reached by Lambda Invoke.
   */
  httpTargets = 'MESH_HTTP_TARGETS',
  /** Log level of the mesh runtime: debug | info | warn | error (default warn). */
  logLevel = 'MESH_LOG_LEVEL',
  /**
   * Header names (comma-separated, any case) an invocation's inbound HTTP request carries on to its
   * outbound calls for routing, besides those starting with `ROUTE_HEADERS.prefix` (docs/policy-model.md).
   */
  routeHeaders = 'MESH_ROUTE_HEADERS',
  /**
   * The channels (SQS queues, SNS topics, EventBridge buses) this function may send to, set by
   * `MeshFunction.allowSendTo`: a JSON object, channel name -> `{ kind, arn, url? }`
   * (functions/mesh/async/channels.ts). `mesh.send(name, …)` to a name listed here goes to the channel.
   */
  channels = 'MESH_CHANNELS',
  /**
   * The channels this function consumes (`MeshFunction.receiveFrom`): a JSON object, channel name ->
   * source ARN. A record's token must be addressed to one of them, and a queue's or topic's record must
   * come from that channel's ARN.
   */
  inboundChannels = 'MESH_INBOUND_CHANNELS',
  /**
   * Which CloudWatch dimension sets the runtime's EMF lines publish: `standard` (unset) or `detailed`
   * (METRIC_DIMENSIONS; `Mesh` prop `metricDimensions`).
   */
  metricDimensions = 'MESH_METRIC_DIMENSIONS',
}

/**
 * Routing headers: an inbound HTTP request's (API Gateway REST and HTTP APIs, Function URLs, ALB)
 * headers of these names are available to the route items of every outbound call of the same
 * invocation (`matches`, `sticky`), and travel on with them (metadata `rh`) so a request is routed by
 * its header across hops. Only these: an Authorization header or a cookie never leaves the invocation.
 */
export const ROUTE_HEADERS = {
  /** Header names starting with this are routing headers; MESH_ROUTE_HEADERS names more. */
  prefix: 'x-route-',
  /** Most routing headers carried per invocation (the rest are dropped). */
  maxHeaders: 8,
  /** Longest header name and value carried, in characters (longer ones are dropped). */
  maxNameLength: 64,
  maxValueLength: 256,
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

/**
 * The errorType a mesh function's invocation fails with when its handler ended on a call of its own that
 * ran out of time (the mesh retried that call already): its wrapper names it so, and its caller reads it
 * as the function's failure, not as the function timing out. Retried as a timeout, each hop above would
 * repeat the whole chain below it, the attempts of every hop multiplied.
 */
export const DEPENDENCY_TIMEOUT = 'MeshDependencyTimeoutError';

/** Valid service names: they become parts of function names, SPIFFE IDs, table keys and metric dimensions. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * A published Lambda version: a number such as "3", never `$LATEST` and never an alias name; at most 128
 * digits, the longest qualifier Invoke takes ("Invoke", AWS Lambda API Reference).
 */
export const PUBLISHED_VERSION_PATTERN = /^[0-9]{1,128}$/;

export function isPublishedVersion(version: string): boolean {
  return PUBLISHED_VERSION_PATTERN.test(version);
}

/**
 * The policy table. Single table: partition key `pk` = service, sort key `sk` = kind of item. Shared
 * breaker state lives apart, in partition `breaker#<service>` (`breakerPartition`), so IAM can let a
 * caller write breaker state and nothing else.
 *
 * | sk                    | item                                                        |
 * |-----------------------|-------------------------------------------------------------|
 * | `service`             | the service's registration: function name, alias            |
 * | `allow#<source>`      | `<source>` may call this service (`allow#external` too)     |
 * | `deny#<source>`       | run-time deny; wins over an allow                           |
 * | `traffic`             | this service's traffic policy for all its callers           |
 * | `route`               | client-side routing (weights, matches, sticky, mirror)      |
 * | `fault`               | fault injection                                             |
 * | `breaker#<version>`   | breaker state, in pk `breaker#<service>`; expires by `ttl`  |
 * | `bucket#<scope>`      | a rate-limit bucket, in pk `ratelimit#<service>`; by `ttl`  |
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
  /**
   * A rate-limit bucket, in `rateLimitPartition(service)`: the limit's scope (`traffic` or
   * `allow#<source>`) behind a prefix no policy item's sort key starts with, so the policy table's
   * stream filter (policy-stream-filter.ts) keeps lease writes from the version bumper.
   */
  rateLimitBucket: (scope: string) => `bucket#${scope}`,
} as const;

/**
 * The partition that holds `service`'s shared breaker state. Apart from the service's own partition,
 * so a grant whose `dynamodb:LeadingKeys` lists only `breaker#<target>` lets a caller write breaker
 * state and never the target's policy. `#` never occurs in a service name: the two cannot collide.
 */
export function breakerPartition(service: string): string {
  return `breaker#${service}`;
}

/**
 * The partition that holds the rate-limit buckets of calls to `service` (sort key
 * `SORT_KEY.rateLimitBucket(scope)`, the scope `traffic` or `allow#<source>`). Apart like the breaker partition: callers lease slices there and
 * may write nothing else. The policy cache never reads it.
 */
export function rateLimitPartition(service: string): string {
  return `ratelimit#${service}`;
}

/**
 * The mesh-wide policy version: one small item, copied into `shards` partitions
 * (`mesh#version#<n>`, sort key `version`), that every writer of policy items bumps (after its
 * writes, in one transaction over all shards) and every sandbox reads with one GetItem per TTL from a
 * shard it picks at random, so no partition carries more than its share of the fleet's polls. It
 * holds one counter per bucket of services (`b<n>`, `bucketOf` in shared/policy-version.ts): a sandbox
 * queries a service's items again only when its bucket's counter moved. `#` never occurs in a service
 * name, so these partitions cannot collide with a service's. docs/scale.md has the figures.
 */
export const POLICY_VERSION = {
  /**
   * Partition keys of the shards and of the change items start with this (an IAM condition names them
   * all with `<prefix>*`: whoever may read or bump the version may read or write its change items).
   */
  partitionPrefix: 'mesh#version#',
  partition: (shard: number) => `mesh#version#${shard}`,
  /**
   * The partition of shard `shard`'s change items (shared/change-items.ts): a bump's changes too big for
   * the version item, one item per bump in each of `changeShards` partitions of their own (sort key: the bump's).
   */
  changesPartition: (shard: number) => `mesh#version#changes#${shard}`,
  sortKey: 'version',
  /** Partitions the version item is copied into (100,000 polling sandboxes: ~390 read units each). */
  shards: 32,
  /**
   * Partitions a bump's change items are copied into. More than the version's: a change item weighs up
   * to 8 KB against the version's 2, and every sandbox that touches a deployed service reads one within
   * a poll period (100,000 sandboxes: ~390 reads a second each, at most one read unit a read). They are
   * written one by one, not in the version's transaction, so their count is not bound by its 100 items.
   */
  changeShards: 64,
  /** Counters per version item (a service's bucket: FNV-1a of its name, modulo this). */
  buckets: 64,
  /** The counter attribute of a bucket. */
  counter: (bucket: number) => `b${bucket}`,
  /** Bumped by every change, whatever its services (a total, for operators). */
  generation: 'generation',
  /** Epoch ms of the last change. */
  changedAt: 'changedAt',
  /** The last changes themselves, when small (shared/policy-changes.ts): most sandboxes need no Query after one. */
  changes: 'changes',
} as const;

/**
 * The CloudFormation type of the custom resource that seeds the deploy-time policy items: its
 * properties are `TableName` and `Items` (a JSON array of policy items, each managedBy "deploy").
 */
export const POLICY_RESOURCE_TYPE = 'Custom::MeshPolicy';

/** Who wrote an item: the deploy-time custom resource only ever touches `deploy` items. */
export const MANAGED_BY = { deploy: 'deploy', operator: 'operator' } as const;

/**
 * Mesh metadata, carried in the Invoke ClientContext as `custom.mesh` (a JSON object) on synchronous
 * calls, and as `x-mesh-*` headers on HTTP. Short keys: the base64 ClientContext is capped at 3,583 bytes.
 */
export enum META {
  /** ClientContext field: `{ custom: { mesh: MeshMetadata } }` */
  clientContextKey = 'mesh',
  /**
   * The envelope of an Event invoke (which carries no ClientContext) and of an EventBridge event's
   * detail: `{ "lambda-mesh": MeshMetadata, "payload": <the caller's payload> }`. The wrapper opens it,
   * so the handler gets the payload as the caller sent it.
   */
  envelopeKey = 'lambda-mesh',
  envelopePayloadKey = 'payload',
  /** The SQS / SNS message attribute (String, the metadata as JSON) that carries the mesh metadata. */
  // biome-ignore lint/suspicious/noDuplicateEnumValues: the same name as the envelope's key, on purpose
  messageAttribute = 'lambda-mesh',
}

/** The HTTP headers that carry the mesh metadata (HTTP targets, the layer's local endpoint). */
export enum META_HEADER {
  source = 'x-mesh-source',
  token = 'x-mesh-token',
  deadline = 'x-mesh-deadline',
  attempt = 'x-mesh-attempt',
  idempotencyKey = 'x-mesh-idempotency-key',
  trace = 'x-amzn-trace-id',
}

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
  /** 1 = a mirror copy: the callee counts it apart from real traffic, and so do its own calls. */
  readonly mir?: 1;
  /** Routing headers of the request this call serves (`ROUTE_HEADERS`), names in lower case. */
  readonly rh?: Readonly<Record<string, string>>;
  /** The channel (queue, topic, bus) a message was sent to; its token is addressed to the channel. */
  readonly ch?: string;
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
  /**
   * Package name apps import the runtime from (`import { mesh } from 'lambda-mesh/runtime'`); external
   * in function bundles (with its subpaths), so Lambda resolves it to the layer's copy.
   */
  moduleName: 'lambda-mesh',
} as const;

/**
 * The Lambda assets the constructs ship, one directory each, as `functions/build.ts` lays them out:
 * built into the package's dist/assets at `npm pack`, built from source on demand in this repository.
 */
export const ASSETS = {
  /** The mesh layer (LAYER.packageDir inside). */
  layer: 'mesh-layer',
  /** The Custom::MeshPolicy handler (`index.handler`). */
  policySeeder: 'policy-seeder',
  /** The identity issuer: deploy-time issuance and rotation (`index.handler`). */
  issuer: 'issuer',
  /** The pre-traffic hook of gated deployments (`index.handler`, functions/control/deploy-hook.ts). */
  deployHook: 'deploy-hook',
  /** The policy table's stream handler: bumps the policy version for any writer (`index.handler`). */
  policyStream: 'policy-stream',
} as const;
export type AssetName = (typeof ASSETS)[keyof typeof ASSETS];

/** Metric namespaces and names (EMF), Istio-style. */
export const METRICS = {
  /** What every mesh's namespace starts with (`metricNamespace`). */
  namespacePrefix: 'LambdaMesh',
  requestsTotal: 'requests_total',
  requestDurationMs: 'request_duration_ms',
  retriesTotal: 'retries_total',
  breakerOpenTotal: 'breaker_open_total',
  deniedTotal: 'denied_total',
  /** Calls the caller refused over a mesh-wide rate limit (no Invoke sent), per edge. */
  rateLimitedTotal: 'rate_limited_total',
  /** Calls a declared fallback served after the target failed, counted on the edge to the fallback. */
  fallbackTotal: 'fallback_total',
  /** Mirror copies (route item `mirror`) the callee served: counted apart from requests_total. */
  mirrorRequestsTotal: 'mirror_requests_total',
  mirrorRequestDurationMs: 'mirror_request_duration_ms',
  /** A function refused or could not make a mesh call because its identity secret holds no identity yet. */
  identityUnavailableTotal: 'identity_unavailable_total',
  /** A policy table read answered with throttling (the last good copy stays; the read backs off). */
  policyReadThrottledTotal: 'policy_read_throttled_total',
  /**
   * Calls that did not succeed (status 400 or more), counted beside every request of an edge (0 or 1),
   * so an edge's success rate is `1 - errors / requests` without a response_code dimension.
   */
  requestErrorsTotal: 'request_errors_total',
  /**
   * Every label a call's line carries at its root. All of them are log properties (Logs Insights finds
   * them); only the sets below are CloudWatch dimensions, each combination of values one custom metric.
   * With `metricDimensions: 'detailed'` the whole list is one more set, on both sides of a call.
   */
  dimensions: ['source_workload', 'destination_workload', 'destination_version', 'response_code', 'reporter'] as const,
  /**
   * The per-edge set: requests, errors, latency, retries, denials and breaker opens of each caller ->
   * callee pair. The caller publishes it; the callee publishes it only for callers that report nothing
   * themselves (outside the mesh, unverified, the pre-traffic check), so each call counts once.
   */
  edgeDimensions: ['source_workload', 'destination_workload', 'reporter'] as const,
  /**
   * The per-version dimension sets: what the callee measured of each of its versions, over all callers.
   * Destination-side lines publish them (EMF allows several sets per line), so a deployment's alarms
   * read one plain metric per version (requests and latency; successes by response code) instead of a
   * SEARCH over every caller. Only destination-side lines carry them: a call is counted once. The set
   * with response_code holds requests_total alone.
   */
  versionDimensions: [
    ['destination_workload', 'destination_version', 'reporter'],
    ['destination_workload', 'destination_version', 'reporter', 'response_code'],
  ] as const,
} as const;

/**
 * The CloudWatch namespace of one mesh's metrics, `LambdaMesh/<meshName>`: two meshes in one account and
 * region (two stages of one app) publish the same service names and often the same version numbers, and
 * only the namespace keeps one's alarms, dashboard and `mesh stat` off the other's series. A mesh name
 * (lower-case letters, digits and dashes, at most 40) keeps it within CloudWatch's namespace characters.
 */
export const metricNamespace = (meshName: string) => `${METRICS.namespacePrefix}/${meshName}`;

/** Whether `namespace` is some mesh's (`metricNamespace`), not an app's own. */
export const isMeshNamespace = (namespace: string) => namespace.startsWith(`${METRICS.namespacePrefix}/`);

/** Tags `Mesh` and `MeshFunction` put on resources, so the CLI finds them without hand-copied ARNs. */
export const TAGS = {
  mesh: 'lambda-mesh:mesh',
  service: 'lambda-mesh:service',
} as const;

/**
 * The mesh's identity secrets, the deploy-time resources that issue them and the issuer's environment:
 * infra/ writes them, functions/control reads them, the local mesh runs them.
 */
export const IDENTITY = {
  /** The mesh CA secret (certificate and key; only the issuer reads it). */
  caSecretName: (mesh: string) => `${mesh}/mesh-ca`,
  /** A service's identity secret: the issuer derives the service from this name, never from the value. */
  secretName: (mesh: string, service: string) => `${mesh}/identity/${service}`,
  /** Custom resources through which CloudFormation waits for the CA and each identity at deploy. */
  resourceType: { ca: 'Custom::MeshCertificateAuthority', identity: 'Custom::MeshIdentity' },
  /** The issuer function's environment. */
  env: {
    /** The mesh name (SPIFFE trust domain). Not MESH_NAME: that marks mesh functions for the CLI. */
    trustDomain: 'MESH_TRUST_DOMAIN',
    /** ARN of the mesh CA secret. */
    caSecret: 'MESH_CA_SECRET',
    /** The services the deployment declared, comma-separated: the only identities the issuer issues. */
    services: 'MESH_IDENTITY_SERVICES',
    /** Service certificate lifetime in hours (default 24). */
    leafLifetimeHours: 'MESH_CERT_LIFETIME_HOURS',
  },
} as const;

/** SPIFFE-style identity of a service. */
export function spiffeId(mesh: string, service: string): string {
  return `spiffe://${mesh}/svc/${service}`;
}

/**
 * Lifetime of a token that travels with an asynchronous message (an Event invoke, a queue, a topic or
 * a bus), and the longest one the asynchronous path accepts. The message waits in a queue and is
 * delivered again on a retry, so the token must outlive the wait: 6 hours is Lambda's default maximum
 * event age for asynchronous invocation (AWS Lambda Developer Guide, "Configuring error handling for
 * asynchronous invocation"). A synchronous call never accepts such a token (MAX_TOKEN_LIFETIME_S).
 */
export const ASYNC_TOKEN_LIFETIME_S = 21_600; // 6 hours

/**
 * Clock skew tolerated between two functions' clocks, seconds: a token's times, a shared breaker item's
 * `openedAt`. Lambda's hosts keep time with the Amazon Time Sync Service (well under a second apart);
 * 2 s leaves room without widening replay much.
 */
export const CLOCK_SKEW_S = 2;

/** The SPIFFE-style ID a channel's messages are addressed to (their tokens' audience). */
export function channelSpiffeId(mesh: string, channel: string): string {
  return `spiffe://${mesh}/channel/${channel}`;
}

/**
 * Gated deployments (`MeshFunction` prop `deployment`): CodeDeploy shifts a function's `live` alias to
 * each deploy's new version. Literal names, so the CLI and the local mesh find a service's deployments
 * from the mesh and service names alone, and nothing refers to a resource that refers back.
 */
export const DEPLOYMENT = {
  /** The CodeDeploy application of a mesh's gated deployments (one per mesh). */
  applicationName: (mesh: string) => `${mesh}-mesh`,
  /** A service's deployment group in its mesh's application. */
  groupName: (service: string) => service,
  /**
   * The caller the pre-traffic hook calls new versions as: a service name the mesh reserves (no
   * `MeshFunction` may take it), with an identity of its own and an `allow#` item on each gated service.
   */
  checkSource: 'mesh-deploy-check',
  /** The hook's environment: gated services -> `{ functionName, version, request? }`, JSON. */
  checksEnv: 'MESH_DEPLOY_CHECKS',
} as const;
