/**
 * The policy model: one zod/mini schema per kind of table item, the valid ranges as named constants,
 * and `parsePolicyItem`, which turns a raw item into a typed one or an error that names the field,
 * the value and the allowed range. Used by the constructs (at synth), the runtime (on every table
 * read), the CLI (before any write) and the local mesh. A bad item is rejected whole, never
 * half-applied.
 *
 * zod/mini, not zod: this module is on the runtime's init path (cold-start budget).
 */
import * as z from 'zod/mini';
import {
  breakerPartition,
  EXTERNAL,
  MANAGED_BY,
  PUBLISHED_VERSION_PATTERN,
  SERVICE_NAME_PATTERN,
  SORT_KEY,
} from './names';

/** Valid ranges, named so error messages, docs and construct validation agree. */
export const LIMITS = {
  timeoutMs: { min: 1, max: 900_000 },
  maxAttempts: { min: 1, max: 10 },
  backoffMs: { min: 0, max: 60_000 },
  budgetRatio: { min: 0, max: 1 },
  budgetMinPerSecond: { min: 0, max: 10_000 },
  breakerConsecutiveFailures: { min: 1, max: 1_000 },
  breakerFailureRate: { min: 0, max: 1 },
  breakerWindow: { min: 1, max: 10_000 },
  breakerOpenMs: { min: 100, max: 3_600_000 },
  weight: { min: 0, max: 1 },
  percent: { min: 0, max: 100 },
  /** Mesh-wide requests per second of one rate limit (docs/rate-limits.md). */
  rateLimitPerSecond: { min: 0.01, max: 100_000 },
  /** Requests a rate limit admits at once above its steady rate. */
  rateLimitBurst: { min: 1, max: 100_000 },
  /** Weights must sum to 1 within this tolerance. */
  weightSumTolerance: 1e-6,
} as const;

/** Lengths of text fields, in characters (a DynamoDB item holds at most 400 KB in all). */
export const TEXT_LIMITS = {
  description: 1024,
  reason: 1024,
  functionName: 140,
  alias: 128,
  header: 256,
  headerValue: 1024,
  errorType: 128,
  stamp: 256,
  /** Header matches in one route item. */
  matches: 50,
} as const;

