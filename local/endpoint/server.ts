/**
 * The local mesh's AWS endpoint: one HTTP server on 127.0.0.1 that speaks Lambda (restJson1), Secrets
 * Manager (awsJson1_1) and DynamoDB (awsJson1_0, embedded dynalite) on the wire, so the real AWS SDK and
 * the real `aws` CLI work against it through AWS_ENDPOINT_URL. Paths under /_mesh/ go to `extraRoutes`
 * (the dashboard) first. Anything else gets AWS's error shape naming the operation; a malformed request
 * gets an error, never a crash. A request whose Host is not a loopback name (DNS rebinding), or that a
 * page from another origin sent, is refused before anything runs.
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackRequest } from '../../shared/loopback';
import { AWS_REGIONS } from './aws-regions';
import type { EndpointInvoker, EndpointRegistry } from './backend';
import { BodyBudget, bodyShare } from './body-budget';
import { ConnectionCap, defaultMaxConnections } from './connection-cap';
import { createPolicyTable, type DynamoOptions, seedItems } from './dynamodb';
import { AwsError, toAwsError, unsupported, type WireProtocol, writeError } from './errors';
import { parseFunctionName } from './function-name';
import { handleIam, iamErrorXml, RolePolicies } from './iam';
import { IamEnforcement, type IamRefusal } from './iam-enforcement';
import type { RequestFacts } from './iam-request';
import { SYNC_PAYLOAD_LIMIT } from './invoke';
import { handleLambda } from './lambda';
import type { LambdaContext } from './lambda-context';
import { PartitionKeys } from './partition-keys';
import { RegionalDynamo } from './regional-dynamo';
import { checkRotationFunction, runRotation } from './rotation';
import { RotationSchedule, type RotationTimer, systemTimer } from './rotation-schedule';
import type { SandboxCredentials } from './sandbox-credentials';
import { SecretStore } from './secret-store';
import { handleSecrets, type RotationHooks, rotateOnSchedule, secretRegion } from './secrets';
import { routeService, signingKeyId, signingRegion } from './service-router';
import { TableStreams } from './table-streams';
import { terminalLog } from './terminal-log';

/** What one region serves: its functions and its secrets. */
export interface RegionBackend {
  readonly registry: EndpointRegistry;
  readonly secrets: SecretStore;
}

export interface EndpointOptions {
  /** @default 4566 (0 = any free port, for tests) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly registry: EndpointRegistry;
  readonly invoker: EndpointInvoker;
  /** @default a new, empty SecretStore */
  readonly secrets?: SecretStore;
  /** The roles' identity policies: IAM's answers, and what sandboxes are held to (global). @default a new, empty store */
  readonly iam?: RolePolicies;
  /**
   * Each sandbox's keys: a request signed with one is held to its role's identity policies
   * (iam-enforcement.ts). @default none: no request is evaluated
   */
  readonly sandboxes?: SandboxCredentials;
  /**
   * Embedded dynalite options (one store per region, as DynamoDB tables are regional), or a DynamoDB
   * endpoint to proxy to. @default embedded dynalite
   */
  readonly dynamo?: DynamoOptions;
  /** Handles paths under /_mesh/ before AWS dispatch; returns true when it answered. */
  readonly extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Where background failures (async invokes) are reported. @default stderr */
  readonly log?: (line: string) => void;
  /**
   * Per-region backends: a request is served in the region of its SigV4 credential scope (unsigned:
   * `registry.region`). @default every request is served by `registry` and `secrets`, in their region
   */
  readonly regions?: (region: string) => RegionBackend;
  /**
   * Regions served besides AWS's own (aws-regions.ts): the stacks' regions, whatever they are named.
   * A request signed for any other region is refused. @default none but the home region
   */
  readonly servedRegions?: readonly string[];
  /**
   * More AWS services on JSON protocols, by signing name (SigV4 credential scope) or target prefix:
   * `handle(operation, input, region)` answers with the output object or throws an AwsError.
   */
  readonly jsonServices?: Readonly<Record<string, JsonService>>;
  /** More AWS services on the query protocol (form in, XML out), by signing name: the local SNS. */
  readonly queryServices?: Readonly<Record<string, QueryService>>;
  /** How Event invokes are retried and where their records go (the local mesh's EventInvokeConfigs). */
  readonly asyncInvokes?: LambdaContext['asyncInvokes'];
  /** Bytes of request bodies held at once, across connections (body-budget.ts). @default 256 MiB */
  readonly bodyBudgetBytes?: number;
  /**
   * Connections held at once (connection-cap.ts): at the cap a new one closes the one idle longest, and
   * is refused (503) only when every one is serving a request. @default 1,024, or half the process's
   * open-file limit when that is less
   */
  readonly maxConnections?: number;
  /** How long a connection may stay open without a complete request head. @default 66 s (headersTimeout) */
  readonly firstRequestTimeoutMs?: number;
  /**
   * What waits for the secrets' scheduled rotations (rotation-schedule.ts); time itself is the stores'
   * clock (SecretStoreOptions.now). @default setTimeout, unref'd
   */
  readonly rotationTimer?: RotationTimer;
}

