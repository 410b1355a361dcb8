/**
 * HTTP targets that answer what no HTTP server library would write: a raw HTTP/1.1 listener on
 * 127.0.0.1 that hands each connection to the test once its request's head has arrived, and a caller
 * (`orders`, real runtime and pipeline) whose edge to `payments` goes to a declared HTTP target.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { ENV } from '../../shared/names';

/** How `httpTargetCaller` differs from its defaults. */
export interface HttpTargetCallerOptions {
  /** The edge's timeout. @default 5000 */
  readonly timeoutMs?: number;
  /** The edge's settings instead of `{ timeoutMs }` (the retries stay: 3 attempts, 1-2 ms apart). */
  readonly edge?: Record<string, unknown>;
  /** More policy items beside the edge. */
  readonly extraItems?: readonly unknown[];
  readonly identity?: IdentityLike;
  /** Lambda Invoke. @default one that fails: an HTTP target must not use it */
  readonly invoke?: InvokeTransport['invoke'];
  /** Where the runtime's log and telemetry lines go, one line each. @default nowhere */
  readonly lines?: string[];
  /** The retries' backoff. @default real timers */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A caller `orders` whose edge to `payments` goes to `target` (MESH_HTTP_TARGETS; none: no HTTP
 * targets), with 3 attempts; by default not idempotent, so an attempt that may have reached the
 * handler is not sent again.
 */
export function httpTargetCaller(
  target: { url: string; auth: string } | undefined,
  opts: HttpTargetCallerOptions = {},
): MeshRuntime {
  const { lines } = opts;
  return new MeshRuntime({
    env: target ? { [ENV.httpTargets]: JSON.stringify({ payments: target }) } : {},
    config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
    policy: {
      snapshot: {
        mesh: 'shop',
        generatedAt: '',
        items: [
          { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
          {
            pk: 'payments',
            sk: 'allow#orders',
            source: 'orders',
            ...(opts.edge ?? { timeoutMs: opts.timeoutMs ?? 5_000 }),
            retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
          },
          ...(opts.extraItems ?? []),
        ],
      },
      snapshotPath: null,
      ...(lines ? { log: (l: string) => lines.push(l) } : {}),
    },
    transport: {
      invoke: opts.invoke ?? (() => Promise.reject(new Error('an HTTP target must not use Lambda Invoke'))),
    },
    sink: lines ? (l) => lines.push(...l.split('\n')) : () => undefined,
    identity: async () => opts.identity,
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
}

/** `\n` as HTTP's CRLF, so an answer reads as it goes on the wire. */
export const crlf = (s: string): string => s.replace(/\n/g, '\r\n');

/** A raw HTTP/1.1 listener: `answer` gets each connection once its request's head has arrived. */
export class RawTarget {
  /** Each request's head (request line and headers), in the order they came. */
  readonly heads: string[] = [];
  /** How many connections have closed. */
  closed = 0;
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly answer: (s: Socket) => void) {
    this.server = createServer((s) => this.accept(s));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/pay`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      this.sockets.delete(s);
      this.closed++;
    });
    let seen = '';
    const onData = (c: Buffer) => {
      seen += c.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      this.heads.push(seen.slice(0, end));
      this.answer(s);
    };
    s.on('data', onData);
  }
}

/** Writes `chunk` for as long as the socket takes it. */
export function pumpForever(s: Socket, chunk: string): void {
  const pump = () => {
    while (s.writable && s.write(chunk)) {
      // fill the socket's buffer, then wait for it to drain
    }
    if (s.writable) s.once('drain', pump);
  };
  pump();
}

/** How long `p` took to settle, and its error (undefined when it resolved). */
export async function settled(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, error: undefined };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}
