/**
 * `checkPolicyItem`: the runtime's check of a raw policy item, written by hand over ./policy-rules so
 * a cold sandbox does not load zod (compiling and building the schemas took more of the first request
 * than the rest of the inbound check together). It accepts and refuses exactly what the zod/mini
 * schemas of ./policy.ts do (the contract), with the same refusal text: the first field that fails,
 * fields in the schema's order, an object's unknown fields after its own fields, lengths in code
 * points (test/unit/policy-item-check.test.ts holds the two together over random items).
 *
 * Items are JSON (a snapshot file, an unmarshalled DynamoDB item): plain objects, arrays, strings,
 * numbers, booleans and null. The item handed back is the raw object itself, as zod's copy would be.
 */
import { EXTERNAL, MANAGED_BY, PUBLISHED_VERSION_PATTERN, SERVICE_NAME_PATTERN } from './names';
import type { PolicyItem } from './policy';
import {
  BREAKER_PARTITION_PATTERN,
  BREAKER_STATES,
  crossFieldError,
  fieldsRule,
  type ItemIssue,
  issueText,
  itemKind,
  itemWhere,
  LAMBDA_FUNCTION_ARN_PATTERN,
  LIMITS,
  notAnItem,
  type ParseResult,
  type PolicyItemKind,
  type RangeName,
  RETRY_ON,
  RULES,
  rangeRule,
  TEXT_LIMITS,
  textLengthRule,
  textRule,
  tooManyMatchesRule,
  tooManyVersionsRule,
  unknownKind,
} from './policy-rules';

type Path = readonly PropertyKey[];
/** Checks one value at `path`: undefined when it passes, else the first issue. */
type Check = (value: unknown, path: Path) => ItemIssue | undefined;
type Shape = Readonly<Record<string, Check>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const when =
  (ok: (v: unknown) => boolean, message: string): Check =>
  (v, path) =>
    ok(v) ? undefined : { path, message };

/** A field that may be absent (or undefined). */
const optional =
  (check: Check): Check =>
  (v, path) =>
    v === undefined ? undefined : check(v, path);

/** Anything: a field whose value was checked before the item's fields (the sort key names the kind). */
const known: Check = () => undefined;

/** A finite number in LIMITS[name] (a safe integer with `int`). */
function range(name: RangeName, int = false): Check {
  const { min, max } = LIMITS[name];
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return when((v) => finite(v) && (!int || Number.isSafeInteger(v)) && v >= min && v <= max, rangeRule(name, int));
}

/** Code points, not UTF-16 units: what zod measures a string's length in. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A string of `min` (0 or 1) to `max` characters. */
function text(max: number, min = 0): Check {
  const rule = textRule(max, min);
  return (v, path) => {
    if (typeof v !== 'string') return { path, message: rule };
    const tooLong = v.length > max && codePoints(v) > max;
    return v.length < min || tooLong ? { path, message: textLengthRule(rule, v) } : undefined;
  };
}

const matching = (pattern: RegExp, message: string) => when((v) => typeof v === 'string' && pattern.test(v), message);

const oneOf = (values: readonly unknown[], message: string) => when((v) => values.includes(v), message);

/** The fields of `shape` in order, then unknown fields; `obj` is known to be an object. */
function checkFields(shape: Shape, obj: Record<string, unknown>, path: Path): ItemIssue | undefined {
  for (const key in shape) {
    const issue = shape[key]!(obj[key], [...path, key]);
    if (issue) return issue;
  }
  const unknownKeys = Object.keys(obj).filter((k) => !Object.hasOwn(shape, k));
  return unknownKeys.length > 0 ? { path, unknownKeys } : undefined;
}

/** A nested object of exactly these fields. */
function fields(shape: Shape): Check {
  const message = fieldsRule(Object.keys(shape));
  return (v, path) => (isObject(v) ? checkFields(shape, v, path) : { path, message });
}

/** A list of `element`s, at most `max` of them. */
function list(element: Check, message: string, max = Number.POSITIVE_INFINITY): Check {
  return (v, path) => {
    if (!Array.isArray(v)) return { path, message };
    for (let i = 0; i < v.length; i++) {
      const issue = element(v[i], [...path, i]);
      if (issue) return issue;
    }
    return v.length > max ? { path, message: tooManyMatchesRule(v.length) } : undefined;
  };
}

/** An object of at most `max` keys `key` -> `value`; a key breaking its rule is reported as a bad key. */
function record(key: RegExp, keyRule: string, value: Check, message: string, max: number): Check {
  return (v, path) => {
    if (!isObject(v)) return { path, message };
    let count = 0;
    for (const k of Object.keys(v)) {
      if (k === '__proto__') continue; // zod neither checks nor keeps it
      if (!key.test(k)) return { path: [...path, k], badKey: keyRule };
      const issue = value(v[k], [...path, k]);
      if (issue) return issue;
      count++;
    }
    return count > max ? { path, message: tooManyVersionsRule(count) } : undefined;
  };
}

const serviceName = matching(SERVICE_NAME_PATTERN, RULES.serviceName);
/** A service name or `external`; a string that is neither breaks the service name's rule (as zod's union reports it). */
const callerName: Check = (v, path) => {
  if (typeof v !== 'string') return { path, message: RULES.caller };
  return v === EXTERNAL ? undefined : serviceName(v, path);
};
const version = matching(PUBLISHED_VERSION_PATTERN, RULES.version);
const bool = when((v) => typeof v === 'boolean', RULES.bool);

