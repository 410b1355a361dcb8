/**
 * The endpoint's connections, bounded. Each open connection holds a file descriptor, and the endpoint
 * closed none that sat idle (server.ts says why), nor one that never sent a byte (Node's headersTimeout
 * starts with the first byte of a request): a local process opening sockets and sending nothing held
 * them all. At the process's limit of descriptors (EMFILE) Node accepts and drops every new connection,
 * and the endpoint answered no one, the mesh's own workers included; nor could the mesh open a file or
 * start a worker.
 *
 * So the endpoint holds at most `max` connections. At that cap a new connection closes the one idle
 * longest: first those that never completed a request head (silent, or sending one byte at a time),
 * then keep-alive connections between requests. Only when every connection is serving a request is the
 * new one refused, `503` with a message, before anything it sent runs. A connection that has not
 * completed a request head within `firstRequestMs` of opening is closed, as AWS's endpoints close
 * connections left idle. One log line tells when the cap is reached, and again at most every 10 s while
 * it holds.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionCapOptions {
  /** Connections held at once. */
  readonly max: number;
  /** How long a connection may stay open without a complete request head. */
  readonly firstRequestMs: number;
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** One open connection: requests in progress, whether it ever completed a head, since when idle. */
interface Tracked {
  readonly socket: Socket;
  readonly openedAt: number;
  busy: number;
  served: boolean;
  idleSince: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** How often, at most, the cap's log line is written while the cap holds. */
const LOG_EVERY_MS = 10_000;

export class ConnectionCap {
  private readonly open = new Map<Socket, Tracked>();
  private readonly refusedSockets = new WeakSet<Socket>();
  private readonly now: () => number;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private closed = 0;
  private refusedCount = 0;

  constructor(
    server: Server,
    private readonly opts: ConnectionCapOptions,
  ) {
    this.now = opts.now ?? Date.now;
    server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.serving(req.socket, res));
  }

  /** Whether a request came on a connection refused at the cap: it must not run. */
  refused(socket: Socket): boolean {
    return this.refusedSockets.has(socket);
  }

  /** Connections held now. */
  get size(): number {
    return this.open.size;
  }

  private accept(socket: Socket): void {
    if (this.open.size >= this.opts.max) {
      const idle = this.idlest();
      if (!idle) {
        this.refuse(socket);
        return;
      }
      idle.socket.destroy();
      this.forget(idle);
      this.note('closed');
    }
    const now = this.now();
    const tracked: Tracked = { socket, openedAt: now, busy: 0, served: false, idleSince: now };
    tracked.timer = setTimeout(() => {
      if (!tracked.served) socket.destroy();
    }, this.opts.firstRequestMs).unref();
    this.open.set(socket, tracked);
    socket.once('close', () => this.forget(tracked));
  }

  /** A request's head arrived on `socket`: busy until its answer ends (or its connection does). */
  private serving(socket: Socket, res: ServerResponse): void {
    const tracked = this.open.get(socket);
    if (!tracked) return;
    tracked.busy++;
    tracked.served = true;
    clearTimeout(tracked.timer);
    res.once('close', () => {
      tracked.busy--;
      tracked.idleSince = this.now();
    });
  }

  /**
   * The connection to close for a new one: among those serving no request, one that never completed a
   * request head, oldest first; else the one idle longest. Undefined when every one is serving.
   */
  private idlest(): Tracked | undefined {
    let best: Tracked | undefined;
    for (const t of this.open.values()) {
      if (t.busy > 0) continue;
      if (!best || closesBefore(t, best)) best = t;
    }
    return best;
  }

  /** Every connection serves a request: the new one is answered 503 and closed, and nothing it sent runs. */
  private refuse(socket: Socket): void {
    this.refusedSockets.add(socket);
    const body =
      `lambda-mesh local endpoint: all ${this.opts.max} connections it holds are serving requests; ` +
      'retry once one has ended\n';
    socket.end(
      'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n' +
        `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    this.note('refused');
  }

  private forget(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    if (this.open.get(tracked.socket) === tracked) this.open.delete(tracked.socket);
  }

  /** Counts what the cap did; a line when the cap is first reached, then at most every LOG_EVERY_MS. */
  private note(what: 'closed' | 'refused'): void {
    if (what === 'closed') this.closed++;
    else this.refusedCount++;
    const now = this.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    this.loggedAt = now;
    this.opts.log(
      `at its cap of ${this.opts.max} connections: ${this.closed} idle one(s) closed for new ones, ` +
        `${this.refusedCount} new one(s) refused with 503 (every connection serving a request)`,
    );
    this.closed = 0;
    this.refusedCount = 0;
  }
}

/** The order idle connections are closed in: never served first (oldest first), then the longest idle. */
function closesBefore(a: Tracked, b: Tracked): boolean {
  if (a.served !== b.served) return !a.served;
  return a.served ? a.idleSince < b.idleSince : a.openedAt < b.openedAt;
}

/**
 * The cap when none is given: 1,024 connections, or half the descriptors the process may open when that
 * is less (Linux tells it in /proc/self/limits), the other half left to the mesh's workers, files and
 * its own clients.
 */
export function defaultMaxConnections(limits = readLimits()): number {
  const soft = /^Max open files\s+(\d+)/m.exec(limits ?? '')?.[1];
  return soft === undefined ? DEFAULT_MAX : Math.max(1, Math.min(DEFAULT_MAX, Math.floor(Number(soft) / 2)));
}

const DEFAULT_MAX = 1_024;

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined; // not Linux: the default stands
  }
}
