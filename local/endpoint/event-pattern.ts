/**
 * Event patterns as Amazon EventBridge matches them ("Amazon EventBridge event patterns", EventBridge
 * User Guide), which Lambda's event filtering borrows (event-filter.ts narrows the operators to its
 * own). A field's array lists matchers, any of which may match: a string, number, boolean or null
 * equals; `prefix`, `suffix` (each also with `equals-ignore-case` inside), `equals-ignore-case`,
 * `wildcard`, `exists`, `numeric`, and `anything-but` with a value, a list of values, or a `prefix`,
 * `suffix` or `equals-ignore-case`. Fields of an object must all match, and `$or` lists patterns one
 * of which must. An array in the event matches when any of its elements does, a nested pattern too;
 * `exists` holds for leaf values only (an object field does not exist, as EventBridge answers). Pure.
 */

export type Pattern = { readonly [field: string]: Pattern | readonly unknown[] };

/** What a service's patterns may use: its operators, and what its `anything-but` takes besides values. */
export interface PatternDialect {
  /** How errors name the patterns: `an EventBridge pattern`, `a Lambda filter`. */
  readonly name: string;
  readonly operators: ReadonlySet<string>;
  readonly anythingBut: ReadonlySet<string>;
}

export const EVENTBRIDGE_PATTERNS: PatternDialect = {
  name: 'an EventBridge pattern',
  operators: new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'exists', 'numeric', 'anything-but']),
  anythingBut: new Set(['prefix', 'suffix', 'equals-ignore-case']),
};

/**
 * What is wrong with a pattern, if anything: not an object of fields, an operator the dialect lacks,
 * or an operator's argument of the wrong kind. Checked once, when the rule or mapping is made.
 */
export function patternError(p: unknown, dialect: PatternDialect = EVENTBRIDGE_PATTERNS): string | undefined {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'expected an object of fields';
  for (const [field, v] of Object.entries(p)) {
    const error =
      field === '$or'
        ? orError(v, dialect)
        : Array.isArray(v)
          ? v.map((m) => matcherError(m, dialect)).find(Boolean)
          : patternError(v, dialect);
    if (error) return error;
  }
  return undefined;
}

function orError(v: unknown, dialect: PatternDialect): string | undefined {
  if (!Array.isArray(v) || v.length < 2) return '$or takes a list of at least two patterns';
  return v.map((p) => patternError(p, dialect)).find(Boolean);
}

function matcherError(m: unknown, dialect: PatternDialect): string | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const entries = Object.entries(m);
  const [op, arg] = entries[0] ?? [];
  if (!op || entries.length !== 1 || !dialect.operators.has(op)) {
    return `${JSON.stringify(op)} is not ${dialect.name} operator; use one of ${[...dialect.operators].join(', ')}`;
  }
  if (op === 'anything-but') return anythingButError(arg, dialect);
  return argumentError(op, arg);
}

function argumentError(op: string, arg: unknown): string | undefined {
  const bad = `${op} does not take ${JSON.stringify(arg)}`;
  switch (op) {
    case 'exists':
      return typeof arg === 'boolean' ? undefined : bad;
    case 'numeric':
      return Array.isArray(arg) && arg.length % 2 === 0 && arg.length > 0 && arg.every(numericPart) ? undefined : bad;
    case 'prefix':
    case 'suffix':
      return typeof arg === 'string' || ignoringCase(arg) !== undefined ? undefined : bad;
    default:
      return typeof arg === 'string' ? undefined : bad;
  }
}

/** `anything-but`: a value, a list of values, or one of the operators the dialect allows inside it. */
function anythingButError(arg: unknown, dialect: PatternDialect): string | undefined {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return undefined;
  const [op, inner] = Object.entries(arg)[0] ?? [];
  if (dialect.anythingBut.has(op ?? '') && typeof inner === 'string') return undefined;
  const allowed = ['a value', 'a list of values', ...[...dialect.anythingBut].map((o) => `{"${o}": "<text>"}`)];
  return `anything-but takes ${allowed.join(' or ')} in ${dialect.name}, not ${JSON.stringify(arg)}`;
}

function numericPart(x: unknown, i: number): boolean {
  return i % 2 === 0 ? ['=', '<', '<=', '>', '>='].includes(String(x)) : typeof x === 'number';
}

/** The string of `{ "equals-ignore-case": s }`, else undefined. */
function ignoringCase(arg: unknown): string | undefined {
  const v = (arg as Record<string, unknown> | null)?.['equals-ignore-case'];
  return typeof arg === 'object' && typeof v === 'string' ? v : undefined;
}

/** Whether `value` (an event, a record) matches a pattern `patternError` accepted. */
export function matchesPattern(pattern: Pattern, value: unknown): boolean {
  // A nested pattern over an array of objects matches when one of them does (EventBridge flattens arrays).
  if (Array.isArray(value)) return value.some((v) => matchesPattern(pattern, v));
  const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === '$or' && Array.isArray(rule)) return rule.some((p) => matchesPattern(p as Pattern, value));
    const v = Object.hasOwn(obj, field) ? obj[field] : undefined;
    return Array.isArray(rule) ? rule.some((m) => matcher(m, v)) : matchesPattern(rule as Pattern, v);
  });
}

/** One matcher against a field's value (undefined: the field is absent); an array value matches if any element does. */
function matcher(m: unknown, v: unknown): boolean {
  if (Array.isArray(v)) return v.some((e) => matcher(m, e));
  if (typeof m !== 'object' || m === null) return v !== undefined && m === v;
  const [op, arg] = Object.entries(m)[0]!;
  // Only a leaf value exists to EventBridge: a field holding an object does not (its own fields may).
  if (op === 'exists') return (v !== undefined && (typeof v !== 'object' || v === null)) === arg;
  if (op === 'numeric') return typeof v === 'number' && numeric(arg as unknown[], v);
  if (op === 'anything-but') return v !== undefined && !anythingBut(arg, v);
  return typeof v === 'string' && textMatch(op, arg, v);
}

/** Whether `v` is among what `anything-but` excludes. */
function anythingBut(arg: unknown, v: unknown): boolean {
  if (Array.isArray(arg)) return arg.includes(v);
  if (typeof arg === 'object' && arg !== null) {
    const [op, inner] = Object.entries(arg)[0]!;
    return typeof v === 'string' && textMatch(op, inner, v);
  }
  return arg === v;
}

function textMatch(op: string, arg: unknown, v: string): boolean {
  const folded = ignoringCase(arg);
  const [want, have] = folded === undefined ? [String(arg), v] : [folded.toLowerCase(), v.toLowerCase()];
  switch (op) {
    case 'prefix':
      return have.startsWith(want);
    case 'suffix':
      return have.endsWith(want);
    case 'equals-ignore-case':
      return v.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return wildcard(String(arg)).test(v);
    default:
      return false;
  }
}

/** `*` stands for any characters, `\*` for a star. */
function wildcard(pattern: string): RegExp {
  const parts = pattern.split(/(\\\*|\*)/).map((p) => (p === '*' ? '.*' : p === '\\*' ? '\\*' : literal(p)));
  return new RegExp(`^${parts.join('')}$`, 's');
}

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function numeric(conditions: readonly unknown[], v: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const n = Number(conditions[i + 1]);
    const ok = { '=': v === n, '<': v < n, '<=': v <= n, '>': v > n, '>=': v >= n }[String(conditions[i])];
    if (!ok) return false;
  }
  return true;
}
