/**
 * The filter on the policy table's stream mapping (infra/mesh.ts): the records the version bumper is
 * invoked with. Lambda's event filtering ("Control which events Lambda sends to your function", Lambda
 * Developer Guide) offers equals, prefix, suffix, exists, numeric and `anything-but` with a list of
 * exact values; it has no "does not begin with" and no wildcard, so "the partition key is a service
 * name" (no `#` in it) cannot be said. What can be said is the sort key of a policy item: the version
 * items (`version`), the change items (the bump's mark), shared breaker state (`breaker#<version>`) and
 * rate-limit buckets (`bucket#<scope>`, `SORT_KEY.rateLimitBucket`) are left out, so the bumper is not
 * invoked for its own writes, nor for breaker writes, nor for rate-limit leases. A sort key added to the
 * table must not start like a policy item's, or its writes will reach the bumper (which ignores them,
 * but each batch is an invocation).
 *
 * Every policy item kind must pass: a kind left out would never be bumped by the stream. The list is
 * the kinds `itemKind` (policy-rules.ts) accepts in a service's partition.
 */
import { SORT_KEY } from './names';

/** The sort keys of policy items: exact ones, and the prefixes of the per-source kinds. */
const POLICY_SORT_KEYS = [
  SORT_KEY.service,
  SORT_KEY.traffic,
  SORT_KEY.route,
  SORT_KEY.fault,
  { prefix: SORT_KEY.allow('') },
  { prefix: SORT_KEY.deny('') },
] as const;

/** The filter pattern (one filter of the mapping's FilterCriteria), as an object; Lambda takes it as JSON. */
export const POLICY_STREAM_FILTER = {
  dynamodb: { Keys: { sk: { S: POLICY_SORT_KEYS } } },
} as const;
