/**
 * The local HTTP endpoint on 127.0.0.1: `POST $MESH_ENDPOINT/<service>[/…]` with a JSON body runs the
 * same pipeline as `call()` and answers the callee's result as JSON; errors answer JSON with a status
 * (403 denied, 401 unauthenticated, 504 timeout, 503 circuit open, 502 remote error, 429 throttled).
 *
 * Opened at init so MESH_ENDPOINT is in process.env before the user's module loads. The socket is
 * bound synchronously through the TCP handle (port 0 needs its number at once), and `http` is
 * required one tick later: `http` costs several ms of module init, and nothing connects before then.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ENV, META } from '../../shared/names';
import { errorBody, MeshCallError } from './errors';
import type { MeshRuntime } from './mesh-runtime';
// Note: only types from the runtime here; the endpoint is on the init path.

export interface MeshEndpoint {
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
  const wanted = options.port ?? (Number(env[ENV.endpointPort]) || 0);
  let server: Server | undefined;
  let closed = false;
  const adopt = () => {
    if (server || closed) return;
    const http = require('node:http') as typeof import('node:http');
    const get = typeof rt === 'function' ? rt : () => rt;
    server = http.createServer((req, res) => void handle(get(), req, res));
    server.keepAliveTimeout = 60_000;
    server.on('error', () => undefined);
    if (bound) {
      const tcp = bound.handle;
      // net's listen installs its own onconnection on the handle. Connections keep queueing until
      // 'listening' has fired, then go through it: http tracks connections from then on, and close()
      // can end only those it tracks (an untracked keep-alive socket held close() for 60 s).
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
      server.unref();
    } else {
      server.listen({ port: wanted, host: '127.0.0.1' }, () => {
        const a = server!.address();
        if (a && typeof a === 'object') port = a.port;
        env[ENV.endpoint] = `http://127.0.0.1:${port}`;
        resolveReady();
      });
      server.unref();
    }
  };
  const bound = bindHandle(wanted, () => setImmediate(adopt));
  let port = bound?.port ?? wanted;
  let resolveReady!: () => void;
  const ready = new Promise<void>((res) => (resolveReady = res));
  if (bound) {
    env[ENV.endpoint] = `http://127.0.0.1:${port}`;
    resolveReady();
  } else {
    adopt(); // no synchronous bind available: MESH_ENDPOINT appears once listening
  }
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    ready,
    close: async () => {
      closed = true;
      if (server) {
        const s = server;
        const done = new Promise<void>((r) => s.close(() => r()));
        s.closeAllConnections?.(); // keep-alive sockets would hold close() for the keep-alive timeout
        await done;
      } else {
        bound?.handle.close();
      }
    },
  };
}

async function handle(rt: MeshRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = req.url ?? '/';
    const service = url.split('?')[0]!.split('/')[1] ?? '';
    if (req.method !== 'POST')
      throw new MeshCallError(`use POST $MESH_ENDPOINT/<service> with a JSON body (got ${req.method} ${url})`, 405);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let payload: unknown = {};
    if (text.trim() !== '') {
      try {
        payload = JSON.parse(text);
      } catch {
        throw new MeshCallError(`the body of POST /${service} must be JSON`, 400);
      }
    }
    const idk = req.headers[META.headers.idempotencyKey] ?? req.headers['idempotency-key'];
    const timeout = Number(req.headers['x-mesh-timeout-ms']);
    const result = await rt.call(decodeURIComponent(service), payload, {
      headers: req.headers as Record<string, string | string[] | undefined>,
      idempotencyKey: typeof idk === 'string' ? idk : undefined,
      timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    });
    const body = JSON.stringify(result === undefined ? null : result);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (err) {
    const { status, body } = errorBody(err);
    const s = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
    res.end(s);
  }
}