/** A service on an awsJson protocol the endpoint hands requests to (the local mesh's CodeDeploy, CloudWatch). */
export interface JsonService {
  readonly protocol: 'awsJson1_0' | 'awsJson1_1';
  handle(operation: string, input: Record<string, unknown>, region: string): unknown;
}

/**
 * A service on the query protocol the endpoint hands requests to (the local SNS and SQS): `handle(form,
 * requestId, path)` answers with the operation's XML response or throws an AwsError, written as the
 * protocol's XML error. `path`: the URL's path, which names the queue of a request sent to a queue's URL.
 */
export interface QueryService {
  handle(form: URLSearchParams, requestId: string, path: string): string | Promise<string>;
}

export interface Endpoint {
  /** `http://127.0.0.1:<port>` — give it to clients as `endpoint` or AWS_ENDPOINT_URL. */
  readonly url: string;
  readonly port: number;
  readonly secrets: SecretStore;
  /** The roles' inline policies (deployments write them; IAM reads answer from them). */
  readonly iam: RolePolicies;
  /** Tables' streams and their event source mappings (deployments declare them). */
  readonly streams: TableStreams;
  /** The statements of the policy Lambda keeps for the function, version or alias an ARN names (none: no such function). */
  functionPolicy(arn: string): readonly unknown[];
  readonly dynamo: {
    /** DynamoDB endpoint (the same server). */
    readonly endpoint: string;
    /** Creates the policy table (pk/sk) in `region` (default: home) if missing and waits until ACTIVE. */
    createPolicyTable(tableName: string, region?: string): Promise<void>;
    /** Batch-writes plain-object items into `region`'s table (default: home). */
    seedItems(tableName: string, items: readonly Record<string, unknown>[], region?: string): Promise<void>;
  };
  close(): Promise<void>;
}

/** Largest body the endpoint reads (dynalite's own cap); Lambda's 6 MB is checked per operation. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Lambda's cap on a request (a 50 MB package, base64 in JSON: recorded AWS errors). */
const LAMBDA_REQUEST_BYTES = 70_167_211;
/**
 * Largest Invoke body read: past the 6 MB of a synchronous payload by enough that invoke.ts still names
 * an Event's own size. Beyond it nothing is kept, so a few requests announcing 70 MB cannot fill memory.
 */
const INVOKE_REQUEST_BYTES = SYNC_PAYLOAD_LIMIT + 1024 * 1024;
/** Request bodies held at once: 36 Invokes of the largest payload, or 3 of Lambda's largest requests. */
const BODY_BUDGET_BYTES = 256 * 1024 * 1024;