/** What may be retried. `function-error` only takes effect on idempotent edges. */
export const RETRY_ON = ['throttled', 'service-error', 'timeout', 'function-error'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/** Defaults (Linkerd's retry budget, Envoy's outlier ejection, AWS's full-jitter backoff). */
export const DEFAULTS = {
  timeoutMs: 10_000,
  perTryTimeoutMs: 3_000,
  retries: {
    maxAttempts: 3,
    baseDelayMs: 25,
    maxDelayMs: 1_000,
    retryOn: ['throttled', 'service-error', 'timeout'] as RetryOn[],
  },
  budget: { ratio: 0.2, minPerSecond: 10 },
  breaker: { consecutiveFailures: 5, failureRateThreshold: 0.5, windowSize: 20, openMs: 30_000 },
  idempotent: false,
  policyTtlMs: 5_000,
} as const;

function range(name: keyof typeof LIMITS, opts: { int?: boolean } = {}) {
  const r = LIMITS[name] as { min: number; max: number };
  const msg = `must be ${opts.int ? 'an integer ' : ''}between ${r.min} and ${r.max}`;
  const base = opts.int ? z.int({ error: msg }) : z.number({ error: msg });
  return base.check(z.gte(r.min, { error: msg }), z.lte(r.max, { error: msg }));
}

/** A string of `min` to `max` characters; the message names the limit and the length found. */
function text(max: number, min = 0) {
  const rule = min > 0 ? `a string of ${min} to ${max} characters` : `a string of at most ${max} characters`;
  const msg = (iss: { input?: unknown }) =>
    typeof iss.input === 'string' ? `must be ${rule}; it has ${iss.input.length}` : `must be ${rule}`;
  return z
    .string({ error: `must be ${rule}` })
    .check(z.minLength(min, { error: msg }), z.maxLength(max, { error: msg }));
}

const bool = z.boolean({ error: 'must be true or false' });

const SERVICE_NAME_RULE =
  'must be a service name: lower-case letters, digits and dashes, starting with a letter, at most 40 characters';
const serviceName = z
  .string({ error: SERVICE_NAME_RULE })
  .check(z.regex(SERVICE_NAME_PATTERN, { error: SERVICE_NAME_RULE }));
const callerName = z.union([serviceName, z.literal(EXTERNAL)], {
  error: `must be a service name or "${EXTERNAL}"`,
});
const VERSION_RULE = 'must be a published version number such as "3" (never $LATEST)';
const version = z.string({ error: VERSION_RULE }).check(z.regex(PUBLISHED_VERSION_PATTERN, { error: VERSION_RULE }));

/** An object of the named fields (the message lists them). */
function fields<S extends Parameters<typeof z.strictObject>[0]>(shape: S) {
  return z.strictObject(shape, { error: `must be an object with the fields ${Object.keys(shape).join(', ')}` });
}

const retryOnValue = z.enum(RETRY_ON, { error: `must be one of ${RETRY_ON.join(', ')}` });

export const retryPolicySchema = fields({
  maxAttempts: z.optional(range('maxAttempts', { int: true })),
  baseDelayMs: z.optional(range('backoffMs')),
  maxDelayMs: z.optional(range('backoffMs')),
  retryOn: z.optional(z.array(retryOnValue, { error: `must be a list of ${RETRY_ON.join(', ')}` })),
});

/** A mesh-wide token bucket: `perSecond` refill, `burst` capacity (default: one second's worth). */
export const rateLimitSchema = fields({
  perSecond: range('rateLimitPerSecond'),
  burst: z.optional(range('rateLimitBurst', { int: true })),
});

const LAMBDA_ARN_RULE =
  'must be a Lambda function ARN, arn:<partition>:lambda:<region>:<account>:function:<name>[:<alias or version>]';
/** A function in a region, as Lambda's Invoke takes it; the region is where the fallback is called. */
export const LAMBDA_FUNCTION_ARN_PATTERN =
  /^arn:aws[a-z-]*:lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9_-]{1,128}))?$/;

/**
 * Where a call goes when its primary fails (breaker open, throttled past the retries, service errors):
 * exactly one of another service, another version of the same one, or a function ARN (the same
 * function in another region). `onFunctionError`: also when the primary's handler threw.
 */
export const fallbackSchema = fields({
  service: z.optional(serviceName),
  version: z.optional(version),
  functionArn: z.optional(
    z.string({ error: LAMBDA_ARN_RULE }).check(z.regex(LAMBDA_FUNCTION_ARN_PATTERN, { error: LAMBDA_ARN_RULE })),
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
  managedBy: z.optional(
    z.enum([MANAGED_BY.deploy, MANAGED_BY.operator], {
      error: `must be "${MANAGED_BY.deploy}" or "${MANAGED_BY.operator}"`,
    }),
  ),
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

/** Fields a policy item may not carry because the deployment owns them, with where they are declared. */
const DEPLOYMENT_FIELDS: Readonly<Record<string, string>> = {
  url: 'an HTTP target is declared at deploy (MeshFunction.addHttpEndpoint), never by a policy item',
  auth: 'an HTTP target is declared at deploy (MeshFunction.addHttpEndpoint), never by a policy item',
};

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
    z.record(version, range('weight'), { error: 'must be an object of version -> share, e.g. {"1": 0.9, "2": 0.1}' }),
  ),
  /** First match wins; checked before weights. */
  matches: z.optional(
    z.array(headerMatchSchema, { error: `must be a list of at most ${TEXT_LIMITS.matches} header matches` }).check(
      z.maxLength(TEXT_LIMITS.matches, {
        error: (iss) =>
          `must be a list of at most ${TEXT_LIMITS.matches} header matches; it has ${(iss.input as unknown[]).length}`,
      }),
    ),
  ),
  /** Calls with the same value of this header (or `call()` option `stickyKey`) go to the same version. */
  sticky: z.optional(fields({ header: text(TEXT_LIMITS.header, 1) })),
  /** Copy a share of calls to a shadow version, fire-and-forget; its answers are dropped. */
  mirror: z.optional(fields({ version, percent: range('percent') })),
});

