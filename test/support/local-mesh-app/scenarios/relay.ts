/**
 * A hop in the middle: waits `waitMs` (work of its own), then calls `target` through the mesh and
 * answers with that call's outcome, as the probe does.
 */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly waitMs?: number;
  readonly target: string;
  readonly body?: unknown;
}

export async function handler(event: Ask): Promise<unknown> {
  await new Promise((r) => setTimeout(r, event.waitMs ?? 0));
  try {
    return { ok: true, value: await mesh.call(event.target, event.body ?? {}) };
  } catch (err) {
    const e = err as Error;
    return { ok: false, error: e.name, message: e.message };
  }
}
