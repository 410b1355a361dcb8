/**
 * The local mesh's AWS endpoint: one HTTP server on 127.0.0.1 that speaks Lambda (restJson1), Secrets
 * Manager (awsJson1_1) and DynamoDB (awsJson1_0, embedded dynalite) on the wire, so the real AWS SDK and
 * the real `aws` CLI work against it through AWS_ENDPOINT_URL. Paths under /_mesh/ go to `extraRoutes`
 * (the dashboard) first. Anything else gets AWS's error shape naming the operation; a malformed request
 * gets an error, never a crash. A request whose Host is not a loopback name (DNS rebinding), or that a
 * page from another origin sent, is refused before anything runs.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackRequest } from '../../shared/loopback';
import type { EndpointInvoker, EndpointRegistry } from './backend';
import { createPolicyTable, type DynamoBackend, type DynamoOptions, seedItems, startDynamo } from './dynamodb';
import { AwsError, toAwsError, unsupported, writeError } from './errors';
import { SYNC_PAYLOAD_LIMIT } from './invoke';
import { handleLambda } from './lambda';
import type { LambdaContext } from './lambda-context';
import { checkRotationFunction, runRotation } from './rotation';
import { SecretStore } from './secret-store';
import { handleSecrets, type RotationHooks } from './secrets';
import { routeService } from './service-router';

export interface EndpointOptions {
  /** @default 4566 (0 = any free port, for tests) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly registry: EndpointRegistry;
  readonly invoker: EndpointInvoker;
  /** @default a new, empty SecretStore */
  readonly secrets?: SecretStore;
  /** Embedded dynalite options, or a DynamoDB endpoint to proxy to. @default embedded dynalite */
  readonly dynamo?: DynamoOptions;
  /** Handles paths under /_mesh/ before AWS dispatch; returns true when it answered. */
  readonly extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Where background failures (async invokes) are reported. @default stderr */
  readonly log?: (line: string) => void;
}

export interface Endpoint {
  /** `http://127.0.0.1:<port>` — give it to clients as `endpoint` or AWS_ENDPOINT_URL. */
  readonly url: string;
  readonly port: number;
  readonly secrets: SecretStore;
  readonly dynamo: {
    /** DynamoDB endpoint (the same server). */
    readonly endpoint: string;
    /** Creates the policy table (pk/sk) if missing and waits until ACTIVE. */
    createPolicyTable(tableName: string): Promise<void>;
    /** Batch-writes plain-object items. */
    seedItems(tableName: string, items: readonly Record<string, unknown>[]): Promise<void>;
  };
  close(): Promise<void>;
}

