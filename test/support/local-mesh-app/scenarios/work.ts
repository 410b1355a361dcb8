/**
 * Does what the request asks: `ok` answers with the call's key and attempt, `throw` fails, `hang`
 * waits `ms` (past the function's one-second timeout) before it would answer.
 */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly act?: 'ok' | 'throw' | 'hang';
  readonly ms?: number;
}

export async function handler(event: Ask): Promise<unknown> {
  const context = mesh.context();
  if (event.act === 'throw') throw new Error(`asked to fail (attempt ${context?.attempt})`);
  if (event.act === 'hang') await new Promise((r) => setTimeout(r, event.ms ?? 3_000));
  return { idempotencyKey: context?.idempotencyKey, attempt: context?.attempt };
}
