/**
 * Lambda's event filtering for the local event source mappings: a mapping's `FilterCriteria` sends a
 * record to the function only when one of its filters matches it. The rule syntax is Lambda's ("Control
 * which events Lambda sends to your function", Lambda Developer Guide), EventBridge's narrowed
 * (event-pattern.ts matches both): a field's array lists matchers, any of which may match (a string,
 * number, boolean or null equals; `prefix`, `suffix`, `equals-ignore-case`, `exists`, `numeric`,
 * `anything-but` with a value or a list of values); fields of an object must all match. An operator
 * Lambda does not offer (EventBridge's `wildcard`, `anything-but` with a prefix) is refused when the
 * mapping is made, as Lambda refuses it.
 */
import { matchesPattern, type Pattern, type PatternDialect, patternError } from './event-pattern';

const LAMBDA_FILTERS: PatternDialect = {
  name: 'a Lambda filter',
  operators: new Set(['prefix', 'suffix', 'equals-ignore-case', 'exists', 'numeric', 'anything-but']),
  anythingBut: new Set(),
};

/** The record matcher of a mapping's `FilterCriteria.Filters[].Pattern` (JSON strings); throws on a bad one. */
export function recordFilter(patterns: readonly string[]): (record: unknown) => boolean {
  const parsed = patterns.map((text) => {
    let p: unknown;
    try {
      p = JSON.parse(text);
    } catch {
      throw new Error(`filter pattern ${text} is not JSON; write it as a JSON object of fields and matcher arrays`);
    }
    const error = patternError(p, LAMBDA_FILTERS);
    if (error) throw new Error(`filter pattern ${text}: ${error}`);
    return p as Pattern;
  });
  return (record) => parsed.length === 0 || parsed.some((p) => matchesPattern(p, record));
}
