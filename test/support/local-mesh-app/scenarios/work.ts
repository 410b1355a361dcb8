/**
 * Does what the request asks: `ok` answers with the call's key, attempt and the version that ran,
 * `throw` fails (only on version `onVersion`, when named), `hang` waits `ms` (past the function's
 * one-second timeout) before it would answer.
 */
import { mesh } from 'lambda-mesh/runtime';

interface Ask {
  readonly act?: 'ok' | 'throw' | 'hang';
  readonly ms?: number;
  readonly onVersion?: string;
}

export async function handler(event: Ask): Promise<unknown> {
  const context = mesh.context();
  const version = process.env.AWS_LAMBDA_FUNCTION_VERSION;
  if (event.act === 'throw' && (event.onVersion === undefined || event.onVersion === version))
    throw new Error(`asked to fail (attempt ${context?.attempt})`);
  if (event.act === 'hang') await new Promise((r) => setTimeout(r, event.ms ?? 3_000));
  return { idempotencyKey: context?.idempotencyKey, attempt: context?.attempt, version };
}