/** Largest body the endpoint reads (dynalite's own cap); Lambda's 6 MB is checked per operation. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What one request is served with: the stores and contexts every handler shares. */
interface Services {
  readonly lambda: LambdaContext;
  readonly secrets: SecretStore;
  readonly rotation: RotationHooks;
  readonly dynamo: DynamoBackend;
  readonly extraRoutes: EndpointOptions['extraRoutes'];
}

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const secrets =
    options.secrets ?? new SecretStore({ region: options.registry.region, accountId: options.registry.accountId });
  const dynamo = startDynamo(options.dynamo);
  const log = options.log ?? ((line: string) => process.stderr.write(`[endpoint] ${line}\n`));
  let closed = false;
  const lambda: LambdaContext = {
    registry: options.registry,
    invoker: options.invoker,
    region: options.registry.region ?? 'us-east-1',
    accountId: options.registry.accountId ?? '000000000000',
    onBackgroundError: log,
    isClosed: () => closed,
  };
  const rotation: RotationHooks = {
    check: (arn) => checkRotationFunction(lambda, arn),
    start: (job) => void runRotation(lambda, secrets, job),
  };
  const services: Services = { lambda, secrets, rotation, dynamo, extraRoutes: options.extraRoutes };

  const server = createServer((req, res) => {
    serve(services, req, res).catch((err) => {
      // Last resort: handlers turn failures into AWS errors, so this is a bug; answer, do not crash.
      log(`unexpected failure on ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
      if (!res.headersSent) writeError(res, toAwsError(err), 'restJson1', randomUUID());
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  try {
    await listen(server, options.port ?? 4566, options.host ?? '127.0.0.1');
  } catch (err) {
    await dynamo.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    secrets,
    dynamo: {
      endpoint: url,
      createPolicyTable: (tableName) => createPolicyTable(url, tableName),
      seedItems: (tableName, items) => seedItems(url, tableName, items),
    },
    async close() {
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dynamo.close();
    },
  };
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
      writeError(res, new AwsError('NotFoundException', 404, `No mesh route for ${path}`), 'restJson1', requestId);
    return;
  }

  const body = await readBody(req);
  if (body === 'too-large') {
    const protocol = decision.service === 'lambda' ? 'restJson1' : 'awsJson1_1';
    return writeError(
      res,
      new AwsError('RequestTooLargeException', 413, `Request must be smaller than ${MAX_BODY_BYTES} bytes`),
      protocol,
      requestId,
    );
  }
  if (body === 'aborted') return;

  switch (decision.service) {
    case 'dynamodb':
      return services.dynamo.handle(req, body, res);
    case 'secretsmanager':
      return serveSecrets(services, decision.operation, body, res, requestId);
    case 'lambda':
      return serveLambda(services.lambda, { method, url, headers: req.headers, body, requestId }, res);
    case 'other': {
      // Query-protocol clients (STS, CloudFormation) name the operation in the form body.
      const action = decision.protocol === 'query' ? new URLSearchParams(body.toString('utf8')).get('Action') : null;
      return writeOther(res, action ? { ...decision, operation: action } : decision, requestId);
    }
  }
}

/** A request whose Host is not a loopback name (DNS rebinding), or sent by another origin's page. */
function refuseForeign(req: IncomingMessage, res: ServerResponse, service: string, requestId: string): void {
  const seen = `Host ${JSON.stringify(req.headers.host ?? '')}, Origin ${JSON.stringify(req.headers.origin ?? '')}`;
  const message =
    'The local mesh answers only requests to 127.0.0.1, localhost or [::1] from no page or a loopback page ' +
    `(${seen}); use http://127.0.0.1:<port>`;
  const protocol = service === 'dynamodb' ? 'awsJson1_0' : service === 'secretsmanager' ? 'awsJson1_1' : 'restJson1';
  writeError(res, new AwsError('AccessDeniedException', 403, message), protocol, requestId);
}

function serveSecrets(services: Services, operation: string, body: Buffer, res: ServerResponse, requestId: string) {
  try {
    const result = handleSecrets(services.secrets, operation, parseJsonObject(body), services.rotation);
    writeJson(res, 200, result, 'application/x-amz-json-1.1', requestId);
  } catch (err) {
    writeError(res, toAwsError(err), 'awsJson1_1', requestId);
  }
}

async function serveLambda(
  lambda: LambdaContext,
  request: Parameters<typeof handleLambda>[1],
  res: ServerResponse,
): Promise<void> {
  const { body, requestId } = request;
  // Cheap early cut: no Lambda request may exceed the sync payload limit.
  if (body.length > SYNC_PAYLOAD_LIMIT + 1024 * 1024) {
    return writeError(
      res,
      new AwsError(
        'RequestTooLargeException',
        413,
        `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
      ),
      'restJson1',
      requestId,
    );
  }
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
    writeError(res, toAwsError(err), 'restJson1', requestId);
  }
}

/** Reads the whole body; past the cap it keeps draining (so the client reads our 413) but stores nothing. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
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
    const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    res.writeHead(400, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(xml),
      'x-amzn-requestid': requestId,
    });
    res.end(xml);
    return;
  }
  const protocol = d.protocol === 'json' ? 'awsJson1_1' : 'restJson1';
  writeError(res, unsupported(service, d.operation, protocol), protocol, requestId);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
