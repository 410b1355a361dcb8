/**
 * Stage `limit`: a call to a target under a mesh-wide rate limit (a `rateLimit` on the target's
 * `traffic` item, or on the edge's `allow#<source>` item) takes one token from each bucket that
 * applies before anything is sent (all or none: tokens of buckets before one that refuses go back); without
 * one it fails fast with MeshRateLimitedError (429) and no Invoke. Tokens come from the sandbox's leased slice (no I/O), and a new slice from one conditional
 * write to the policy table (resilience/rate-limit-lease.ts). A retry takes a token too: retries
 * never spend budget the limit has not granted.
 */
import type { ResolvedRateLimit } from '../../../shared/traffic-precedence';
import { type LeasedBucket, LeasedBuckets } from '../resilience/rate-limit';
import { MemoryLeaser, type RateLimitLeaser } from '../resilience/rate-limit-lease';
import type { AuthorizedCall, ClientState } from './call-context';
import { MeshRateLimitedError } from './errors';
import { ended } from './record';

/** What a client keeps for its rate limits: its shares of the buckets, and the leases in flight. */
export interface RateLimitState {
  readonly buckets: LeasedBuckets;
  readonly leasing: Map<LeasedBucket, Promise<void>>;
  /** Where slices are leased; undefined until the first limited call. */
  leaser?: RateLimitLeaser;
  /** This sandbox alone, when the table cannot be reached (see `lease`). */
  readonly alone: MemoryLeaser;
}

export function rateLimitState(): RateLimitState {
  return { buckets: new LeasedBuckets(), leasing: new Map(), alone: new MemoryLeaser() };
}

export async function limit(call: AuthorizedCall): Promise<void> {
  // Most edges have no rate limit: nothing to take, and a first call compiles none of the buckets' code.
  if (!call.traffic.rateLimits) return;
  const refused = await takeTokens(call);
  if (!refused) return;
  const { rl } = refused;
  const wait = Math.ceil(refused.retryAfterMs);
  const err = new MeshRateLimitedError(
    call.target,
    wait,
    `mesh: the call to ${call.target} is over its rate limit (${rl.perSecond}/s, burst ${rl.burst}, ` +
      `${call.target}/${rl.scope}); nothing was sent, try again in ${wait} ms`,
  );
  throw ended(call, 'rate-limited', err, { reason: `rate limit ${call.target}/${rl.scope}` });
}

/** A token for a retry from every bucket of the call; false: the retry is not sent. */
export async function tokenForRetry(call: AuthorizedCall): Promise<boolean> {
  return (await takeTokens(call)) === undefined;
}

/**
 * A token from every bucket of the call, in order (the service's first), or the bucket that refused.
 * All or none: a call refused by one bucket sends nothing, so the tokens the buckets before it gave
 * go back to this sandbox's slices, and a tight edge limit never drains the service's shared one.
 */
async function takeTokens(call: AuthorizedCall): Promise<{ rl: ResolvedRateLimit; retryAfterMs: number } | undefined> {
  const taken: LeasedBucket[] = [];
  for (const rl of call.traffic.rateLimits ?? []) {
    const retryAfterMs = await takeToken(call, rl);
    if (retryAfterMs === undefined) {
      taken.push(call.client.rateLimits.buckets.get(call.target, rl.scope, rl));
      continue;
    }
    const now = call.client.now();
    for (const bucket of taken) bucket.giveBack(now);
    return { rl, retryAfterMs };
  }
  return undefined;
}

/** Takes one token of `rl`: undefined when taken, else how long until this sandbox asks again. */
async function takeToken(call: AuthorizedCall, rl: ResolvedRateLimit): Promise<number | undefined> {
  const { client } = call;
  const state = client.rateLimits;
  const bucket = state.buckets.get(call.target, rl.scope, rl);
  for (;;) {
    const t = bucket.take(client.now());
    if (t.kind === 'admit') return undefined;
    if (t.kind === 'refuse') return t.retryAfterMs;
    // One lease per bucket at a time: calls that need a token meanwhile wait for it, then take again.
    const inflight = state.leasing.get(bucket);
    if (inflight) {
      await inflight;
      continue;
    }
    let refusedFor: number | undefined;
    const p = lease(client, call.target, rl, bucket, t.want, t.minGrant).then((ms) => {
      refusedFor = ms;
    });
    state.leasing.set(bucket, p);
    try {
      await p;
    } finally {
      state.leasing.delete(bucket);
    }
    return refusedFor;
  }
}

/**
 * Leases a slice; the first token goes to the caller that asked. A table that cannot be reached
 * leaves this sandbox to enforce the limit alone (fail static: calls go on, each sandbox within the
 * limit) and logs why.
 */
async function lease(
  client: ClientState,
  target: string,
  rl: ResolvedRateLimit,
  bucket: LeasedBucket,
  want: number,
  minGrant: number,
): Promise<number | undefined> {
  const state = client.rateLimits;
  state.leaser ??= client.deps.rateLimitLeaser?.() ?? state.alone;
  const req = { target, scope: rl.scope, limits: rl, want, minGrant, now: client.now() };
  let r: Awaited<ReturnType<RateLimitLeaser['lease']>>;
  try {
    r = await state.leaser.lease(req);
  } catch (err) {
    client.deps.telemetry.warn('mesh: could not lease a rate-limit slice; this sandbox enforces the limit alone', {
      target,
      scope: rl.scope,
      error: `${(err as Error)?.name}: ${(err as Error)?.message}`,
    });
    r = await state.alone.lease(req);
  }
  const now = client.now();
  if (r.granted === 0) return bucket.refused(now, r.retryAt ?? now, client.random);
  const startsAt = r.startsAt ?? now;
  // A reserved slice: this call is refused until its turn, the calls after it spend it without a write.
  return bucket.granted(now, r.granted, startsAt) ? undefined : startsAt - now;
}
