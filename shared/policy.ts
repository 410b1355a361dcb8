/**
 * The policy model's contract: one zod/mini schema per kind of table item, and `parsePolicyItem`,
 * which turns a raw item into a typed one or an error that names the field, the value and the allowed
 * range. Used by the constructs (at synth), the CLI (before any write), the control plane and the
 * local mesh. A bad item is rejected whole, never half-applied.
 *
 * The ranges, defaults, messages and cross-field rules live in ./policy-rules (no zod), re-exported
 * here; the runtime checks items with the hand-written ./policy-item-check, which must agree with
 * these schemas on every item (test/unit/policy-item-check.test.ts): loading zod on a cold sandbox's
 * first request cost more than everything else the inbound check does.
 */
import * as z from 'zod/mini';
import { EXTERNAL, MANAGED_BY, PUBLISHED_VERSION_PATTERN, SERVICE_NAME_PATTERN } from './names';
import {
  BREAKER_PARTITION_PATTERN,
  BREAKER_STATES,
  crossFieldError,
  fieldsRule,
  issueText,
  itemKind,
  itemWhere,
  LAMBDA_FUNCTION_ARN_PATTERN,
  LIMITS,
  notAnItem,
  type ParseResult,
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

export * from './policy-rules';

function range(name: RangeName, opts: { int?: boolean } = {}) {
  const r = LIMITS[name];
  const msg = rangeRule(name, opts.int);
  const base = opts.int ? z.int({ error: msg }) : z.number({ error: msg });
  return base.check(z.gte(r.min, { error: msg }), z.lte(r.max, { error: msg }));
}

/** A string of `min` to `max` characters; the message names the limit and the length found. */
function text(max: number, min = 0) {
  const rule = textRule(max, min);
  const msg = (iss: { input?: unknown }) => textLengthRule(rule, iss.input);
  return z.string({ error: rule }).check(z.minLength(min, { error: msg }), z.maxLength(max, { error: msg }));
}

const bool = z.boolean({ error: RULES.bool });

const serviceName = z
  .string({ error: RULES.serviceName })
  .check(z.regex(SERVICE_NAME_PATTERN, { error: RULES.serviceName }));
const callerName = z.union([serviceName, z.literal(EXTERNAL)], { error: RULES.caller });
const version = z.string({ error: RULES.version }).check(z.regex(PUBLISHED_VERSION_PATTERN, { error: RULES.version }));

/** An object of the named fields (the message lists them). */
function fields<S extends Parameters<typeof z.strictObject>[0]>(shape: S) {
  return z.strictObject(shape, { error: fieldsRule(Object.keys(shape)) });
}

const retryOnValue = z.enum(RETRY_ON, { error: RULES.retryOn });

export const retryPolicySchema = fields({
  maxAttempts: z.optional(range('maxAttempts', { int: true })),
  baseDelayMs: z.optional(range('backoffMs')),
  maxDelayMs: z.optional(range('backoffMs')),
  retryOn: z.optional(z.array(retryOnValue, { error: RULES.retryOnList })),
});

/** A mesh-wide token bucket: `perSecond` refill, `burst` capacity (default: one second's worth). */
export const rateLimitSchema = fields({
  perSecond: range('rateLimitPerSecond'),
  burst: z.optional(range('rateLimitBurst', { int: true })),
});

/**
 * Where a call goes when its primary fails (breaker open, throttled past the retries, service errors):
 * exactly one of another service, another version of the same one, or a function ARN (the same
 * function in another region). `onFunctionError`: also when the primary's handler threw.
 */
export const fallbackSchema = fields({
  service: z.optional(serviceName),
  version: z.optional(version),
  functionArn: z.optional(
    z.string({ error: RULES.lambdaArn }).check(z.regex(LAMBDA_FUNCTION_ARN_PATTERN, { error: RULES.lambdaArn })),
  ),
  onFunctionError: z.optional(bool),
});

export const budgetPolicySchema = fields({
  ratio: z.optional(range('budgetRatio')),
  minPerSecond: z.optional(range('budgetMinPerSecond')),
});

export const breakerPolicySchema = fields({
  consecutiveFailures: z.optional(range('breakerConsecutiveFailures', { int: true })),
  failureRateThreshold: z.optional(range('breakerFailureRate')),
  windowSize: z.optional(range('breakerWindow', { int: true })),
  openMs: z.optional(range('breakerOpenMs')),
});

/** The traffic settings an edge or a service may carry; absent fields fall back to DEFAULTS. */
const trafficFields = {
  timeoutMs: z.optional(range('timeoutMs')),
  perTryTimeoutMs: z.optional(range('timeoutMs')),
  idempotent: z.optional(bool),
  retries: z.optional(retryPolicySchema),
  budget: z.optional(budgetPolicySchema),
  breaker: z.optional(breakerPolicySchema),
  rateLimit: z.optional(rateLimitSchema),
  fallback: z.optional(fallbackSchema),
};

const common = {
  pk: serviceName,
  managedBy: z.optional(z.enum([MANAGED_BY.deploy, MANAGED_BY.operator], { error: RULES.managedBy })),
  updatedAt: z.optional(text(TEXT_LIMITS.stamp)),
  updatedBy: z.optional(text(TEXT_LIMITS.stamp)),
  description: z.optional(text(TEXT_LIMITS.description)),
};

export const serviceItemSchema = z.strictObject({
  ...common,
  sk: z.literal('service'),
  /** Function name or ARN, unqualified. */
  functionName: text(TEXT_LIMITS.functionName, 1),
  /** Alias callers reach by default. */
  alias: z.optional(text(TEXT_LIMITS.alias, 1)),
  // No `url` / `auth`: an HTTP target comes from the deployment only (shared/http-target.ts).
});

export const allowItemSchema = z.strictObject({
  ...common,
  sk: z.string().check(z.startsWith('allow#')),
  source: callerName,
  ...trafficFields,
});

export const denyItemSchema = z.strictObject({
  ...common,
  sk: z.string().check(z.startsWith('deny#')),
  source: callerName,
  reason: z.optional(text(TEXT_LIMITS.reason)),
});

export const trafficItemSchema = z.strictObject({
  ...common,
  sk: z.literal('traffic'),
  ...trafficFields,
});

export const headerMatchSchema = fields({
  header: text(TEXT_LIMITS.header, 1),
  exact: z.optional(text(TEXT_LIMITS.headerValue)),
  prefix: z.optional(text(TEXT_LIMITS.headerValue)),
  version,
});

export const routeItemSchema = z.strictObject({
  ...common,
  sk: z.literal('route'),
  /** Version -> share, 0 to 1, summing to 1. Chosen client-side by smooth weighted round-robin. */
  weights: z.optional(
    z.record(version, range('weight'), { error: RULES.weights }).check(
      z.refine((w) => Object.keys(w).length <= TEXT_LIMITS.versions, {
        error: (iss) => tooManyVersionsRule(Object.keys(iss.input as object).length),
      }),
    ),
  ),
  /** First match wins; checked before weights. */
  matches: z.optional(
    z
      .array(headerMatchSchema, { error: RULES.matches })
      .check(z.maxLength(TEXT_LIMITS.matches, { error: (iss) => tooManyMatchesRule((iss.input as unknown[]).length) })),
  ),
  /** Calls with the same value of this header (or `call()` option `stickyKey`) go to the same version. */
  sticky: z.optional(fields({ header: text(TEXT_LIMITS.header, 1) })),
  /** Copy a share of calls to a shadow version, fire-and-forget; its answers are dropped. */
  mirror: z.optional(fields({ version, percent: range('percent') })),
});

export const faultItemSchema = z.strictObject({
  ...common,
  sk: z.literal('fault'),
  abort: z.optional(
    fields({
      percent: range('percent'),
      errorType: z.optional(text(TEXT_LIMITS.errorType, 1)),
    }),
  ),
  delay: z.optional(fields({ percent: range('percent'), ms: range('timeoutMs') })),
});

/** `breaker#<service>`: breaker state has a partition of its own (see shared/names.ts `breakerPartition`). */
const breakerPartitionKey = z
  .string({ error: RULES.breakerPartition })
  .check(z.regex(BREAKER_PARTITION_PATTERN, { error: RULES.breakerPartition }));

export const breakerStateItemSchema = z.strictObject({
  ...common,
  pk: breakerPartitionKey,
  sk: z.string().check(z.startsWith('breaker#')),
  version: text(TEXT_LIMITS.alias, 1),
  state: z.enum(BREAKER_STATES, { error: RULES.state }),
  openedAt: z.number({ error: RULES.openedAt }),
  ttl: z.optional(z.number({ error: RULES.ttl })),
});

export type ServiceItem = z.infer<typeof serviceItemSchema>;
export type AllowItem = z.infer<typeof allowItemSchema>;
export type DenyItem = z.infer<typeof denyItemSchema>;
export type TrafficItem = z.infer<typeof trafficItemSchema>;
export type RouteItem = z.infer<typeof routeItemSchema>;
export type FaultItem = z.infer<typeof faultItemSchema>;
export type BreakerStateItem = z.infer<typeof breakerStateItemSchema>;
export type PolicyItem = ServiceItem | AllowItem | DenyItem | TrafficItem | RouteItem | FaultItem | BreakerStateItem;
export type TrafficPolicy = Pick<
  TrafficItem,
  'timeoutMs' | 'perTryTimeoutMs' | 'idempotent' | 'retries' | 'budget' | 'breaker' | 'rateLimit' | 'fallback'
>;
export type RateLimitPolicy = z.infer<typeof rateLimitSchema>;
export type FallbackPolicy = z.infer<typeof fallbackSchema>;

const SCHEMAS = {
  service: serviceItemSchema,
  allow: allowItemSchema,
  deny: denyItemSchema,
  traffic: trafficItemSchema,
  route: routeItemSchema,
  fault: faultItemSchema,
  breaker: breakerStateItemSchema,
} as const;

/**
 * Validates one raw item (plain JSON, as stored in the table). Errors name the item, the field,
 * the value and the allowed range, e.g.
 * `payments/route: weights.4 = 1.5 must be between 0 and 1`.
 */
export function parsePolicyItem(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: notAnItem(raw) };
  const r = raw as Record<string, unknown>;
  const kind = itemKind(r.sk);
  if (!kind) return { ok: false, error: unknownKind(r) };
  const res = SCHEMAS[kind].safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    if (issue.code === 'unrecognized_keys')
      return { ok: false, error: issueText(r, { path: issue.path, unknownKeys: issue.keys }) };
    if (issue.code === 'invalid_key') {
      return {
        ok: false,
        error: issueText(r, { path: issue.path, badKey: issue.issues[0]?.message ?? issue.message }),
      };
    }
    return { ok: false, error: issueText(r, { path: issue.path, message: issue.message }) };
  }
  const item = res.data as PolicyItem;
  const extra = crossFieldError(kind, item);
  if (extra) return { ok: false, error: `${itemWhere(r)}: ${extra}` };
  return { ok: true, item, kind };
}
