/**
 * The rules of policy items without a schema library: the valid ranges as named constants, the
 * defaults, the messages each field's refusal carries, the kind of an item from its sort key, the
 * rules that span fields, and how a refusal is written (`payments/route: weights.4 = 1.5 must be
 * between 0 and 1`). Two checkers apply them and must agree item for item: the zod/mini schemas of
 * shared/policy.ts (the contract: constructs, CLI, control plane, local mesh) and the hand-written
 * shared/policy-item-check.ts (the runtime, where loading zod would cost the first request several ms).
 */

import { breakerPartition, EXTERNAL, MANAGED_BY, SERVICE_NAME_PATTERN, SORT_KEY } from './names';
import type { AllowItem, BreakerStateItem, DenyItem, PolicyItem, RouteItem, TrafficItem } from './policy';
import type { SnapshotPartition } from './snapshot-seal';

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

export type RangeName = Exclude<keyof typeof LIMITS, 'weightSumTolerance'>;

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
  /**
   * Versions one route item's weights name: every call's choice (and a sticky key's hash) goes over
   * them all. As AWS App Mesh allows a route ("AWS::AppMesh::Route HttpRouteAction", WeightedTargets).
   */
  versions: 10,
} as const;

/** What may be retried. `function-error` only takes effect on idempotent edges. */
export const RETRY_ON = ['throttled', 'service-error', 'timeout', 'function-error'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * How long a function serves a policy copy before it revalidates it (`DEFAULTS.policyTtlMs`). Its own
 * constant for the inbound check, whose layer file then leaves the rest of DEFAULTS out: a cold sandbox
 * does not build its nested objects when it loads the layer.
 */
export const DEFAULT_POLICY_TTL_MS = 5_000;

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
  policyTtlMs: DEFAULT_POLICY_TTL_MS,
} as const;

/** The states of a shared breaker item. */
export const BREAKER_STATES = ['open', 'half-open', 'closed'] as const;

/** A breaker partition key: `breaker#<service>`. */
export const BREAKER_PARTITION_PATTERN = /* @__PURE__ */ (() =>
  new RegExp(`^${breakerPartition('')}${SERVICE_NAME_PATTERN.source.slice(1)}`))();

/**
 * What each field's refusal says: one text for both checkers. Built in a call marked pure, so a layer
 * file that checks no item (the inbound path) leaves these texts out of its bundle.
 */
export const RULES = /* @__PURE__ */ (() =>
  ({
    serviceName:
      'must be a service name: lower-case letters, digits and dashes, starting with a letter, at most 40 characters',
    caller: `must be a service name or "${EXTERNAL}"`,
    version: 'must be a published version number such as "3" (never $LATEST)',
    breakerPartition: `must be "${breakerPartition('<service>')}": shared breaker state lives in its own partition, apart from the service's policy`,
    bool: 'must be true or false',
    managedBy: `must be "${MANAGED_BY.deploy}" or "${MANAGED_BY.operator}"`,
    retryOn: `must be one of ${RETRY_ON.join(', ')}`,
    retryOnList: `must be a list of ${RETRY_ON.join(', ')}`,
    weights: 'must be an object of version -> share, e.g. {"1": 0.9, "2": 0.1}',
    matches: `must be a list of at most ${TEXT_LIMITS.matches} header matches`,
    state: `must be one of ${BREAKER_STATES.join(', ')}`,
    openedAt: 'must be a time in epoch milliseconds',
    ttl: 'must be a time in epoch seconds (DynamoDB TTL)',
    lambdaArn:
      'must be a Lambda function ARN, arn:<partition>:lambda:<region>:<account>:function:<name>[:<alias or version>]',
  }) as const)();

/** A function in a region, as Lambda's Invoke takes it; the region is where the fallback is called. */
export const LAMBDA_FUNCTION_ARN_PATTERN =
  /^arn:aws[a-z-]*:lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9_-]{1,128}))?$/;

/** The refusal of a number outside LIMITS[name] (or not a number, or not an integer). */
export function rangeRule(name: RangeName, int = false): string {
  const r = LIMITS[name];
  return `must be ${int ? 'an integer ' : ''}between ${r.min} and ${r.max}`;
}

/** The rule of a text field of `min` to `max` characters. */
export function textRule(max: number, min = 0): string {
  return min > 0 ? `must be a string of ${min} to ${max} characters` : `must be a string of at most ${max} characters`;
}

/** The refusal of a string of the wrong length: the rule and the length found. */
export function textLengthRule(rule: string, input: unknown): string {
  return typeof input === 'string' ? `${rule}; it has ${input.length}` : rule;
}

/** The refusal of a value that is not an object of the named fields. */
export function fieldsRule(keys: readonly string[]): string {
  return `must be an object with the fields ${keys.join(', ')}`;
}

/** The refusal of a list of more header matches than a route item may hold. */
export function tooManyMatchesRule(count: number): string {
  return `${RULES.matches}; it has ${count}`;
}

