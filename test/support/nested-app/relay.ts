/**
 * Passes a request along `hops` through the mesh, or sends `body` to the channel `send` at the last
 * hop, and answers who served it and who called; a refused call is answered by the error's name. A
 * queue's records are logged (`received <json>`).
 */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly hops?: readonly string[];
  readonly send?: string;
  readonly body?: unknown;
  readonly Records?: readonly { body: string }[];
}

export async function handler(event: Ask): Promise<unknown> {
  const at = process.env.MESH_SERVICE;
  const from = mesh.context()?.source;
  for (const r of event.Records ?? [])
    console.log(`received ${JSON.stringify({ at, from, body: JSON.parse(r.body) })}`);
  const [next, ...rest] = event.hops ?? [];
  try {
    if (next) return { at, from, next: await mesh.call(next, { ...event, hops: rest }) };
    if (event.send) return { at, from, sent: await mesh.send(event.send, event.body ?? {}) };
  } catch (err) {
    return { at, from, refused: (err as Error).name };
  }
  return { at, from };
}