/** What one request is served with: each region's stores and contexts, and what every region shares. */
interface Services {
  /** The Lambda API of a region (unsigned requests: the home region). */
  lambdaIn(region: string | undefined): LambdaContext;
  /** The secrets of a region, and what runs their rotations. */
  secretsIn(region: string | undefined): { readonly secrets: SecretStore; readonly rotation: RotationHooks };
  /** Each region's tables. */
  readonly dynamo: RegionalDynamo;
  readonly iam: RolePolicies;
  /** Holds sandboxes' requests to their roles' policies; absent when none are given. */
  readonly access: IamEnforcement | undefined;
  /** The partition keys IAM's dynamodb:LeadingKeys reads; asked over the endpoint's own wire. */
  readonly partitionKeys: PartitionKeys;
  /** The statements of the policy Lambda keeps for the function, version or alias an ARN names. */
  readonly functionPolicy: (arn: string) => readonly unknown[];
  readonly accountId: string;
  readonly extraRoutes: EndpointOptions['extraRoutes'];
  readonly jsonServices: EndpointOptions['jsonServices'];
  readonly queryServices: EndpointOptions['queryServices'];
  /** Where an unsigned request is served. */
  readonly home: string;
  /** Whether a region exists here: AWS's, the home region and `servedRegions`. */
  serves(region: string): boolean;
  /** The request bodies held at once. */
  readonly bodies: BodyBudget;
  /** Every region's scheduled rotations. */
  readonly schedule: RotationSchedule;
}

/** What every region's services share for the endpoint's life. */
interface Shared {
  readonly options: EndpointOptions;
  /** Where an unsigned request is served. */
  readonly home: string;
  readonly accountId: string;
  /** The home region's secrets (every region's, without `regions`). */
  readonly secrets: SecretStore;
  readonly log: (line: string) => void;
  /** Tables' streams and their event source mappings (deployments declare them). */
  readonly streams: TableStreams;
  readonly code: CodeDirs;
  readonly schedule: RotationSchedule;
  /** The endpoint's URL, once it listens. */
  url: string;
  closed: boolean;
}

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const home = options.registry.region ?? 'us-east-1';
  const log = options.log ?? terminalLog('endpoint');
  const shared: Shared = {
    options,
    home,
    accountId: options.registry.accountId ?? '000000000000',
    secrets:
      options.secrets ??
      options.regions?.(home).secrets ??
      new SecretStore({ region: options.registry.region, accountId: options.registry.accountId }),
    log,
    streams: new TableStreams(log),
    code: new CodeDirs(),
    schedule: new RotationSchedule(options.rotationTimer ?? systemTimer, log),
    url: '',
    closed: false,
  };
  const services = servicesOf(shared);
  const server = endpointServer(services, shared.log, options);
  try {
    await listen(server, options.port ?? 4566, options.host ?? '127.0.0.1');
  } catch (err) {
    await services.dynamo.close();
    throw err;
  }
  services.secretsIn(undefined); // the home region's schedules run from the start
  const endpoint = endpointOf(server, services, shared);
  shared.url = endpoint.url;
  return endpoint;
}