/**
 * Whether a route item decides the version split for calls through the mesh: it does when it has
 * weights. The `live` alias's weights (what `mesh shift`, `mesh rollout` and CodeDeploy move) then
 * apply only to callers outside the mesh, which invoke the alias directly. Header matches, when they
 * hit, come first either way (docs/policy-model.md, "Who decides the split").
 */
export function routeDecidesSplit(route: { readonly weights?: Readonly<Record<string, number>> } | undefined): boolean {
  return route?.weights !== undefined && Object.keys(route.weights).length > 0;
}

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
const BREAKER_PARTITION_RULE =
  `must be "${breakerPartition('<service>')}": ` +
  "shared breaker state lives in its own partition, apart from the service's policy";
const breakerPartitionKey = z.string({ error: BREAKER_PARTITION_RULE }).check(
  z.regex(new RegExp(`^${breakerPartition('')}${SERVICE_NAME_PATTERN.source.slice(1)}`), {
    error: BREAKER_PARTITION_RULE,
  }),
);

export const breakerStateItemSchema = z.strictObject({
  ...common,
  pk: breakerPartitionKey,
  sk: z.string().check(z.startsWith('breaker#')),
  version: text(TEXT_LIMITS.alias, 1),
  state: z.enum(['open', 'half-open', 'closed'], { error: 'must be one of open, half-open, closed' }),
  openedAt: z.number({ error: 'must be a time in epoch milliseconds' }),
  ttl: z.optional(z.number({ error: 'must be a time in epoch seconds (DynamoDB TTL)' })),
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

export type PolicyItemKind = 'service' | 'allow' | 'deny' | 'traffic' | 'route' | 'fault' | 'breaker';

/** The kind of an item, from its sort key; undefined for a sort key the model does not know. */
export function itemKind(sk: unknown): PolicyItemKind | undefined {
  if (typeof sk !== 'string') return undefined;
  const head = sk.split('#', 1)[0];
  switch (head) {
    case 'service':
    case 'traffic':
    case 'route':
    case 'fault':
      return sk === head ? head : undefined;
    case 'allow':
    case 'deny':
    case 'breaker':
      return sk.length > head.length + 1 ? head : undefined;
    default:
      return undefined;
  }
}

const SCHEMAS = {
  service: serviceItemSchema,
  allow: allowItemSchema,
  deny: denyItemSchema,
  traffic: trafficItemSchema,
  route: routeItemSchema,
  fault: faultItemSchema,
  breaker: breakerStateItemSchema,
} as const;

export type ParseResult =
  | { readonly ok: true; readonly item: PolicyItem; readonly kind: PolicyItemKind }
  | { readonly ok: false; readonly error: string };

/**
 * Validates one raw item (plain JSON, as stored in the table). Errors name the item, the field,
 * the value and the allowed range, e.g.
 * `payments/route: weights.4 = 1.5 must be between 0 and 1`.
 */
export function parsePolicyItem(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `policy item must be an object, got ${describe(raw)}` };
  }
  const r = raw as Record<string, unknown>;
  const where = `${typeof r.pk === 'string' ? r.pk : '?'}/${typeof r.sk === 'string' ? r.sk : '?'}`;
  const kind = itemKind(r.sk);
  if (!kind) {
    return {
      ok: false,
      error: `${where}: sk = ${describe(r.sk)} is not a policy item kind; use service, traffic, route, fault, allow#<source>, deny#<source> or breaker#<version>`,
    };
  }
  const res = SCHEMAS[kind].safeParse(raw, { reportInput: true });
  if (!res.success) {
    const issue = res.error.issues[0];
    const field = issue.path.map(String).join('.') || '(item)';
    const value = field === '(item)' ? '' : ` = ${describe(valueAt(r, issue.path))}`;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const many = issue.keys.length > 1;
      const owned = issue.keys.map((k) => DEPLOYMENT_FIELDS[k]).find((why) => why !== undefined);
      const why = owned ? ` (${owned})` : '';
      message = `has unknown field${many ? 's' : ''} ${issue.keys.join(', ')}; remove ${many ? 'them' : 'it'}${why}`;
    } else if (issue.code === 'invalid_key') {
      // A record key (a version in `weights`) failed: report the key's own rule.
      message = `(key ${describe(issue.path[issue.path.length - 1])}) ${issue.issues[0]?.message ?? issue.message}`;
    }
    return { ok: false, error: `${where}: ${field}${value} ${message}` };
  }
  const item = res.data as PolicyItem;
  const extra = crossFieldError(kind, item);
  if (extra) return { ok: false, error: `${where}: ${extra}` };
  return { ok: true, item, kind };
}