const common: Shape = {
  pk: serviceName,
  managedBy: optional(oneOf([MANAGED_BY.deploy, MANAGED_BY.operator], RULES.managedBy)),
  updatedAt: optional(text(TEXT_LIMITS.stamp)),
  updatedBy: optional(text(TEXT_LIMITS.stamp)),
  description: optional(text(TEXT_LIMITS.description)),
  sk: known,
};

const trafficFields: Shape = {
  timeoutMs: optional(range('timeoutMs')),
  perTryTimeoutMs: optional(range('timeoutMs')),
  idempotent: optional(bool),
  retries: optional(
    fields({
      maxAttempts: optional(range('maxAttempts', true)),
      baseDelayMs: optional(range('backoffMs')),
      maxDelayMs: optional(range('backoffMs')),
      retryOn: optional(list(oneOf(RETRY_ON, RULES.retryOn), RULES.retryOnList)),
    }),
  ),
  budget: optional(
    fields({ ratio: optional(range('budgetRatio')), minPerSecond: optional(range('budgetMinPerSecond')) }),
  ),
  breaker: optional(
    fields({
      consecutiveFailures: optional(range('breakerConsecutiveFailures', true)),
      failureRateThreshold: optional(range('breakerFailureRate')),
      windowSize: optional(range('breakerWindow', true)),
      openMs: optional(range('breakerOpenMs')),
    }),
  ),
  rateLimit: optional(
    fields({ perSecond: range('rateLimitPerSecond'), burst: optional(range('rateLimitBurst', true)) }),
  ),
  fallback: optional(
    fields({
      service: optional(serviceName),
      version: optional(version),
      functionArn: optional(matching(LAMBDA_FUNCTION_ARN_PATTERN, RULES.lambdaArn)),
      onFunctionError: optional(bool),
    }),
  ),
};

const headerMatch = fields({
  header: text(TEXT_LIMITS.header, 1),
  exact: optional(text(TEXT_LIMITS.headerValue)),
  prefix: optional(text(TEXT_LIMITS.headerValue)),
  version,
});

/** Each kind's fields, in the order of its zod schema (the first failing field is the one reported). */
export const ITEM_SHAPES: Readonly<Record<PolicyItemKind, Shape>> = {
  service: {
    ...common,
    functionName: text(TEXT_LIMITS.functionName, 1),
    alias: optional(text(TEXT_LIMITS.alias, 1)),
  },
  allow: { ...common, source: callerName, ...trafficFields },
  deny: { ...common, source: callerName, reason: optional(text(TEXT_LIMITS.reason)) },
  traffic: { ...common, ...trafficFields },
  route: {
    ...common,
    weights: optional(
      record(PUBLISHED_VERSION_PATTERN, RULES.version, range('weight'), RULES.weights, TEXT_LIMITS.versions),
    ),
    matches: optional(list(headerMatch, RULES.matches, TEXT_LIMITS.matches)),
    sticky: optional(fields({ header: text(TEXT_LIMITS.header, 1) })),
    mirror: optional(fields({ version, percent: range('percent') })),
  },
  fault: {
    ...common,
    abort: optional(fields({ percent: range('percent'), errorType: optional(text(TEXT_LIMITS.errorType, 1)) })),
    delay: optional(fields({ percent: range('percent'), ms: range('timeoutMs') })),
  },
  breaker: {
    ...common,
    pk: matching(BREAKER_PARTITION_PATTERN, RULES.breakerPartition),
    version: text(TEXT_LIMITS.alias, 1),
    state: oneOf(BREAKER_STATES, RULES.state),
    openedAt: when((v) => typeof v === 'number' && Number.isFinite(v), RULES.openedAt),
    ttl: optional(when((v) => typeof v === 'number' && Number.isFinite(v), RULES.ttl)),
  },
};

/**
 * Checks one raw item as `parsePolicyItem` does, without zod: the typed item, or a refusal naming the
 * item, the field, the value and the allowed range.
 */
export function checkPolicyItem(raw: unknown): ParseResult {
  if (!isObject(raw)) return { ok: false, error: notAnItem(raw) };
  const kind = itemKind(raw.sk);
  if (!kind) return { ok: false, error: unknownKind(raw) };
  const issue = checkFields(ITEM_SHAPES[kind], raw, []);
  if (issue) return { ok: false, error: issueText(raw, issue) };
  const item = withoutProtoWeights(raw) as unknown as PolicyItem;
  const extra = crossFieldError(kind, item);
  if (extra) return { ok: false, error: `${itemWhere(raw)}: ${extra}` };
  return { ok: true, item, kind };
}

/** A `weights` key `__proto__` (only JSON.parse makes one) is dropped, as zod's copy drops it. */
function withoutProtoWeights(raw: Record<string, unknown>): Record<string, unknown> {
  const w = raw.weights;
  if (!isObject(w) || !Object.hasOwn(w, '__proto__')) return raw;
  const weights: Record<string, unknown> = {};
  for (const k of Object.keys(w)) if (k !== '__proto__') weights[k] = w[k];
  return { ...raw, weights };
}
