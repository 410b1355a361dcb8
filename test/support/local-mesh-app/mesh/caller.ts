/** Calls `target` through the mesh `count` times at once and reports each outcome. */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly target: string;
  readonly count?: number;
  readonly body?: unknown;
}

export async function handler(event: Ask): Promise<unknown> {
  const count = event.count ?? 1;
  const results = await Promise.allSettled(
    Array.from({ length: count }, () => mesh.call(event.target, event.body ?? {})),
  );
  return results.map((r) =>
    r.status === 'fulfilled'
      ? { ok: true, value: r.value }
      : { ok: false, error: (r.reason as Error).name, message: (r.reason as Error).message },
  );
}