/** Each region's Lambda API and secrets, built per request from its backend; the tables and IAM, once. */
function servicesOf(shared: Shared): Services {
  const { options, home } = shared;
  const backendOf = (region: string | undefined): { region: string } & RegionBackend =>
    options.regions
      ? { region: region ?? home, ...options.regions(region ?? home) }
      : { region: home, registry: options.registry, secrets: shared.secrets };
  const lambdaContext = (backend: { region: string } & RegionBackend): LambdaContext => ({
    registry: backend.registry,
    invoker: options.invoker,
    region: backend.region,
    accountId: shared.accountId,
    onBackgroundError: shared.log,
    isClosed: () => shared.closed,
    newCodeDir: () => shared.code.next(),
    asyncInvokes: options.asyncInvokes,
  });
  const iam = options.iam ?? new RolePolicies();
  const partitionKeys = new PartitionKeys(() => shared.url);
  const secretArn = (region: string, secretId: string) => {
    try {
      return backendOf(region).secrets.describe(secretId).arn;
    } catch {
      return undefined;
    }
  };
  const functionPolicy = functionPolicyIn(backendOf, shared);
  const lookups = { secretArn, partitionKey: partitionKeys.of.bind(partitionKeys), functionPolicy };
  return {
    lambdaIn: (region) => lambdaContext(backendOf(region)),
    secretsIn: (region) => {
      const backend = backendOf(region);
      const lambda = lambdaContext(backend);
      const rotation: RotationHooks = {
        check: (arn) => checkRotationFunction(lambda, arn),
        start: (job) => runRotation(lambda, backend.secrets, job),
      };
      shared.schedule.watch(backend.secrets, (arn) => rotateOnSchedule(backend.secrets, arn, rotation));
      return { secrets: backend.secrets, rotation };
    },
    dynamo: new RegionalDynamo(options.dynamo ?? {}, home, shared.streams),
    iam,
    access: options.sandboxes ? new IamEnforcement(options.sandboxes, iam, lookups, shared.log) : undefined,
    partitionKeys,
    functionPolicy,
    accountId: shared.accountId,
    extraRoutes: options.extraRoutes,
    jsonServices: options.jsonServices,
    queryServices: options.queryServices,
    home,
    serves: (region) => region === home || AWS_REGIONS.has(region) || (options.servedRegions ?? []).includes(region),
    bodies: new BodyBudget(options.bodyBudgetBytes ?? BODY_BUDGET_BYTES),
    schedule: shared.schedule,
  };
}

/** The statements of the policy Lambda keeps for the function, version or alias an ARN names. */
function functionPolicyIn(
  backendOf: (region: string) => RegionBackend,
  shared: Pick<Shared, 'home' | 'accountId'>,
): (arn: string) => readonly unknown[] {
  return (arn) => {
    const region = arn.split(':')[3] ?? shared.home;
    try {
      const ref = parseFunctionName(arn, undefined, 'GetPolicy', { region, accountId: shared.accountId });
      return backendOf(region).registry.policyStatements(ref.name, ref.qualifier);
    } catch {
      return []; // another account's function, or a name Lambda refuses: no policy here
    }
  };
}

/** How long a request head may take to arrive, and a connection to send its first one. */
const HEADERS_TIMEOUT_MS = 66_000;

/**
 * The HTTP server: every request served, a failure answered rather than crashing, AWS's keep-alive, and
 * its connections bounded (connection-cap.ts).
 */
