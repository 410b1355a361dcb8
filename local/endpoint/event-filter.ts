/**
 * Lambda's event filtering for the local event source mappings: a mapping's `FilterCriteria` sends a
 * record to the function only when one of its filters matches it. The rule syntax is Lambda's ("Control
 * which events Lambda sends to your function", Lambda Developer Guide), not EventBridge's: a field's
 * array lists matchers, any of which may match (a string, number, boolean or null equals; `prefix`,
 * `suffix`, `equals-ignore-case`, `exists`, `numeric`, `anything-but` with a value or a list of values);
 * fields of an object must all match. An operator Lambda does not offer (EventBridge's `wildcard`,
 * `anything-but` with a prefix) is refused when the mapping is made, as Lambda refuses it.
 */

type Pattern = { readonly [field: string]: Pattern | readonly unknown[] };

/** The record matcher of a mapping's `FilterCriteria.Filters[].Pattern` (JSON strings); throws on a bad one. */
export function recordFilter(patterns: readonly string[]): (record: unknown) => boolean {
  const parsed = patterns.map((text) => {
    let p: unknown;
    try {
      p = JSON.parse(text);
    } catch {
      throw new Error(`filter pattern ${text} is not JSON; write it as a JSON object of fields and matcher arrays`);
    }
    checkPattern(p, text);
    return p as Pattern;
  });
  return (record) => parsed.length === 0 || parsed.some((p) => matches(p, record));
}

function checkPattern(p: unknown, text: string): void {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new Error(`filter pattern ${text}: expected an object of fields`);
  }
  for (const v of Object.values(p)) {
    if (Array.isArray(v)) for (const m of v) checkMatcher(m, text);
    else checkPattern(v, text);
  }
}

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'exists', 'numeric', 'anything-but']);

function checkMatcher(m: unknown, text: string): void {
  if (typeof m !== 'object' || m === null) return;
  const [op, arg] = Object.entries(m)[0] ?? [];
  if (!op || !OPERATORS.has(op)) {
    throw new Error(
      `filter pattern ${text}: ${JSON.stringify(op)} is not a Lambda filter operator; use one of ${[...OPERATORS].join(', ')}`,
    );
  }
  if (op === 'anything-but' && typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
    throw new Error(
      `filter pattern ${text}: Lambda's anything-but takes a value or a list of values, not ${JSON.stringify(arg)}`,
    );
  }
}

function matches(pattern: Pattern, value: unknown): boolean {
  const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([field, rule]) => {
    const v = Object.hasOwn(obj, field) ? obj[field] : undefined;
    return Array.isArray(rule) ? rule.some((m) => matcher(m, v)) : matches(rule as Pattern, v);
  });
}

/** One matcher against a field's value (undefined: the field is absent); an array value matches if any element does. */
function matcher(m: unknown, v: unknown): boolean {
  if (Array.isArray(v)) return v.some((e) => matcher(m, e));
  if (typeof m !== 'object' || m === null) return v !== undefined && v === m;
  const [op, arg] = Object.entries(m)[0]!;
  switch (op) {
    case 'exists':
      return (v !== undefined) === arg;
    case 'prefix':
      return typeof v === 'string' && v.startsWith(String(arg));
    case 'suffix':
      return typeof v === 'string' && v.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase();
    case 'anything-but':
      return v !== undefined && !(Array.isArray(arg) ? arg : [arg]).includes(v);
    case 'numeric':
      return typeof v === 'number' && numeric(arg as unknown[], v);
    default:
      return false;
  }
}

function numeric(conditions: readonly unknown[], v: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const n = Number(conditions[i + 1]);
    const ok = { '=': v === n, '<': v < n, '<=': v <= n, '>': v > n, '>=': v >= n }[String(conditions[i])];
    if (!ok) return false;
  }
  return true;
}
