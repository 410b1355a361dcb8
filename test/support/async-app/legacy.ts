/**
 * A consumer written before the mesh: reads plain SQS messages (`{ order }`) and charges each order
 * with a mesh call to `payments`.
 */
import { mesh } from 'lambda-mesh/runtime';

export async function handler(event: { Records: { body: string }[] }): Promise<unknown> {
  for (const r of event.Records) {
    const { order } = JSON.parse(r.body) as { order: string };
    await mesh.call('payments', { order });
  }
  return { ok: true };
}