function endpointServer(
  services: Services,
  log: (line: string) => void,
  options: Pick<EndpointOptions, 'maxConnections' | 'firstRequestTimeoutMs'>,
): Server {
  let cap: ConnectionCap | undefined;
  const server = createServer((req, res) => {
    // A connection refused at the cap was answered 503 and closes once that is written: nothing it sent runs.
    if (cap?.refused(req.socket)) return;
    serve(services, req, res).catch((err) => {
      // Last resort: handlers turn failures into AWS errors, so this is a bug; answer, do not crash.
      log(`unexpected failure on ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
      if (!res.headersSent) writeError(res, toAwsError(err), 'restJson1', randomUUID(), 'lambda');
      else res.destroy();
    });
  });
  // An idle connection stays open until its client closes it (or the endpoint stops). A server that
  // closes idle connections races every client reusing one: when the event loop stalls across the idle
  // deadline, a request written just before it gets a reset (ECONNRESET) for a request nobody read, and
  // the local mesh's own clients and the tests make one attempt. Node's default closed them after 5 s.
  server.keepAliveTimeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  cap = new ConnectionCap(server, {
    max: options.maxConnections ?? defaultMaxConnections(),
    firstRequestMs: options.firstRequestTimeoutMs ?? HEADERS_TIMEOUT_MS,
    log,
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function endpointOf(server: Server, services: Services, shared: Shared): Endpoint {
  const { port } = server.address() as AddressInfo;
  const host = shared.options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { home } = shared;
  return {
    url,
    port,
    secrets: shared.secrets,
    iam: services.iam,
    streams: shared.streams,
    functionPolicy: services.functionPolicy,
    dynamo: {
      endpoint: url,
      createPolicyTable: (tableName, region = home) => createPolicyTable(url, tableName, region),
      seedItems: (tableName, items, region = home) => seedItems(url, tableName, items, region),
    },
    async close() {
      shared.closed = true;
      shared.schedule.close();
      shared.streams.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      services.partitionKeys.close();
      await services.dynamo.close();
      shared.code.remove();
    },
  };
}

/** The folders uploaded function code is unpacked into: one per upload, under one root made when first needed. */
class CodeDirs {
  private root: string | undefined;
  private uploads = 0;

  next(): string {
    this.root ??= mkdtempSync(join(tmpdir(), 'lambda-mesh-code-'));
    const dir = join(this.root, String(++this.uploads));
    mkdirSync(dir);
    return dir;
  }

  remove(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }
}

/** Listens; a port another process holds is named in the error, with the way out. */
async function listen(server: Server, port: number, host: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      e.message = `${e.message}: another process holds port ${port}; stop it or pick another port`;
    throw e;
  }
}

/** One request: refused unless from loopback, then by service (service-router.ts). */
async function serve(services: Services, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const path = url.split('?')[0];
  const decision = routeService(method, path, req.headers);
  const requestId = randomUUID();

  if (!isLoopbackRequest(req.headers)) return refuseForeign(req, res, decision.service, requestId);

  if (decision.service === 'mesh') {
    const handled = services.extraRoutes ? await services.extraRoutes(req, res) : false;
    if (!handled && !res.headersSent)
      writeError(
        res,
        new AwsError('NotFoundException', 404, `No mesh route for ${path}`),
        'restJson1',
        requestId,
        'mesh',
      );
    return;
  }

  // Served in the region of the request's SigV4 credential scope, if it is one that exists.
  const region = signingRegion(first(req.headers.authorization));
  if (region !== undefined && !services.serves(region)) return refuseRegion(res, decision.service, region, requestId);

  const limit = bodyLimit(decision.service, path);
  const share = bodyShare(first(req.headers['content-length']), limit.bytes);
  if (!services.bodies.take(share)) return throttleBody(req, res, decision.service, limit.protocol, requestId);
  res.once('close', () => services.bodies.give(share));
  const body = await readBody(req, limit.bytes);
  if (body === 'too-large') return writeError(res, limit.error, limit.protocol, requestId, decision.service);
  if (body === 'aborted') return;

  const refusal = await iamRefusal(services, req, { decision, method, url, body, region: region ?? services.home });
  if (refusal) return writeError(res, refusal.error, refusal.protocol, requestId, refusal.service);

  switch (decision.service) {
    case 'dynamodb':
      return services.dynamo.in(region).handle(req, body, res);
    case 'secretsmanager':
      return serveSecrets(services, region, decision.operation, body, res, requestId);
    case 'lambda':
      return serveLambda(services.lambdaIn(region), { method, url, headers: req.headers, body, requestId }, res);
    case 'iam':
      return serveIam(services.iam, body, res, requestId);
    case 'other': {
      const json = decision.protocol === 'json' ? services.jsonServices?.[decision.name] : undefined;
      if (json) return serveJson(json, decision, body, region ?? services.home, res, requestId);
      const query = decision.protocol === 'query' ? services.queryServices?.[decision.name] : undefined;
      if (query) return serveQuery(query, { body, path }, res, requestId);
      // Query-protocol clients (STS, CloudFormation) name the operation in the form body.
      const action = decision.protocol === 'query' ? new URLSearchParams(body.toString('utf8')).get('Action') : null;
      return writeOther(res, action ? { ...decision, operation: action } : decision, requestId);
    }
  }
}

/** IAM's refusal of a sandbox's request its role's policies do not allow (iam-enforcement.ts). */
function iamRefusal(
  services: Services,
  req: IncomingMessage,
  facts: Omit<RequestFacts, 'target' | 'accountId'>,
): Promise<IamRefusal | undefined> | undefined {
  const target = first(req.headers['x-amz-target']);
  const keyId = signingKeyId(first(req.headers.authorization));
  return services.access?.check(keyId, { ...facts, target, accountId: services.accountId });
}

/** A request whose Host is not a loopback name (DNS rebinding), or sent by another origin's page. */
function refuseForeign(req: IncomingMessage, res: ServerResponse, service: string, requestId: string): void {
  const seen = `Host ${JSON.stringify(req.headers.host ?? '')}, Origin ${JSON.stringify(req.headers.origin ?? '')}`;
  const message =
    'The local mesh answers only requests to 127.0.0.1, localhost or [::1] from no page or a loopback page ' +
    `(${seen}); use http://127.0.0.1:<port>`;
  writeError(res, new AwsError('AccessDeniedException', 403, message), protocolOf(service), requestId, service);
}

/**
 * A request signed for a region AWS does not have (nor the stacks name): AWS's answer to a credential
 * scoped to no region it serves (403 from Lambda's REST API, 400 from the JSON protocols' services).
 */
function refuseRegion(res: ServerResponse, service: string, region: string, requestId: string): void {
  const protocol = protocolOf(service);
  const message = `Credential should be scoped to a valid region, not '${region}'. `;
  const status = protocol === 'restJson1' ? 403 : 400;
  writeError(res, new AwsError('InvalidSignatureException', status, message), protocol, requestId, service);
}

/** The wire protocol an error to `service` is written in, before its handler has looked at the request. */
function protocolOf(service: string): WireProtocol {
  return service === 'dynamodb' ? 'awsJson1_0' : service === 'secretsmanager' ? 'awsJson1_1' : 'restJson1';
}

/** A request to one of the JSON-protocol services the endpoint was given (CodeDeploy, CloudWatch). */
async function serveJson(
  json: JsonService,
  call: { readonly name: string; readonly operation: string },
  body: Buffer,
  region: string,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  try {
    const result = await json.handle(call.operation, parseJsonObject(body), region);
    const type = `application/x-amz-json-${json.protocol === 'awsJson1_0' ? '1.0' : '1.1'}`;
    writeJson(res, 200, result, type, requestId);
  } catch (err) {
    writeError(res, toAwsError(err), json.protocol, requestId, call.name);
  }
}

/** A request to one of the query-protocol services the endpoint was given (SNS, SQS). */
async function serveQuery(
  query: QueryService,
  request: { readonly body: Buffer; readonly path: string },
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  let xml: string;
  try {
    xml = await query.handle(new URLSearchParams(request.body.toString('utf8')), requestId, request.path);
  } catch (err) {
    writeError(res, toAwsError(err), 'awsQuery', requestId, 'query');
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}

function serveSecrets(
  services: Services,
  region: string | undefined,
  operation: string,
  body: Buffer,
  res: ServerResponse,
  requestId: string,
) {
  try {
    const input = parseJsonObject(body);
    // A secret ARN names its region: it is looked up there, as the SecretId says (if that region
    // exists; otherwise in the request's, where no secret has that ARN).
    const named = secretRegion(input);
    const { secrets, rotation } = services.secretsIn(named !== undefined && services.serves(named) ? named : region);
    const result = handleSecrets(secrets, operation, input, rotation);
    writeJson(res, 200, result, 'application/x-amz-json-1.1', requestId);
  } catch (err) {
    writeError(res, toAwsError(err), 'awsJson1_1', requestId, 'secretsmanager');
  } finally {
    // RotateSecret, CancelRotateSecret, DeleteSecret and the like may move a scheduled rotation.
    if (!/^(Get|Describe|List)/.test(operation)) services.schedule.arm();
  }
}

function serveIam(store: RolePolicies, body: Buffer, res: ServerResponse, requestId: string): void {
  let status = 200;
  let xml: string;
  try {
    xml = handleIam(store, new URLSearchParams(body.toString('utf8')), requestId);
  } catch (err) {
    const e = toAwsError(err);
    status = e.status;
    xml = iamErrorXml(e, requestId);
  }
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}

async function serveLambda(
  lambda: LambdaContext,
  request: Parameters<typeof handleLambda>[1],
  res: ServerResponse,
): Promise<void> {
  const { requestId } = request;
  try {
    const out = await handleLambda(lambda, request);
    const payload = out.raw ?? (out.json !== undefined ? Buffer.from(JSON.stringify(out.json)) : Buffer.alloc(0));
    res.writeHead(out.status, {
      'x-amzn-requestid': requestId,
      ...(out.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...out.headers,
      'content-length': payload.length,
    });
    res.end(payload);
  } catch (err) {
    writeError(res, toAwsError(err), 'restJson1', requestId, 'lambda');
  }
}

/**
 * A request whose body does not fit in what the endpoint holds: throttled at once (Lambda's
 * TooManyRequestsException, the awsJson services' ThrottlingException; the SDKs retry both), its body
 * read and dropped, so a client that writes it all before reading gets this answer, not a broken pipe.
 */
function throttleBody(
  req: IncomingMessage,
  res: ServerResponse,
  service: string,
  protocol: 'restJson1' | 'awsJson1_1',
  requestId: string,
): void {
  req.resume();
  const message = 'Rate exceeded: the local endpoint holds as many request bodies as it takes at once';
  const error =
    protocol === 'restJson1'
      ? new AwsError('TooManyRequestsException', 429, message, { Reason: 'CallerRateLimitExceeded' })
      : new AwsError('ThrottlingException', 400, message);
  writeError(res, error, protocol, requestId, service);
}

/** How large a request's body may be, and the error (in its service's protocol) past that. */
function bodyLimit(
  service: string,
  path: string,
): { bytes: number; error: AwsError; protocol: 'restJson1' | 'awsJson1_1' } {
  if (service !== 'lambda') {
    const error = new AwsError(
      'RequestEntityTooLargeException',
      413,
      `Request must be smaller than ${MAX_BODY_BYTES} bytes`,
    );
    return { bytes: MAX_BODY_BYTES, error, protocol: 'awsJson1_1' };
  }
  if (!path.endsWith('/invocations')) {
    const error = new AwsError(
      'RequestEntityTooLargeException',
      413,
      `Request must be smaller than ${LAMBDA_REQUEST_BYTES} bytes`,
    );
    return { bytes: LAMBDA_REQUEST_BYTES, error, protocol: 'restJson1' };
  }
  const error = new AwsError(
    'RequestEntityTooLargeException',
    413,
    `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
  );
  return { bytes: INVOKE_REQUEST_BYTES, error, protocol: 'restJson1' };
}

/**
 * Reads the whole body. Past the cap it keeps draining, so the client (which may send it all before it
 * reads: the aws CLI) gets our 413 rather than a broken pipe, but stores nothing.
 */
function readBody(req: IncomingMessage, cap: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > cap ? 'too-large' : Buffer.concat(chunks)));
    // A client that hangs up mid-body: nothing to answer (the first settle wins; 'close' also follows 'end').
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError('SerializationException', 400, 'The request body is not a JSON object.');
}

function writeJson(res: ServerResponse, status: number, value: unknown, contentType: string, requestId: string): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

/** A service the endpoint does not speak: the error shape its clients parse, naming the operation. */
function writeOther(
  res: ServerResponse,
  d: { name: string; operation: string; protocol: 'json' | 'rest' | 'query' },
  requestId: string,
): void {
  const service = d.name;
  if (d.protocol === 'query') {
    // Query protocol (STS, CloudFormation, ...): XML error, code InvalidAction.
    const message = `lambda-mesh local endpoint does not support ${service}.${d.operation}`;
    writeError(res, new AwsError('InvalidAction', 400, message), 'awsQuery', requestId, service);
    return;
  }
  const protocol = d.protocol === 'json' ? 'awsJson1_1' : 'restJson1';
  writeError(res, unsupported(service, d.operation, protocol), protocol, requestId, service);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
