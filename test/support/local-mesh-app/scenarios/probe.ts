/** Calls `target` through the mesh and reports the outcome: the answer, or the error's name and type. */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly target: string;
  readonly body?: unknown;
  /** The call's overall timeout, over the edge's. */
  readonly timeoutMs?: number;
  /** Headers the target's route matches on. */
  readonly headers?: Record<string, string>;
  /** Answer `{ result, meta }`: who served the call. */
  readonly withMeta?: boolean;
}

export async function handler(event: Ask): Promise<unknown> {
  try {
    return {
      ok: true,
      value: await mesh.call(event.target, event.body ?? {}, {
        timeoutMs: event.timeoutMs,
        headers: event.headers,
        withMeta: event.withMeta,
      }),
    };
  } catch (err) {
    const e = err as Error & { errorType?: string; idempotencyKey?: string };
    return { ok: false, error: e.name, errorType: e.errorType, message: e.message, idempotencyKey: e.idempotencyKey };
  }
}