/** Rules that span fields, which the schemas cannot express field by field. */
function crossFieldError(kind: PolicyItemKind, item: PolicyItem): string | undefined {
  if (kind === 'allow' || kind === 'deny') {
    const it = item as AllowItem | DenyItem;
    if (it.sk !== `${kind}#${it.source}`) return `sk = "${it.sk}" must be "${kind}#${it.source}" (it names the source)`;
    if (it.source === it.pk)
      return `source = "${it.source}" is the service itself; a service does not call itself through the mesh`;
  }
  if (kind === 'allow' || kind === 'traffic') {
    const t = item as TrafficItem;
    if (t.perTryTimeoutMs !== undefined && t.timeoutMs !== undefined && t.perTryTimeoutMs > t.timeoutMs) {
      return `perTryTimeoutMs = ${t.perTryTimeoutMs} must not exceed timeoutMs = ${t.timeoutMs}`;
    }
    const fb = t.fallback;
    if (fb) {
      const set = (['service', 'version', 'functionArn'] as const).filter((k) => fb[k] !== undefined);
      if (set.length !== 1) {
        return `fallback must name exactly one of service, version or functionArn; it names ${set.length === 0 ? 'none' : set.join(' and ')}`;
      }
      if (fb.service !== undefined && fb.service === t.pk) {
        return `fallback.service = "${fb.service}" is the service itself; name another version (fallback.version) instead`;
      }
    }
    const r = t.retries;
    if (r?.baseDelayMs !== undefined && r.maxDelayMs !== undefined && r.baseDelayMs > r.maxDelayMs) {
      return `retries.baseDelayMs = ${r.baseDelayMs} must not exceed retries.maxDelayMs = ${r.maxDelayMs}`;
    }
  }
  if (kind === 'breaker') {
    const b = item as BreakerStateItem;
    if (b.sk !== SORT_KEY.breaker(b.version))
      return `sk = "${b.sk}" must be "${SORT_KEY.breaker(b.version)}" (it names the version)`;
  }
  if (kind === 'route') {
    const route = item as RouteItem;
    if (route.weights) {
      const entries = Object.entries(route.weights);
      if (entries.length === 0) return 'weights must name at least one version';
      const sum = entries.reduce((s, [, w]) => s + w, 0);
      if (Math.abs(sum - 1) > LIMITS.weightSumTolerance) {
        return `weights = ${JSON.stringify(route.weights)} sum to ${round(sum)}; they must sum to 1`;
      }
    }
    for (const [i, m] of (route.matches ?? []).entries()) {
      if ((m.exact === undefined) === (m.prefix === undefined)) {
        return `matches.${i} must have exactly one of exact or prefix`;
      }
    }
  }
  return undefined;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function round(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

/** The deploy-time snapshot shipped in the layer (`policy.json`): the same items the table holds. */
export interface PolicySnapshot {
  readonly mesh: string;
  readonly generatedAt: string;
  readonly items: readonly unknown[];
}
