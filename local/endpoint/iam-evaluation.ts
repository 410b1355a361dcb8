/**
 * IAM's decision for one request, from a role's identity policies ("Policy evaluation logic", IAM User
 * Guide): an explicit Deny wins, then an Allow; otherwise the request is denied implicitly. Actions match
 * case-insensitively with `*` and `?`; resources as ARNs, each of the first five parts on its own and
 * the rest as one. Conditions are held to the operators and keys this file knows; a statement that names
 * another one cannot be judged here, and rather than guess, the request is let through with a warning
 * naming it (`undecided`). Pure: documents and a request in, a decision out.
 */

/** What is asked: the action, the resource's ARN and the condition keys the request carries. */
export interface IamRequest {
  /** `service:Action`, as policies name it. */
  readonly action: string;
  readonly resource: string;
  /** The resource as the request named it, when the service's refusal names it so (a secret's SecretId). */
  readonly named?: string;
  /** Condition keys (lower case) and their values; a key that is absent is not in the request. */
  readonly context: Readonly<Record<string, readonly string[]>>;
  /** Keys (lower case) the request has but whose values could not be read from it: not judged. */
  readonly unreadKeys?: Readonly<Record<string, string>>;
}

export type IamDecision =
  | { readonly effect: 'allow' }
  | { readonly effect: 'explicit-deny' }
  | { readonly effect: 'implicit-deny' }
  /** A statement that could decide names what this file cannot judge: the request passes. */
  | { readonly effect: 'undecided'; readonly reason: string };

