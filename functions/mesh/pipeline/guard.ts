/**
 * Stage `guard`: a circuit breaker per (target, version) lets the attempt through or ends the call
 * (circuit open, nothing sent), then hears how the attempt ended. Breakers are keyed on the version
 * that ran (X-Amz-Executed-Version): behind the alias the alias's own breaker guards the call, and a
 * seen version whose open time is up gets its half-open probe through the alias.
 */
import { isPublishedVersion } from '../../../shared/names';
import {
  type BreakerPass,
  type BreakerRegistryChange,
  type CircuitBreaker,
  describeOpen,
} from '../resilience/circuit-breaker';
import { countsAsFailure, isOutcomeUnknown, type Outcome } from '../resilience/retry-decision';
import { saw } from '../routing/alias-pin';
import type { AttemptContext, AttemptOutcome, ClientState } from './call-context';
import { unknownOutcome } from './classify';
import { MeshCircuitOpenError } from './errors';
import { ended } from './record';

/** A breaker the attempt went through, with the pass it got. */
interface Admitted {
  readonly version: string;
  readonly breaker: CircuitBreaker;
  readonly pass: BreakerPass;
}

export async function guard(a: AttemptContext, send: () => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
  const { call } = a;
  const breaker = call.client.breakers.get(call.key, a.routeVersion, call.traffic.breaker);
  const pass = breaker.admit(a.now);
  if (!pass) throw circuitOpen(a, breaker);
  const admitted: Admitted = { version: a.routeVersion, breaker, pass };
  const probes = a.behindAlias ? probesBehind(a) : undefined;
  const o = await send();
  settleAll(a, o, admitted, probes);
  return o;
}

function circuitOpen(a: AttemptContext, breaker: CircuitBreaker): Error {
  const { call } = a;
  const open = new MeshCircuitOpenError(
    call.target,
    a.routeVersion,
    `mesh: circuit open for ${call.target} version ${a.routeVersion} (${describeOpen(breaker, a.now)})`,
  );
  // Nothing was sent now, but an earlier attempt may have run: "circuit open" would claim nothing happened.
  const err = isOutcomeUnknown(call.traffic.idempotent, 'not-delivered', call.mayHaveRun)
    ? unknownOutcome(call.target, call.idempotencyKey, a.number - 1, open)
    : open;
  call.version = a.routeVersion;
  call.lastDelivery = 'not-delivered';
  return ended(call, 'circuit-open', err);
}

/**
 * A seen version whose open time is up gets its probe through the alias: half-open now, so its
 * outcome counts if Lambda runs it (the slot is released if Lambda runs another).
 */
function probesBehind(a: AttemptContext): Admitted[] {
  const { call } = a;
  const probes: Admitted[] = [];
  for (const v of a.seen!) {
    const b = call.client.breakers.peek(call.key, v);
    if (b?.state !== 'open' || a.ejected.has(v)) continue;
    const pass = b.admit(a.now);
    if (pass) probes.push({ version: v, breaker: b, pass });
  }
  return probes;
}

function settleAll(a: AttemptContext, o: AttemptOutcome, admitted: Admitted, probes: Admitted[] | undefined): void {
  const { call } = a;
  const { breakers } = call.client;
  const ran = o.version;
  const after = o.endedAt;
  if (a.seen && ran !== a.qualifier) saw(a.seen, ran);
  // The alias's breaker hears about the alias below; a version that ran, on its own breaker.
  const ranBreaker =
    a.behindAlias && ran === a.qualifier ? undefined : breakers.get(call.key, ran, call.traffic.breaker);
  if (ranBreaker) {
    const pass = ranBreaker === admitted.breaker ? admitted.pass : probes?.find((p) => p.version === ran)?.pass;
    settle(ranBreaker, o.outcome, after, pass);
  }
  for (const p of probes ?? []) if (p.version !== ran) p.breaker.release(after, p.pass);
  if (!a.behindAlias) return;
  // The alias fails as a whole only as far as the caller knows: a failure counts on it when no
  // other version seen behind it is healthy (a lone version, or nothing seen yet).
  const versionOnly = countsAsFailure(o.outcome) && ranBreaker !== undefined && healthySibling(a, ran);
  if (versionOnly) admitted.breaker.release(after, admitted.pass);
  else settle(admitted.breaker, o.outcome, after, admitted.pass);
}

/** Whether a version other than `ran` seen behind the alias is healthy (not ejected, breaker not open). */
function healthySibling(a: AttemptContext, ran: string): boolean {
  for (const v of a.seen!) {
    if (v === ran || a.ejected.has(v)) continue;
    if (a.call.client.breakers.peek(a.call.key, v)?.state !== 'open') return true;
  }
  return false;
}

/**
 * Reports an attempt's outcome to a breaker: throttled, denied or a bad request say nothing about
 * the target's health, but a half-open probe that ended so must free its slot (else it waits openMs).
 */
export function settle(b: CircuitBreaker, outcome: Outcome, now: number, pass?: BreakerPass): void {
  if (countsAsFailure(outcome)) b.failure(now, pass);
  else if (outcome === 'success') b.success(now, pass);
  else b.release(now, pass);
}

/**
 * Counts every breaker that opens (an alias's with the version behind it once: `openedWithVersion`), and
 * shares an opened published version with the other sandboxes.
 */
export function watchBreakers(client: ClientState): void {
  const { deps } = client;
  client.breakers.onStateChange((c) => {
    if (c.to !== 'open') return;
    if (!openedWithVersion(client, c)) deps.telemetry.breakerOpened(deps.service, c.target, c.version);
    // Only published versions are shared: an alias (or $LATEST) is not a version others can eject. A
    // breaker of the function in another region (`<target>@<region>`) is this sandbox's own.
    if (!deps.sharedBreakers || !isPublishedVersion(c.version) || c.target.includes('@')) return;
    try {
      deps.sharedBreakers.opened(c.target, c.version, c.at, c.openMs);
    } catch {
      // Sharing is best effort; the local breaker already protects this sandbox.
    }
  });
}

/**
 * Whether an alias's breaker opened at the instant the breaker of a version seen behind it did: the one
 * attempt that failed on that version opened both (`settleAll` settles the version's breaker first, then
 * the alias's, which fails as a whole when no other version behind it is healthy: a lone version). That is
 * one failure: breaker_open_total counts it once, under the version that failed. The alias's own opening
 * counts when no version's opened with it (an answer that named no version, a timeout).
 */
export function openedWithVersion(client: ClientState, c: BreakerRegistryChange): boolean {
  const seen = client.aliases.behind(c.target, c.version);
  if (!seen) return false; // a version, or an alias no answer named a version behind yet
  for (const v of seen) {
    if (client.breakers.peek(c.target, v)?.openedAt === c.at) return true;
  }
  return false;
}
