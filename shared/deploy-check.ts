/**
 * The mesh ping: what a gated deployment's pre-traffic hook sends a new version, and what the
 * version's wrapper answers without running the handler. The wrapper answers a ping only after the
 * caller passed the identity and policy checks every call passes, so a ping tells nothing to a caller
 * that could not call the handler anyway.
 *
 *   request:  { "lambda-mesh:ping": { "v": 1, "targets": true } }
 *   answer:   { "lambda-mesh:ping": { "v": 1, service, version, ok, checks: [{ name, ok, detail }] } }
 *
 * `targets: true` asks the version to ping each target it declared in turn (with `targets: false`, so
 * a ping goes one hop and no further). No imports: the runtime loads this on its init path.
 */

/** The key a ping (and its answer) is held under: a plain Invoke event of exactly this shape. */
export const PING_KEY = 'lambda-mesh:ping';

export interface PingRequest {
  readonly v: 1;
  /** Also ping each declared target (one hop). */
  readonly targets: boolean;
}

/** One check of a ping; `name` is what a failed deployment's message names. */
export interface PingCheck {
  /** `identity`, `policy`, or `call <target>`. */
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PingAnswer {
  readonly v: 1;
  readonly service: string;
  readonly version: string;
  readonly ok: boolean;
  readonly checks: readonly PingCheck[];
}

/** The ping event. */
export function pingEvent(targets: boolean): { [PING_KEY]: PingRequest } {
  return { [PING_KEY]: { v: 1, targets } };
}

/** The ping an event holds, or undefined: only an object whose one key is the ping, with v 1. */
export function readPing(event: unknown): PingRequest | undefined {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return undefined;
  const keys = Object.keys(event);
  if (keys.length !== 1 || keys[0] !== PING_KEY) return undefined;
  const p = (event as Record<string, unknown>)[PING_KEY] as Record<string, unknown> | null;
  if (!p || typeof p !== 'object' || p.v !== 1) return undefined;
  return { v: 1, targets: p.targets === true };
}

/** The answer a result holds, or undefined when the result is not a ping answer. */
export function readPingAnswer(result: unknown): PingAnswer | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const a = (result as Record<string, unknown>)[PING_KEY] as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object' || a.v !== 1 || !Array.isArray(a.checks)) return undefined;
  const checks = (a.checks as unknown[]).filter(
    (c): c is PingCheck =>
      !!c &&
      typeof c === 'object' &&
      typeof (c as PingCheck).name === 'string' &&
      typeof (c as PingCheck).ok === 'boolean' &&
      typeof (c as PingCheck).detail === 'string',
  );
  return {
    v: 1,
    service: String(a.service ?? ''),
    version: String(a.version ?? ''),
    ok: a.ok === true && checks.every((c) => c.ok),
    checks,
  };
}

/** "call inventory: MeshDeniedError: ..." for the first failed check, or undefined when all passed. */
export function firstFailure(answer: PingAnswer): string | undefined {
  const failed = answer.checks.find((c) => !c.ok);
  if (failed) return `${failed.name}: ${failed.detail}`;
  return answer.ok ? undefined : 'the version answered the ping as failed without naming a check';
}