interface Statement {
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

/** Keys whose values are a set: a condition on them needs ForAllValues or ForAnyValue. */
const MULTIVALUED = new Set(['dynamodb:leadingkeys', 'dynamodb:attributes']);

/** The decision of `documents` (policy documents, as JSON objects or text) for `request`. */
export function evaluatePolicies(documents: readonly unknown[], request: IamRequest): IamDecision {
  let allowed = false;
  // A Deny that may apply keeps even an Allow from deciding; an Allow that may apply only an implicit deny.
  let maybeDenied: string | undefined;
  let maybeAllowed: string | undefined;
  for (const statement of documents.flatMap(statementsOf)) {
    const verdict = statementApplies(statement, request);
    if (verdict === false) continue;
    if (statement.Effect === 'Deny') {
      if (verdict === true) return { effect: 'explicit-deny' };
      maybeDenied ??= verdict;
    } else if (statement.Effect === 'Allow') {
      if (verdict === true) allowed = true;
      else maybeAllowed ??= verdict;
    }
  }
  if (maybeDenied !== undefined) return { effect: 'undecided', reason: maybeDenied };
  if (allowed) return { effect: 'allow' };
  return maybeAllowed !== undefined ? { effect: 'undecided', reason: maybeAllowed } : { effect: 'implicit-deny' };
}

function statementsOf(document: unknown): Statement[] {
  const doc = typeof document === 'string' ? parseDocument(document) : document;
  const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
  return (Array.isArray(statements) ? statements : statements ? [statements] : []) as Statement[];
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** true: it applies; false: it does not; a string: whether it applies turns on what it names. */
function statementApplies(s: Statement, request: IamRequest): boolean | string {
  const actionHit =
    s.Action !== undefined
      ? listOf(s.Action).some((p) => actionMatches(p, request.action))
      : s.NotAction !== undefined && !listOf(s.NotAction).some((p) => actionMatches(p, request.action));
  if (!actionHit) return false;
  const resources = s.Resource ?? s.NotResource;
  const variable = listOf(resources).find((p) => p.includes('${'));
  if (variable) return `the resource ${variable} (a policy variable, or a value with no local meaning)`;
  const resourceHit = listOf(resources).some((p) => arnMatches(p, request.resource));
  if (s.Resource !== undefined ? !resourceHit : s.NotResource === undefined || resourceHit) return false;
  return conditionsHold(s.Condition, request);
}

/** Every operator's every key must hold (IAM ANDs them). */
function conditionsHold(condition: unknown, request: IamRequest): boolean | string {
  if (condition === undefined) return true;
  if (!condition || typeof condition !== 'object') return 'a Condition that is not an object';
  let result: boolean | string = true;
  for (const [operator, keys] of Object.entries(condition as Record<string, unknown>)) {
    for (const [key, values] of Object.entries((keys ?? {}) as Record<string, unknown>)) {
      const unread = request.unreadKeys?.[key.toLowerCase()];
      const held = unread
        ? `the condition key ${key} (${unread})`
        : conditionHolds(operator, key, listOf(values), request.context[key.toLowerCase()]);
      if (held === false) return false;
      if (held !== true && result === true) result = held;
    }
  }
  return result;
}

interface Operator {
  readonly set?: 'ForAllValues' | 'ForAnyValue';
  readonly negated: boolean;
  readonly ifExists: boolean;
  /** Whether one value of the request matches one value of the policy. */
  readonly match: (requestValue: string, policyValue: string) => boolean;
}

const BASE_OPERATORS: Record<string, { negated: boolean; match: Operator['match'] }> = {
  StringEquals: { negated: false, match: (v, p) => v === p },
  StringNotEquals: { negated: true, match: (v, p) => v === p },
  StringEqualsIgnoreCase: { negated: false, match: (v, p) => v.toLowerCase() === p.toLowerCase() },
  StringNotEqualsIgnoreCase: { negated: true, match: (v, p) => v.toLowerCase() === p.toLowerCase() },
  StringLike: { negated: false, match: (v, p) => glob(p, false).test(v) },
  StringNotLike: { negated: true, match: (v, p) => glob(p, false).test(v) },
  ArnEquals: { negated: false, match: (v, p) => arnMatches(p, v) },
  ArnLike: { negated: false, match: (v, p) => arnMatches(p, v) },
  ArnNotEquals: { negated: true, match: (v, p) => arnMatches(p, v) },
  ArnNotLike: { negated: true, match: (v, p) => arnMatches(p, v) },
  Bool: { negated: false, match: (v, p) => v.toLowerCase() === p.toLowerCase() },
};

/** `ForAllValues:StringLikeIfExists` and the like; undefined for an operator not known here. */
export function parseOperator(name: string): Operator | undefined {
  const [qualifier, rest] = name.includes(':') ? name.split(':', 2) : [undefined, name];
  if (qualifier !== undefined && qualifier !== 'ForAllValues' && qualifier !== 'ForAnyValue') return undefined;
  const ifExists = rest!.endsWith('IfExists');
  const base = BASE_OPERATORS[ifExists ? rest!.slice(0, -'IfExists'.length) : rest!];
  return base ? { ...base, ifExists, ...(qualifier ? { set: qualifier } : {}) } : undefined;
}

/**
 * One operator on one key. An absent key: ForAllValues holds, ForAnyValue does not, a plain operator
 * holds when negated or IfExists ("Condition operators", IAM User Guide).
 */
function conditionHolds(
  operatorName: string,
  key: string,
  policyValues: readonly string[],
  requestValues: readonly string[] | undefined,
): boolean | string {
  if (operatorName === 'Null') {
    return policyValues.every((p) => (p.toLowerCase() === 'true') === (requestValues === undefined));
  }
  const op = parseOperator(operatorName);
  if (!op) return `the condition operator ${operatorName}`;
  if (policyValues.some((p) => p.includes('${')))
    return `the condition key ${key} (policy variables are not evaluated)`;
  const known = KNOWN_KEYS.has(key.toLowerCase()) || requestValues !== undefined;
  if (!known) return `the condition key ${key}`;
  if (!op.set && MULTIVALUED.has(key.toLowerCase()))
    return `the condition key ${key} under ${operatorName} (a set: IAM asks for ForAllValues or ForAnyValue)`;
  const one = (v: string) => policyValues.some((p) => op.match(v, p)) !== op.negated;
  if (requestValues === undefined || requestValues.length === 0) {
    if (op.set === 'ForAllValues') return true;
    if (op.set === 'ForAnyValue') return op.ifExists;
    return op.negated || op.ifExists;
  }
  return op.set === 'ForAllValues' ? requestValues.every(one) : requestValues.some(one);
}

/** Keys a request may lack: the endpoint gives each when the request has it. */
const KNOWN_KEYS = new Set(['aws:principalarn', 'aws:principalaccount', 'aws:requestedregion', 'dynamodb:leadingkeys']);

function actionMatches(pattern: string, action: string): boolean {
  return glob(pattern, true).test(action);
}

/** An ARN pattern: `*` alone matches all; else the first five parts one by one, the rest as one. */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (p.length !== 6 || a.length !== 6) return glob(pattern, false).test(arn);
  return p.every((part, i) => glob(part, false).test(a[i]!));
}

function splitArn(arn: string): string[] {
  const parts = arn.split(':');
  return parts.length < 6 ? parts : [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function glob(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

function listOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
