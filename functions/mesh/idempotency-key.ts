/**
 * The idempotency key of an outbound call. Outside an invocation (or one that carried no key) it is
 * a new UUID. Inside one, it is derived from the invocation's key, the target and the call's place
 * among this invocation's calls to that target: when the caller's caller repeats the invocation with
 * the same key (a retry on an idempotent edge, a replayed token), every call downstream carries the
 * same keys again, so a callee that deduplicates does the work once, however deep it sits.
 */
import { createHash, randomUUID } from 'node:crypto';

/** What the key needs of the invocation being served (invocation-scope.ts). */
export interface KeyScope {
  readonly idempotencyKey?: string;
  /** Calls made so far per target in this invocation. */
  readonly calls?: Map<string, number>;
}

export function outboundKey(scope: KeyScope | undefined, target: string): string {
  if (!scope?.idempotencyKey || !scope.calls) return randomUUID();
  const n = (scope.calls.get(target) ?? 0) + 1;
  scope.calls.set(target, n);
  return derivedKey(scope.idempotencyKey, target, n);
}

/** The n-th call to `target` of an invocation with key `parent` (1-based). */
export function derivedKey(parent: string, target: string, n: number): string {
  return createHash('sha256')
    .update(JSON.stringify([parent, target, n]))
    .digest('base64url')
    .slice(0, 32);
}
