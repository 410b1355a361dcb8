/**
 * Sends (sub)segment documents to the X-Ray daemon as UDP datagrams (AWS X-Ray Developer Guide, "Sending segment
 * documents to the X-Ray daemon"):
 * `{"format":"json","version":1}\n<document>` to AWS_XRAY_DAEMON_ADDRESS (default 127.0.0.1:2000).
 *
 * Why not Powertools Tracer: it pulls in aws-xray-sdk-core (cls-hooked, its own segment model), whose
 * load cost on the first call was measured by bench/runtime.bench.ts ("powertools load" row) at tens of
 * ms, far over the per-hop budget; the wire format below is the identical datagram the SDK emits.
 */
import type { Socket } from 'node:dgram';

const HEADER = '{"format":"json","version":1}\n';

export interface SegmentDoc {
  readonly name: string;
  readonly id: string;
  readonly trace_id: string;
  readonly parent_id?: string;
  readonly start_time: number;
  readonly end_time: number;
  readonly type?: 'subsegment';
  readonly namespace?: 'remote' | 'aws';
  readonly error?: boolean;
  readonly fault?: boolean;
  readonly throttle?: boolean;
  readonly annotations?: Record<string, string | number | boolean>;
  readonly metadata?: Record<string, Record<string, unknown>>;
  readonly cause?: { exceptions: Array<{ id: string; type?: string; message?: string }> };
}

export class XrayEmitter {
  private socket: Socket | undefined;
  private host = '127.0.0.1';
  private port = 2000;

  constructor(address: string | undefined) {
    const a = address?.split(' ').pop(); // the env may read "tcp:… udp:host:port"
    if (a) {
      const m = /^(?:udp:)?([^:]+):(\d+)$/.exec(a);
      if (m) {
        this.host = m[1]!;
        this.port = Number(m[2]);
      }
    }
  }

  send(doc: SegmentDoc): void {
    if (!this.socket) {
      const dgram = require('node:dgram') as typeof import('node:dgram');
      this.socket = dgram.createSocket('udp4');
      this.socket.on('error', () => undefined); // telemetry never breaks a call
      this.socket.unref();
    }
    const buf = Buffer.from(HEADER + JSON.stringify(doc));
    this.socket.send(buf, this.port, this.host, () => undefined);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
