/**
 * DynamoDB's nesting limit on what an item holds: "nested attributes up to 32 levels deep" ("Service,
 * account, and table quotas in Amazon DynamoDB", DynamoDB Developer Guide). The attribute counts as
 * the first level, so its value wraps at most 31 maps and lists; DynamoDB refuses a write that would
 * store more with a ValidationException. dynalite keeps whatever it is given, and its update and type
 * checks recurse on the stored item: an item made deeper update after update (`SET a.b.c = :v` puts a
 * value 31 levels deep three levels down; `SET a.b = a` copies a document into itself) overflowed its
 * stack at about 1,100 levels, in a callback outside any handler, and ended the local mesh.
 *
 * Worse, dynalite sets a path to the very object another path holds, where DynamoDB copies it: after
 * `SET d.a = d` the item's `d` holds itself, and sizing that item overflowed the stack at once, one
 * request ending the mesh. Such an update is refused by name (`copiesIntoItself`). Pure.
 */

/** The most maps and lists an attribute's value may wrap, one inside another. */
export const MAX_VALUE_NESTING = 31;

/** DynamoDB's words for an item nested past its limit. */
export const NESTING_MESSAGE = 'Nesting Levels have exceeded supported limits';

/**
 * Whether an attribute of `item` (DynamoDB JSON: `{"M": ...}`, `{"L": [...]}`) wraps its value in more
 * than MAX_VALUE_NESTING maps and lists. Walked without recursion, and stopped at the first level past it.
 */
export function nestsTooDeep(item: unknown): boolean {
  if (typeof item !== 'object' || item === null) return false;
  const stack: [unknown, number][] = Object.values(item).map((v) => [v, 0]);
  while (stack.length > 0) {
    const [value, wraps] = stack.pop()!;
    const inner = documentOf(value);
    if (!inner) continue;
    if (wraps >= MAX_VALUE_NESTING) return true;
    for (const v of inner) stack.push([v, wraps + 1]);
  }
  return false;
}

/** The values a map or list attribute value holds; undefined for any other value. */
function documentOf(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { M, L } = value as { M?: unknown; L?: unknown };
  if (Array.isArray(L)) return L;
  return typeof M === 'object' && M !== null ? Object.values(M) : undefined;
}

/**
 * Whether an UpdateItem may leave its item deeper than its request: it sets a path (`SET`), or uses
 * the legacy `AttributeUpdates`. `REMOVE`, `ADD` and `DELETE` alone never add a level.
 */
export function updateMayDeepen(input: Readonly<Record<string, unknown>> | undefined): boolean {
  if (!input) return false;
  const expression = input.UpdateExpression;
  return (typeof expression === 'string' && /\bSET\b/i.test(expression)) || input.AttributeUpdates !== undefined;
}

/** One action of an update expression as dynalite's parser gives it: a path, and what is set there. */
interface UpdateSection {
  readonly type: string;
  readonly path: readonly (string | number)[];
  readonly val?: unknown;
}

/** dynalite's own parse of an update's expressions (`_updates`), or an error text it answers itself. */
const { validateExpressions } = require('dynalite/validations') as {
  validateExpressions(data: Record<string, unknown>): string | undefined;
};

/**
 * Whether an UpdateItem sets a path to a document that holds that path (`SET d.a = d`,
 * `SET m.x = if_not_exists(m, :v)`): dynalite would nest the document in itself. Read with dynalite's
 * parser, names resolved; an expression it cannot parse is left to it to refuse.
 */
export function copiesIntoItself(input: Readonly<Record<string, unknown>>): boolean {
  if (typeof input.UpdateExpression !== 'string') return false;
  const parsed: Record<string, unknown> = { ...input };
  if (validateExpressions(parsed) !== undefined) return false;
  const sections = (parsed._updates as { sections?: readonly UpdateSection[] } | undefined)?.sections ?? [];
  return sections.some(
    (s) => s.type === 'set' && operandPaths(s.val).some((p) => p.length < s.path.length && holds(p, s.path)),
  );
}

/** The document paths an operand reads: itself, or those of a function's or an operator's arguments. */
function operandPaths(val: unknown): (readonly (string | number)[])[] {
  if (Array.isArray(val)) return [val];
  const args = (val as { type?: unknown; args?: unknown } | undefined)?.args;
  return Array.isArray(args) ? args.flatMap(operandPaths) : [];
}

/** Whether `path` starts with every step of `outer`. */
function holds(outer: readonly (string | number)[], path: readonly (string | number)[]): boolean {
  return outer.every((step, i) => step === path[i]);
}
