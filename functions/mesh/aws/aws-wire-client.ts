/**
 * One AWS endpoint over node:http(s) with keep-alive: each request signed with SigV4 (sigv4.ts) with
 * the function's credentials from the environment, its body read whole. Answers every status (the
 * callers turn an error status into an Error, aws-error.ts); rejects with the socket's own error
 * (`code` ECONNREFUSED, ECONNRESET, ...; a reset or broken pipe named `TimeoutError`, as the AWS SDK
 * names it), an `AbortError` when the caller's signal fires, a `TimeoutError` after `timeoutMs`
 * without a byte, or a `CredentialsProviderError` before sending.
 *
 * Kept-alive sockets are not reused after the client has been idle for `idleResetMs`: a server closes
 * idle connections (Node's default after 5 s), and a frozen Lambda sandbox wakes up holding sockets
 * whose close it has not read yet. A request written into such a socket fails with ECONNRESET, which
 * cannot tell "never arrived" from "ran and then lost", so the call's outcome would be unknown.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Agent } from 'node:https';
import { envCredentials } from './aws-credentials';
import type { AwsEnv } from './aws-endpoint';
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
  private readonly http: typeof import('node:https');
  private readonly basePath: string;
  private readonly now: () => number;
  private agent: Agent | undefined;
  private inFlight = 0;
  private lastSettledAt = 0;
  private readonly sockets = new WeakSet<object>();
  /** Connections opened (tests read it). */
  connections = 0;

  constructor(private readonly options: AwsWireClientOptions) {
    // node:https only for https endpoints: a local endpoint needs no TLS machinery.
    this.http = (
      options.url.protocol === 'https:' ? require('node:https') : require('node:http')
    ) as typeof import('node:https');
    this.basePath = options.url.pathname.replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  send(req: AwsWireRequest): Promise<AwsWireResponse> {
    const o = this.options;
    let headers: Record<string, string>;
    try {
      headers = this.sign(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const query = canonicalQuery(req.query);
    const agent = this.agentNow();
    this.inFlight++;
    return new Promise<AwsWireResponse>((resolve, reject) => {
      const r = this.http.request(
        {
          protocol: o.url.protocol,
          hostname: o.url.hostname,
          port: o.url.port || undefined,
          path: `${this.basePath}${req.path}${query ? `?${query}` : ''}`,
          method: req.method,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(req.body)) },
          agent,
          signal: req.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      r.on('socket', (socket) => {
        if (this.sockets.has(socket)) return;
        this.sockets.add(socket);
        this.connections++;
      });
      if (req.timeoutMs !== undefined) {
        r.setTimeout(req.timeoutMs, () =>
          r.destroy(
            Object.assign(new Error(`${o.service} request timed out after ${req.timeoutMs} ms`), {
              name: 'TimeoutError',
            }),
          ),
        );
      }
      r.on('error', (err: NodeJS.ErrnoException) => {
        // Named as the AWS SDK's HTTP handler names them, so both paths classify alike (a dropped
        // connection is a timeout, its outcome unknown).
        if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ETIMEDOUT') err.name = 'TimeoutError';
        reject(err);
      });
      r.end(req.body);
    }).finally(() => {
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

  /** Closes the kept-alive sockets (tests; a process that is about to exit). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private agentNow(): Agent {
    const idleMs = this.options.idleResetMs ?? IDLE_RESET_MS;
    if (this.agent && this.inFlight === 0 && this.now() - this.lastSettledAt > idleMs) this.close();
    this.agent ??= new this.http.Agent({ keepAlive: true });
    return this.agent;
  }
}
