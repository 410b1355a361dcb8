/**
 * The outcomes the runtime records for a call (the access log's `outcome`, the trace's `outcome`
 * annotation): the caller's, one per attempt and per call (functions/mesh/resilience/retry-decision.ts
 * derives its `Outcome` from this list), and the callee's wrapper, which adds `deadline-exceeded`: work
 * that arrived after its caller's deadline, refused unstarted. `mesh tap --outcome` accepts these.
 */
export const CALL_OUTCOMES = [
  'success',
  'denied',
  'unauthenticated',
  'deadline-exceeded',
  'timeout',
  'throttled',
  'rate-limited',
  'circuit-open',
  'function-error',
  'service-error',
  'client-error',
] as const;

export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** What `mesh tap --outcome failure` stands for: every outcome but success. */
export const ANY_FAILURE = 'failure';