/** The refusal of weights naming more versions than a route item may split calls between. */
export function tooManyVersionsRule(count: number): string {
  return `must name at most ${TEXT_LIMITS.versions} versions; it names ${count}`;
}

/** Fields a policy item may not carry because the deployment owns them, with where they are declared. */
export const DEPLOYMENT_FIELDS: Readonly<Record<string, string>> = {
  url: 'an HTTP target is declared at deploy (MeshFunction.addHttpEndpoint), never by a policy item',
  auth: 'an HTTP target is declared at deploy (MeshFunction.addHttpEndpoint), never by a policy item',
};

/**
 * Whether a route item decides the version split for calls through the mesh: it does when it has
 * weights. The `live` alias's weights (what `mesh shift`, `mesh rollout` and CodeDeploy move) then
 * apply only to callers outside the mesh, which invoke the alias directly. Header matches, when they
 * hit, come first either way (docs/policy-model.md, "Who decides the split").
 */
export function routeDecidesSplit(route: { readonly weights?: Readonly<Record<string, number>> } | undefined): boolean {
  return route?.weights !== undefined && Object.keys(route.weights).length > 0;
}

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

export type ParseResult =
  | { readonly ok: true; readonly item: PolicyItem; readonly kind: PolicyItemKind }
  | { readonly ok: false; readonly error: string };

/**
 * The first thing wrong with an item, as either checker finds it: where (the path of the field), and
 * either a rule the value breaks, unknown fields, or a record key (a version in `weights`) that breaks
 * the key's rule.
 */
export type ItemIssue =
  | { readonly path: readonly PropertyKey[]; readonly message: string }
  | { readonly path: readonly PropertyKey[]; readonly unknownKeys: readonly string[] }
  | { readonly path: readonly PropertyKey[]; readonly badKey: string };

/** What comes before each refusal: `<pk>/<sk>`, `?` for a part that is not a string. */
export function itemWhere(r: Record<string, unknown>): string {
  return `${typeof r.pk === 'string' ? r.pk : '?'}/${typeof r.sk === 'string' ? r.sk : '?'}`;
}

/** The refusal of a value that is not an object at all. */
export function notAnItem(raw: unknown): string {
  return `policy item must be an object, got ${describe(raw)}`;
}

/** The refusal of a sort key the model does not know. */
export function unknownKind(r: Record<string, unknown>): string {
  return `${itemWhere(r)}: sk = ${describe(r.sk)} is not a policy item kind; use service, traffic, route, fault, allow#<source>, deny#<source> or breaker#<version>`;
}

/** The refusal text of an issue: the item, the field's path, its value and the rule it breaks. */
export function issueText(r: Record<string, unknown>, issue: ItemIssue): string {
  const field = issue.path.map(String).join('.') || '(item)';
  const value = field === '(item)' ? '' : ` = ${describe(valueAt(r, issue.path))}`;
  let message: string;
  if ('unknownKeys' in issue) {
    const keys = issue.unknownKeys;
    const many = keys.length > 1;
    // Own keys only: an unknown field named `constructor` would otherwise find Object's.
    const owned = keys.map((k) => Object.hasOwn(DEPLOYMENT_FIELDS, k) && DEPLOYMENT_FIELDS[k]).find(Boolean);
    const why = owned ? ` (${owned})` : '';
    message = `has unknown field${many ? 's' : ''} ${keys.join(', ')}; remove ${many ? 'them' : 'it'}${why}`;
  } else if ('badKey' in issue) {
    // A record key (a version in `weights`) failed: report the key's own rule.
    message = `(key ${describe(issue.path[issue.path.length - 1])}) ${issue.badKey}`;
  } else {
    message = issue.message + wildcardHint(field, valueAt(r, issue.path));
  }
  return `${itemWhere(r)}: ${field}${value} ${message}`;
}

/**
 * A wildcard source (`deny#*`, `allow#*`) is what an operator who means "every caller" writes; the
 * policy has none, because a service admits only the callers it names.
 */
function wildcardHint(field: string, value: unknown): string {
  if (field !== 'source' || typeof value !== 'string' || !value.includes('*')) return '';
  return '; there is no wildcard: name each caller in an item of its own (deny#<caller>, allow#<caller>)';
}

/** Rules that span fields, which the field-by-field checks cannot express; on an item whose fields passed. */
export function crossFieldError(kind: PolicyItemKind, item: PolicyItem): string | undefined {
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
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    // Nested past the stack (a snapshot file made by hand, say): the refusal names the field without it.
    return '(nested too deep to show)';
  }
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
  /**
   * Synth's seal over `items` (shared/snapshot-seal.ts), written after it checked each of them: the
   * runtime uses sealed items as they are. Absent (a snapshot made by hand or by a test): each item is
   * checked as a table item is.
   */
  readonly itemsDigest?: string;
  /**
   * The same seal per service (shared/snapshot-seal.ts `SnapshotPartition`): where its items are in
   * `items` and their digest. With it, the runtime compares the seal of a service's items when it first
   * reads them, and no other.
   */
  readonly partitions?: Readonly<Record<string, SnapshotPartition>>;
}
