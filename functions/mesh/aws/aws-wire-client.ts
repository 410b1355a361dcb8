/**
 * One AWS endpoint over kept-alive sockets of node:net or node:tls, each request an HTTP/1.1 exchange
 * written and read by http1-exchange.ts (node:http's client costs a new sandbox ~3 ms more), signed
 * with SigV4 (sigv4.ts) with the function's credentials from the environment, its body read whole.
 * Answers every status (the callers turn an error status into an Error, aws-error.ts); rejects with the
 * socket's own error (`code` ECONNREFUSED, ECONNRESET, ...; a reset or broken pipe before the answer
 * named `TimeoutError`, as the AWS SDK names it), an `AbortError` when the caller's signal fires, a
 * `TimeoutError` after `timeoutMs` without a byte, or a `CredentialsProviderError` before sending.
 *
 * Kept-alive sockets are not reused after the client has been idle for `idleResetMs`: a server closes
 * idle connections (Node's default after 5 s), and a frozen Lambda sandbox wakes up holding sockets
 * whose close it has not read yet. A request written into such a socket fails with ECONNRESET, which
 * cannot tell "never arrived" from "ran and then lost", so the call's outcome would be unknown.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { envCredentials } from './aws-credentials';
import type { AwsEnv } from './aws-endpoint';
import { exchange, requestBytes } from './http1-exchange';
import { canonicalQuery, signRequest } from './sigv4';

/** Past this long without a request in flight, the next one opens a new connection. */
export const IDLE_RESET_MS = 4_000;

export interface AwsWireClientOptions {
  /** The endpoint: `https://lambda.eu-west-1.amazonaws.com`, or a configured one (its path is kept). */
  readonly url: URL;
  readonly region: string;
  /** SigV4 signing name. */
  readonly service: string;
  /** Where the credentials are read from, per request. */
  readonly env: AwsEnv;
  /** What the requests are for, in the credentials error: "invoke other functions". */
  readonly purpose: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default IDLE_RESET_MS */
  readonly idleResetMs?: number;
}

export interface AwsWireRequest {
  readonly method: string;
  /** Appended to the endpoint's path; percent-encoded where it must be. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
  readonly signal?: AbortSignal;
  /** Fail with TimeoutError after this long without a byte. */
  readonly timeoutMs?: number;
}

export interface AwsWireResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class AwsWireClient {
  private readonly basePath: string;
  private readonly now: () => number;
  /** Connected sockets waiting for a request, the most recently used last. */
  private idle: Socket[] = [];
  /** Every open socket, idle or busy (close() ends them all). */
  private readonly open = new Set<Socket>();
  private inFlight = 0;
  private lastSettledAt = 0;
  /** Connections opened (tests read it). */
  connections = 0;

  constructor(private readonly options: AwsWireClientOptions) {
    this.basePath = options.url.pathname.replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  send(req: AwsWireRequest): Promise<AwsWireResponse> {
    const o = this.options;
    let bytes: Buffer;
    try {
      const query = canonicalQuery(req.query);
      const path = `${this.basePath}${req.path}${query ? `?${query}` : ''}`;
      bytes = requestBytes(req.method, path, this.sign(req), req.body);
    } catch (err) {
      return Promise.reject(err);
    }
    const socket = this.socketNow();
    this.inFlight++;
    return exchange(socket, req.method, bytes, {
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      onTimeout: () =>
        Object.assign(new Error(`${o.service} request timed out after ${req.timeoutMs} ms`), { name: 'TimeoutError' }),
    })
      .then((res) => {
        if (res.reusable && !socket.destroyed) this.release(socket);
        return { status: res.status, headers: res.headers, body: res.body };
      })
      .finally(() => {
        this.inFlight--;
        this.lastSettledAt = this.now();
      });
  }

  /** The request's SigV4 headers, signed with the credentials of the function's environment. */
  private sign(req: AwsWireRequest): Record<string, string> {
    const o = this.options;
    const path = `${this.basePath}${req.path}`;
    return signRequest(
      { method: req.method, path, query: req.query, headers: { ...req.headers, host: o.url.host }, body: req.body },
      { region: o.region, service: o.service, credentials: envCredentials(o.env, o.purpose), now: this.now() },
    ).headers;
  }

  /** Closes the kept-alive sockets, and those under a request (tests; a process that is about to exit). */
  close(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
    this.idle = [];
  }

  /** An idle connection to reuse, or a new one (after an idle spell, the old ones are closed first). */
  private socketNow(): Socket {
    const idleMs = this.options.idleResetMs ?? IDLE_RESET_MS;
    if (this.inFlight === 0 && this.now() - this.lastSettledAt > idleMs) this.close();
    let socket = this.idle.pop();
    while (socket?.destroyed) socket = this.idle.pop();
    if (socket) {
      socket.ref();
      return socket;
    }
    return this.connect();
  }

  private connect(): Socket {
    const { url } = this.options;
    const https = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (https ? 443 : 80);
    // node:tls only for https endpoints: a local endpoint needs no TLS machinery.
    const socket: Socket = https
      ? (require('node:tls') as typeof import('node:tls')).connect({
          host,
          port,
          // SNI names a host, never an address (RFC 6066). No ALPN, as the AWS SDK's https agent offers
          // none (a server without it speaks HTTP/1.1): it cost a first request ~0.75 M instructions.
          servername: /^[\d.]+$|:/.test(host) ? undefined : host,
        })
      : (require('node:net') as typeof import('node:net')).connect({ host, port });
    socket.setNoDelay(true);
    this.connections++;
    this.open.add(socket);
    // An idle socket's error (the server closed it) only ends it: the next request opens another.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.open.delete(socket);
      this.idle = this.idle.filter((s) => s !== socket);
    });
    return socket;
  }

  /** Back to the idle list, not holding the process open (as node:http's keep-alive agent does). */
  private release(socket: Socket): void {
    socket.unref();
    this.idle.push(socket);
  }
}
