/** Sends what it is asked to: `{ to, payload }` with mesh.send, answering the receipt. */
import { mesh } from 'lambda-mesh/runtime';

export async function handler(event: { to: string; payload: unknown }): Promise<unknown> {
  return mesh.send(event.to, event.payload);
}
