/**
 * A function's identity before it exists. The deploy issues every identity before the function's
 * version and alias do, but a secret can still be missing, unreadable or hold no identity (a manual
 * change, a failed issuance). Then the function does not crash or fail every invocation with a raw
 * error: its mesh calls are refused (inbound as unauthenticated with reason `identity-unavailable`,
 * outbound with MeshIdentityUnavailableError), each failed load is logged with its reason and counted,
 * and the load is tried again at most once per `retryMs`, so the identity is picked up as soon as it
 * appears, without a redeploy.
 */

import { MeshIdentityUnavailableError } from '../errors';
import type { IdentityLike } from '../mesh-runtime';

/** The refusal reason (access log, denied_total) while a function has no identity. */
export const IDENTITY_UNAVAILABLE = 'identity-unavailable';

/** A failed load is tried again after this long (one GetSecretValue per second per sandbox at most). */
export const IDENTITY_RETRY_MS = 1000;

export type LoadedIdentity<T> = { readonly identity: T } | { readonly missing: string };

export interface IdentityLoaderOptions {
  readonly now?: () => number;
  /** @default IDENTITY_RETRY_MS */
  readonly retryMs?: number;
  /** Called once per failed load with its reason (error name and message; never a secret value). */
  readonly onMissing?: (reason: string) => void;
}

export class IdentityLoader<T> {
  private state:
    | { readonly kind: 'loaded'; readonly identity: T }
    | { readonly kind: 'missing'; readonly reason: string; readonly at: number }
    | { readonly kind: 'idle' } = { kind: 'idle' };
  private loading: Promise<LoadedIdentity<T>> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: IdentityLoaderOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The identity, or why there is none yet. Concurrent callers share one load. */
  get(): Promise<LoadedIdentity<T>> {
    const s = this.state;
    // An identity whose certificate has expired reads its secret again before it is used (Identity.ready).
    if (s.kind === 'loaded') {
      const ready = (s.identity as IdentityLike | undefined)?.ready?.();
      return Promise.resolve(ready).then(() => ({ identity: s.identity }));
    }
    if (s.kind === 'missing' && this.now() - s.at < (this.options.retryMs ?? IDENTITY_RETRY_MS)) {
      return Promise.resolve({ missing: s.reason });
    }
    this.loading ??= this.load()
      .then(
        (identity): LoadedIdentity<T> => {
          this.state = { kind: 'loaded', identity };
          return { identity };
        },
        (err: unknown): LoadedIdentity<T> => {
          const reason = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`;
          this.state = { kind: 'missing', reason, at: this.now() };
          this.options.onMissing?.(reason);
          return { missing: reason };
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

/** Stands in for a missing identity: refuses every caller, signs nothing. */
export function unavailableIdentity(service: string, reason: string): IdentityLike {
  return {
    verify: () => ({ ok: false, reason: IDENTITY_UNAVAILABLE }),
    sign: () => {
      throw new MeshIdentityUnavailableError(`mesh: ${service} has no identity yet (${reason})`);
    },
  };
}
