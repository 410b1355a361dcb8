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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackRequest } from '../../shared/loopback';
import type { EndpointInvoker, EndpointRegistry } from './backend';
import { createPolicyTable, type DynamoOptions, seedItems, startDynamo } from './dynamodb';
import { AwsError, toAwsError, unsupported, writeError } from './errors';
import { SYNC_PAYLOAD_LIMIT } from './invoke';
import { handleLambda } from './lambda';
import type { LambdaContext } from './lambda-context';
import { checkRotationFunction, runRotation } from './rotation';
import { SecretStore } from './secret-store';
import { handleSecrets, type RotationHooks, secretRegion } from './secrets';
import { routeService, signingRegion } from './service-router';

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
  /** Embedded dynalite options, or a DynamoDB endpoint to proxy to. @default embedded dynalite */
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
   * More AWS services on JSON protocols, by signing name (SigV4 credential scope) or target prefix:
   * `handle(operation, input, region)` answers with the output object or throws an AwsError.
   */
  readonly jsonServices?: Readonly<Record<string, JsonService>>;
}

/** A service on an awsJson protocol the endpoint hands requests to (the local mesh's CodeDeploy, CloudWatch). */
export interface JsonService {
  readonly protocol: 'awsJson1_0' | 'awsJson1_1';
  handle(operation: string, input: Record<string, unknown>, region: string): unknown;
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
/** Lambda's cap on a request (a 50 MB package, base64 in JSON: recorded AWS errors). */
const LAMBDA_REQUEST_BYTES = 70_167_211;

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const secrets =
    options.secrets ??
    options.regions?.(options.registry.region ?? 'us-east-1').secrets ??
    new SecretStore({ region: options.registry.region, accountId: options.registry.accountId });
  const dynamo = startDynamo(options.dynamo);
  const log = options.log ?? ((line: string) => process.stderr.write(`[endpoint] ${line}\n`));
  let closed = false;
  const home = options.registry.region ?? 'us-east-1';
  const accountId = options.registry.accountId ?? '000000000000';
  let codeRoot: string | undefined;
  let uploads = 0;
  const newCodeDir = () => {
    codeRoot ??= mkdtempSync(join(tmpdir(), 'lambda-mesh-code-'));
    const dir = join(codeRoot, String(++uploads));
    mkdirSync(dir);
    return dir;
  };
  const backendOf = (region: string | undefined): { region: string } & RegionBackend =>
    options.regions
      ? { region: region ?? home, ...options.regions(region ?? home) }
      : { region: home, registry: options.registry, secrets };
  const lambdaContext = (backend: { region: string } & RegionBackend): LambdaContext => ({
    registry: backend.registry,
    invoker: options.invoker,
    region: backend.region,
    accountId,
    onBackgroundError: log,
    isClosed: () => closed,
    newCodeDir,
  });
  const rotationHooks = (backend: { region: string } & RegionBackend): RotationHooks => {
    const lambda = lambdaContext(backend);
    return {
      check: (arn) => checkRotationFunction(lambda, arn),
      start: (job) => void runRotation(lambda, backend.secrets, job),
    };
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err) => {
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

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const decision = routeService(method, path, req.headers);
    const requestId = randomUUID();

    if (!isLoopbackRequest(req.headers)) {
      const seen = `Host ${JSON.stringify(req.headers.host ?? '')}, Origin ${JSON.stringify(req.headers.origin ?? '')}`;
      const message =
        'The local mesh answers only requests to 127.0.0.1, localhost or [::1] from no page or a loopback page ' +
        `(${seen}); use http://127.0.0.1:<port>`;
      const protocol =
        decision.service === 'dynamodb'
          ? 'awsJson1_0'
          : decision.service === 'secretsmanager'
            ? 'awsJson1_1'
            : 'restJson1';
      return writeError(res, new AwsError('AccessDeniedException', 403, message), protocol, requestId);
    }

    if (decision.service === 'mesh') {
      const handled = options.extraRoutes ? await options.extraRoutes(req, res) : false;
      if (!handled && !res.headersSent)
        writeError(res, new AwsError('NotFoundException', 404, `No mesh route for ${path}`), 'restJson1', requestId);
      return;
    }

    const cap = decision.service === 'lambda' ? LAMBDA_REQUEST_BYTES : MAX_BODY_BYTES;
    const body = await readBody(req, cap);
    if (body === 'too-large') {
      const protocol = decision.service === 'lambda' ? 'restJson1' : 'awsJson1_1';
      return writeError(
        res,
        new AwsError('RequestEntityTooLargeException', 413, `Request must be smaller than ${cap} bytes`),
        protocol,
        requestId,
      );
    }
    const region = signingRegion(first(req.headers.authorization));
    if (body === 'aborted') return;

    switch (decision.service) {
      case 'dynamodb':
        return dynamo.handle(req, body, res);

      case 'secretsmanager': {
        try {
          const input = parseJsonObject(body);
          // A secret ARN names its region: it is looked up there, as the SecretId says.
          const backend = backendOf(secretRegion(input) ?? region);
          const result = handleSecrets(backend.secrets, decision.operation, input, rotationHooks(backend));
          return writeJson(res, 200, result, 'application/x-amz-json-1.1', requestId);
        } catch (err) {
          return writeError(res, toAwsError(err), 'awsJson1_1', requestId);
        }
      }

      case 'lambda': {
        // Cheap early cut: no Invoke may exceed the sync payload limit.
        if (body.length > SYNC_PAYLOAD_LIMIT + 1024 * 1024 && path.endsWith('/invocations')) {
          return writeError(
            res,
            new AwsError(
              'RequestEntityTooLargeException',
              413,
              `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
            ),
            'restJson1',
            requestId,
          );
        }
        try {
          const ctx = lambdaContext(backendOf(region));
          const out = await handleLambda(ctx, { method, url, headers: req.headers, body, requestId });
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
        return;
      }

      case 'other': {
        const json = decision.protocol === 'json' ? options.jsonServices?.[decision.name] : undefined;
        if (json) {
          try {
            const result = await json.handle(decision.operation, parseJsonObject(body), region ?? home);
            const type = `application/x-amz-json-${json.protocol === 'awsJson1_0' ? '1.0' : '1.1'}`;
            return writeJson(res, 200, result, type, requestId);
          } catch (err) {
            return writeError(res, toAwsError(err), json.protocol, requestId);
          }
        }
        // Query-protocol clients (STS, CloudFormation) name the operation in the form body.
        const action = decision.protocol === 'query' ? new URLSearchParams(body.toString('utf8')).get('Action') : null;
        return writeOther(res, action ? { ...decision, operation: action } : decision, requestId);
      }
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4566, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await dynamo.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      e.message = `${e.message}: another process holds port ${options.port}; stop it or pick another port`;
    throw e;
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
      if (codeRoot) rmSync(codeRoot, { recursive: true, force: true });
    },
  };
}

/** Reads the whole body; past the cap it keeps draining (so the client reads our 413) but stores nothing. */
function readBody(req: IncomingMessage, cap: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) chunks.push(chunk);
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

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
