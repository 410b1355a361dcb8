/**
 * A template's Conditions, evaluated as CloudFormation evaluates them once per deploy ("Conditions
 * syntax", "Condition functions", "Fn::FindInMap", AWS CloudFormation User Guide): from parameters,
 * pseudo parameters and Mappings only, with Fn::Equals, Fn::And and Fn::Or (2 to 10 conditions),
 * Fn::Not and `{ "Condition": "<name>" }`. Pure: what a condition may read comes in a scope, and what
 * CloudFormation refuses the template for is refused here, naming the stack, where and the fix.
 */
import { AssemblyScopeError } from './assembly-scope-error';
import type { Template } from './cloud-assembly';

/** What a template's conditions and mappings can read. */
export interface StaticScope {
  /** `stack <name>`: the start of every refusal. */
  readonly stack: string;
  /** The value of a parameter or pseudo parameter, or undefined when `name` is neither. */
  readonly ref: (name: string) => unknown;
  readonly mappings: NonNullable<Template['Mappings']>;
  readonly conditions: NonNullable<Template['Conditions']>;
}

/** CloudFormation's bounds on Fn::And and Fn::Or. */
const MIN_OPERANDS = 2;
const MAX_OPERANDS = 10;

function refuse(scope: StaticScope, where: string, what: string): never {
  throw new AssemblyScopeError(`${scope.stack}, ${where}: ${what}`);
}

/** Every named condition's value; a condition that cannot be evaluated refuses the template. */
export function conditionValues(scope: StaticScope): ReadonlyMap<string, boolean> {
  const values = new Map<string, boolean>();
  const evaluating: string[] = [];
  const named = (name: string, where: string): boolean => {
    const known = values.get(name);
    if (known !== undefined) return known;
    if (!Object.hasOwn(scope.conditions, name)) {
      refuse(
        scope,
        where,
        `condition ${name} is not in the template's Conditions: define it there, or name one that is`,
      );
    }
    if (evaluating.includes(name)) {
      refuse(
        scope,
        `condition ${name}`,
        `conditions refer to each other in a cycle (${[...evaluating, name].join(' -> ')})`,
      );
    }
    evaluating.push(name);
    const value = condition(scope, scope.conditions[name], `condition ${name}`, named);
    evaluating.pop();
    values.set(name, value);
    return value;
  };
  for (const name of Object.keys(scope.conditions)) named(name, `condition ${name}`);
  return values;
}

/** A condition function's value; `named` gives a `{ Condition }` reference's. */
function condition(
  scope: StaticScope,
  expr: unknown,
  where: string,
  named: (name: string, where: string) => boolean,
): boolean {
  const [fn, arg] = onlyKey(expr);
  const operands = (min: number, max: number): unknown[] => {
    if (!Array.isArray(arg) || arg.length < min || arg.length > max) {
      const count = min === max ? `${min}` : `${min} to ${max}`;
      refuse(scope, where, `${fn} takes a list of ${count}, got ${JSON.stringify(arg)}`);
    }
    return arg;
  };
  const sub = (x: unknown) => condition(scope, x, where, named);
  switch (fn) {
    case 'Fn::Equals': {
      const [a, b] = operands(2, 2).map((x) => JSON.stringify(comparable(staticValue(scope, x, where))));
      return a === b;
    }
    case 'Fn::And':
      return operands(MIN_OPERANDS, MAX_OPERANDS).every(sub);
    case 'Fn::Or':
      return operands(MIN_OPERANDS, MAX_OPERANDS).some(sub);
    case 'Fn::Not':
      return !sub(operands(1, 1)[0]);
    case 'Condition':
      return named(String(arg), where);
    default:
      return refuse(
        scope,
        where,
        `${JSON.stringify(expr)} is not a condition: use Fn::Equals, Fn::And, Fn::Or, Fn::Not or { "Condition": "<name>" }`,
      );
  }
}

/** Scalars as the strings CloudFormation compares (`"1"` equals `1`, `"true"` equals `true`). */
function comparable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(comparable);
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
}

/** The key and value of a one-key object (an intrinsic function), else none. */
function onlyKey(v: unknown): [string | undefined, unknown] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [undefined, undefined];
  const keys = Object.keys(v);
  return keys.length === 1 ? [keys[0], (v as Record<string, unknown>)[keys[0]!]] : [undefined, undefined];
}

/**
 * A value a condition or a mapping key may hold: a literal, a list, a `Ref` to a parameter or pseudo
 * parameter, or Fn::FindInMap. Anything else (a resource, another function) is refused.
 */
export function staticValue(scope: StaticScope, v: unknown, where: string): unknown {
  if (Array.isArray(v)) return v.map((x) => staticValue(scope, x, where));
  if (v === null || typeof v !== 'object') return v;
  const [fn, arg] = onlyKey(v);
  if (fn === 'Ref') {
    const value = scope.ref(String(arg));
    if (value === undefined) {
      refuse(
        scope,
        where,
        `Ref ${String(arg)} is not a parameter or pseudo parameter, the only names it may read here`,
      );
    }
    return value;
  }
  if (fn === 'Fn::FindInMap') return findInMap(scope, arg, where);
  return refuse(
    scope,
    where,
    `${JSON.stringify(v)} cannot be used here: only literals, Ref to a parameter or pseudo parameter and Fn::FindInMap can`,
  );
}

/**
 * Fn::FindInMap [map, topKey, secondKey] (keys may be `Ref`s or Fn::FindInMap), with the optional
 * `{ "DefaultValue": ... }` of the AWS::LanguageExtensions transform. A missing key refuses the template.
 */
export function findInMap(scope: StaticScope, arg: unknown, where: string): unknown {
  if (!Array.isArray(arg) || arg.length < 3 || arg.length > 4) {
    refuse(scope, where, `Fn::FindInMap takes [map, topKey, secondKey], got ${JSON.stringify(arg)}`);
  }
  const [map, top, second] = arg.slice(0, 3).map((x) => String(staticValue(scope, x, where)));
  const fallback = (arg[3] as { DefaultValue?: unknown } | undefined)?.DefaultValue;
  const call = `Fn::FindInMap [${map}, ${top}, ${second}]`;
  const table = Object.hasOwn(scope.mappings, map!) ? scope.mappings[map!] : undefined;
  if (!table) refuse(scope, where, `${call}: the template's Mappings have no ${map}: add it, or name one they have`);
  const row = Object.hasOwn(table, top!) ? table[top!] : undefined;
  if (row && Object.hasOwn(row, second!)) return row[second!];
  if (fallback !== undefined) return staticValue(scope, fallback, where);
  const [missing, keys] = row ? [second, Object.keys(row)] : [top, Object.keys(table)];
  return refuse(
    scope,
    where,
    `${call}: mapping ${map} has no key ${missing} (it has ${keys.join(', ') || 'none'}): add the key to the mapping`,
  );
}
