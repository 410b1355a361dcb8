/**
 * Mesh runtimes that send to and consume from channels in one process, over a transport that records
 * what was sent and answers as the queue or Lambda would (a MessageId for a channel message, 202 for an
 * Event invoke), so a test hands the recorded messages on as records. Their lines (EMF and access log)
 * are kept; the policy is the given items, no table.
 */
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { SegmentDoc } from '../../functions/mesh/telemetry/xray-emitter';
import type { InvokeRequest, InvokeTransport } from '../../functions/mesh/transport/invoke-transport';

export class Recorder implements InvokeTransport {
  readonly sent: InvokeRequest[] = [];
  async invoke(req: InvokeRequest) {
    this.sent.push(req);
    return req.metadata
      ? { statusCode: 200, payload: Buffer.from(JSON.stringify({ MessageId: `m-${this.sent.length}` })) }
      : { statusCode: 202, payload: new Uint8Array() };
  }
}

export interface ChannelRuntimeOptions {
  readonly service: string;
  readonly identity: IdentityLike | undefined;
  /** MESH_CHANNELS, MESH_INBOUND_CHANNELS and the like. */
  readonly env: Record<string, string>;
  readonly items: readonly object[];
  readonly transport?: Recorder;
  readonly onSegment?: (doc: SegmentDoc) => void;
}

/** A runtime of `service` in the mesh `shop`, version 1: its lines and its transport beside it. */
export function channelRuntime(o: ChannelRuntimeOptions) {
  const lines: string[] = [];
  const transport = o.transport ?? new Recorder();
  const rt = new MeshRuntime({
    env: o.env,
    config: { meshName: 'shop', service: o.service, functionVersion: '1' },
    policy: { snapshot: { mesh: 'shop', generatedAt: '', items: [...o.items] }, snapshotPath: null },
    transport,
    channelTransport: () => transport,
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => o.identity,
    sleep: async () => undefined,
    onSegment: o.onSegment,
  });
  return { rt, lines, transport };
}
