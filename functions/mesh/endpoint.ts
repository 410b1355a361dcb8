/**
 * The local HTTP endpoint on 127.0.0.1: `POST $MESH_ENDPOINT/<service>[/…]` with a JSON body runs the
 * same pipeline as `call()` and answers the callee's result as JSON; errors answer JSON with a status
 * (403 denied, 401 unauthenticated, 504 timeout, 503 circuit open, 502 remote error, 429 throttled).
 * MESH_ENDPOINT is `http://127.0.0.1:<port>/<secret>`: a secret drawn per sandbox, so only this
 * function's processes (which read it from the environment) can make it call as this service; any
 * other request, or one whose Host is not a loopback name, is refused before anything runs.
 *
 * A call through the endpoint belongs to the invocation that makes it (its deadline, trace and
 * idempotency key go on): the one in flight, or, with several at once (Lambda Managed Instances), the
 * one whose Lambda request id the request names in `x-mesh-request-id`.
 *
 * Opened at init when MESH_ENDPOINT_PORT is set (`MeshFunction` prop `localEndpoint`), so MESH_ENDPOINT
 * is in process.env before the user's module loads; this file is then loaded too. The socket is
 * bound synchronously through the TCP handle (port 0 needs its number at once), and `http` is
 * required one tick later: `http` costs several ms of module init, and nothing connects before then.
 */
import type { Server } from 'node:http';
import { ENV } from '../../shared/names';
import type { MeshRuntime } from './mesh-runtime';
// Note: only types from the runtime here; the endpoint is on the init path. What answers a request
// is endpoint-request.ts, its own file in the layer, required with `http` on the first connection.

export interface MeshEndpoint {
  /** `http://127.0.0.1:<port>/<secret>`, what MESH_ENDPOINT holds; append `/<service>`. */
  readonly url: string;
  readonly port: number;
  /** Resolves once the server accepts connections. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface TcpHandle {
  bind(host: string, port: number): number;
  getsockname(out: { port?: number }): number;
  listen(backlog: number): number;
  close(): void;
  onconnection?: (...args: unknown[]) => void;
}

function bindHandle(
  port: number,
  onFirst: () => void,
): { handle: TcpHandle & { early?: unknown[][] }; port: number } | undefined {
  try {
    type TcpWrap = { TCP: new (kind: number) => TcpHandle; constants: { SERVER: number } };
    const { TCP, constants } = (process as unknown as { binding(n: string): TcpWrap }).binding('tcp_wrap');
    const handle = new TCP(constants.SERVER) as TcpHandle & { early?: unknown[][]; unref?(): void };
    // bind + listen now: the port is known at once and the kernel accepts connections from here on.
    if (handle.bind('127.0.0.1', port) !== 0 || handle.listen(511) !== 0) {
      handle.close();
      return undefined;
    }
    // Until `http` adopts the handle (on the first connection), connections wait here.
    handle.early = [];
    handle.onconnection = (...args: unknown[]) => {
      handle.early?.push(args);
      if (handle.early?.length === 1) onFirst();
    };
    handle.unref?.();
    const out: { port?: number } = {};
    handle.getsockname(out);
    return { handle, port: out.port! };
  } catch {
    return undefined;
  }
}

/**
 * Starts the endpoint for `rt` and sets MESH_ENDPOINT. `http` is required only when the first
 * connection arrives: apps that never use the endpoint never pay for it.
 */
export function startEndpoint(
  rt: MeshRuntime | (() => MeshRuntime),
  options: { port?: number; env?: NodeJS.ProcessEnv } = {},
): MeshEndpoint {
  const env = options.env ?? process.env;
  return new LocalEndpoint(
    typeof rt === 'function' ? rt : () => rt,
    env,
    options.port ?? (Number(env[ENV.endpointPort]) || 0),
  );
}

class LocalEndpoint implements MeshEndpoint {
  readonly ready: Promise<void>;
  private readonly secret = sandboxSecret();
  private readonly bound: ReturnType<typeof bindHandle>;
  private server: Server | undefined;
  private closed = false;
  private boundPort: number;
  private resolveReady!: () => void;

  constructor(
    private readonly runtime: () => MeshRuntime,
    private readonly env: NodeJS.ProcessEnv,
    wanted: number,
  ) {
    this.ready = new Promise<void>((res) => (this.resolveReady = res));
    this.bound = bindHandle(wanted, () => setImmediate(() => this.adopt()));
    this.boundPort = this.bound?.port ?? wanted;
    if (this.bound) this.announce();
    else this.adopt(); // no synchronous bind available: MESH_ENDPOINT appears once listening
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}/${this.secret}`;
  }

  get port(): number {
    return this.boundPort;
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.server;
    if (!s) {
      this.bound?.handle.close();
      return;
    }
    const done = new Promise<void>((r) => s.close(() => r()));
    s.closeAllConnections?.(); // keep-alive sockets would hold close() for the keep-alive timeout
    await done;
  }

  private announce(): void {
    this.env[ENV.endpoint] = this.url;
    this.resolveReady();
  }

  /** Creates the HTTP server (requiring `http` now) on the bound handle, or on a port of its own. */
  private adopt(): void {
    if (this.server || this.closed) return;
    const http = require('node:http') as typeof import('node:http');
    const { handleEndpointRequest } = require('./endpoint-request') as typeof import('./endpoint-request');
    const server = http.createServer((req, res) => void handleEndpointRequest(this.runtime, this.secret, req, res));
    this.server = server;
    server.keepAliveTimeout = 60_000;
    server.on('error', () => undefined);
    if (this.bound) listenOnHandle(server, this.bound.handle);
    else {
      server.listen({ port: this.boundPort, host: '127.0.0.1' }, () => {
        const a = server.address();
        if (a && typeof a === 'object') this.boundPort = a.port;
        this.announce();
      });
    }
    server.unref();
  }
}

/**
 * Hands the bound handle to `server`. net's listen installs its own onconnection on the handle.
 * Connections keep queueing until 'listening' has fired, then go through it: http tracks connections
 * from then on, and close() can end only those it tracks (an untracked keep-alive socket held close()
 * for 60 s).
 */
function listenOnHandle(server: Server, tcp: TcpHandle & { early?: unknown[][] }): void {
  const queue = tcp.onconnection;
  server.listen(tcp as unknown as number);
  const accept = tcp.onconnection;
  tcp.onconnection = queue;
  server.once('listening', () => {
    tcp.onconnection = accept;
    const early = tcp.early ?? [];
    tcp.early = undefined;
    for (const args of early) tcp.onconnection?.(...args);
  });
}

/**
 * 144 random bits for the URL path, base64url (no escaping in any client). Read from /dev/urandom:
 * loading node:crypto at init costs ~3 ms (it pulls in the stream modules); crypto only where there is
 * no /dev/urandom.
 */
function sandboxSecret(): string {
  const bytes = Buffer.alloc(18);
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      if (fs.readSync(fd, bytes, 0, bytes.length, null) === bytes.length) return bytes.toString('base64url');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no /dev/urandom: fall through
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(bytes.length).toString('base64url');
}
