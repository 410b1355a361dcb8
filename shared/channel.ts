/**
 * Channels: the SQS queues, SNS topics and EventBridge buses a mesh function sends to with
 * `mesh.send(<channel>, payload)`, and the ones it consumes. The deployment is their only source:
 * `MeshFunction.allowSendTo` gives the sender MESH_CHANNELS (channel -> `{ kind, arn, url? }`) and
 * `MeshFunction.receiveFrom` gives the consumer MESH_INBOUND_CHANNELS (channel -> source ARN).
 * A channel's name is a mesh name like a service's: its policy partition lists who may send to it.
 *
 * Used by the constructs (at synth) and the runtime (at the first send or batch). No zod: the runtime's path.
 */
import { SERVICE_NAME_PATTERN } from './names';

export const CHANNEL_KIND = { sqs: 'sqs', sns: 'sns', events: 'events' } as const;
export type ChannelKind = (typeof CHANNEL_KIND)[keyof typeof CHANNEL_KIND];

/** The EventBridge `source` of a mesh message; its `detail-type` is the channel's name (rules match on both). */
export const MESH_EVENT_SOURCE = 'lambda-mesh';

export interface ChannelTarget {
  readonly kind: ChannelKind;
  /** Queue, topic or event bus ARN. */
  readonly arn: string;
  /** The queue URL (SQS only: SendMessage names the queue by URL). */
  readonly url?: string;
}

export type Channels =
  | { readonly ok: true; readonly channels: ReadonlyMap<string, ChannelTarget> }
  | { readonly ok: false; readonly error: string };

const KINDS = Object.values(CHANNEL_KIND) as string[];

/** Parses MESH_CHANNELS (unset or empty = none); a bad value is refused whole, naming the entry. */
export function parseChannels(text: string | undefined): Channels {
  const channels = new Map<string, ChannelTarget>();
  if (text === undefined || text.trim() === '') return { ok: true, channels };
  const raw = parseObject(text);
  if (typeof raw === 'string') return { ok: false, error: raw };
  for (const [name, v] of Object.entries(raw)) {
    const c = (v ?? {}) as Record<string, unknown>;
    const where = `channel ${JSON.stringify(name)}`;
    if (!SERVICE_NAME_PATTERN.test(name)) return { ok: false, error: `${where}: not a mesh name` };
    if (typeof c.kind !== 'string' || !KINDS.includes(c.kind)) {
      return { ok: false, error: `${where}: kind = ${JSON.stringify(c.kind)} must be one of ${KINDS.join(', ')}` };
    }
    if (typeof c.arn !== 'string' || !c.arn.startsWith('arn:')) {
      return { ok: false, error: `${where}: arn = ${JSON.stringify(c.arn)} is not an ARN` };
    }
    if (c.kind === CHANNEL_KIND.sqs && (typeof c.url !== 'string' || !/^https?:\/\//.test(c.url))) {
      return { ok: false, error: `${where}: an SQS channel needs its queue url, got ${JSON.stringify(c.url)}` };
    }
    channels.set(name, { kind: c.kind as ChannelKind, arn: c.arn, ...(c.url ? { url: String(c.url) } : {}) });
  }
  return { ok: true, channels };
}

/** Parses MESH_INBOUND_CHANNELS: channel -> source ARN (unset = none; a bad entry refuses the whole value). */
export function parseInboundChannels(text: string | undefined): ReadonlyMap<string, string> | string {
  const out = new Map<string, string>();
  if (text === undefined || text.trim() === '') return out;
  const raw = parseObject(text);
  if (typeof raw === 'string') return raw;
  for (const [name, arn] of Object.entries(raw)) {
    if (!SERVICE_NAME_PATTERN.test(name) || typeof arn !== 'string' || !arn.startsWith('arn:')) {
      return `inbound channel ${JSON.stringify(name)} -> ${JSON.stringify(arn)}: expected a mesh name and an ARN`;
    }
    out.set(name, arn);
  }
  return out;
}

function parseObject(text: string): Record<string, unknown> | string {
  try {
    const raw = JSON.parse(text) as unknown;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
    return 'not a JSON object';
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
}
