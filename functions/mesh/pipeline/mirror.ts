/**
 * Mirroring (the route's `mirror`): with the first attempt, a copy of the call to the shadow version,
 * fire-and-forget; its answer and errors are dropped, and it never affects the real call. Not for an
 * HTTP target: its URL names no version, so a "mirror" would repeat the real call.
 */

import { chooseMirror } from '../routing/route-choice';
import type { AttemptContext } from './call-context';
import { sign } from './sign';

export function mirror(a: AttemptContext): void {
  // The copy is sent apart: a target without a mirror never compiles it.
  if (a.number === 1 && !a.call.overHttp && a.call.policy.route?.mirror) sendMirror(a);
}

function sendMirror(a: AttemptContext): void {
  const { call } = a;
  const shadow = chooseMirror(call.policy.route, call.client.random);
  if (!shadow) return;
  try {
    const ac = new AbortController();
    const clientContext = sign(call, a.timeout.deadline, 1, undefined, true);
    const timer = setTimeout(() => ac.abort(), a.timeout.timeoutMs);
    call.transport
      .invoke({
        functionName: call.functionName,
        qualifier: shadow,
        payload: call.bytes,
        clientContext,
        signal: ac.signal,
      })
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
  } catch {
    // Signing failed: the mirror is dropped, the real call goes on.
  }
}
