/**
 * An X-Ray daemon stand-in: listens on UDP (loopback by default) for `{"format":"json","version":1}\n` + one
 * (sub)segment JSON per datagram (AWS X-Ray Developer Guide, "Sending segment documents to the X-Ray daemon") and
 * hands each document to the store. Point functions at it with AWS_XRAY_DAEMON_ADDRESS=<address>.
 */
import { createSocket } from 'node:dgram';

/** What the collector feeds: the store's recordSegment. */
export interface SegmentSink {
  recordSegment(doc: unknown): boolean;
}

export interface XrayCollectorOptions {
  /** UDP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export interface XrayCollector {
  /** `host:port`, the form AWS_XRAY_DAEMON_ADDRESS takes. */
  readonly address: string;
  readonly port: number;
  /** Datagrams received, and those rejected (bad header, bad JSON, bad segment). */
  readonly counters: { received: number; rejected: number };
  close(): Promise<void>;
}

/** Splits a daemon datagram into its header and document; undefined when it is not one. */
export function parseDaemonDatagram(msg: Buffer | string): unknown | undefined {
  const text = typeof msg === 'string' ? msg : msg.toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  let header: unknown;
  let doc: unknown;
  try {
    header = JSON.parse(text.slice(0, nl));
    doc = JSON.parse(text.slice(nl + 1));
  } catch {
    return undefined;
  }
  const h = header as { format?: unknown; version?: unknown } | null;
  if (h?.format !== 'json' || h.version !== 1) return undefined;
  return doc;
}

export function startXrayCollector(store: SegmentSink, options: XrayCollectorOptions = {}): Promise<XrayCollector> {
  const host = options.host ?? '127.0.0.1';
  const socket = createSocket('udp4');
  const counters = { received: 0, rejected: 0 };
  socket.on('message', (msg) => {
    counters.received++;
    const doc = parseDaemonDatagram(msg);
    if (doc === undefined || !store.recordSegment(doc)) counters.rejected++;
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, host, () => {
      socket.off('error', reject);
      // After start, a socket error must not crash the mesh; the collector just stops hearing.
      socket.on('error', () => undefined);
      const port = socket.address().port;
      let closed = false;
      resolve({
        address: `${host}:${port}`,
        port,
        counters,
        close: () =>
          new Promise<void>((done) => {
            if (closed) return done();
            closed = true;
            socket.close(() => done());
          }),
      });
    });
  });
}
