/**
 * What a rule's target receives for a matched event ("Transforming target input", EventBridge User
 * Guide): the event itself, `Input` (JSON text, as is), `InputPath` (the part of the event one JSONPath
 * names) or `InputTransformer` (values picked by `InputPathsMap` put into `InputTemplate`'s
 * `<name>` placeholders). Paths are the simple ones EventBridge's examples use: `$`, `$.a.b`, `$.a[0]`.
 * Pure: a target and an event in, the payload out.
 */

export interface RuleInput {
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { readonly pathsMap: Readonly<Record<string, string>>; readonly template: string };
}

/** Why a target's path cannot be followed here, or undefined; checked when the rule is deployed. */
export function ruleInputError(i: RuleInput): string | undefined {
  const paths = [i.inputPath, ...Object.values(i.inputTransformer?.pathsMap ?? {})].filter((p) => p !== undefined);
  const bad = paths.find((p) => segmentsOf(p) === undefined);
  return bad === undefined ? undefined : `the path ${JSON.stringify(bad)} is not of the form $.field.field[index]`;
}

export function targetPayload(i: RuleInput, event: object): string {
  if (i.input !== undefined) return i.input;
  if (i.inputPath !== undefined) return JSON.stringify(at(event, i.inputPath) ?? null);
  if (!i.inputTransformer) return JSON.stringify(event);
  const values = Object.fromEntries(
    Object.entries(i.inputTransformer.pathsMap).map(([name, path]) => [name, at(event, path)]),
  );
  return fill(i.inputTransformer.template, values);
}

/**
 * The template with each `<name>` replaced: a string value as its text (inside quotes the template
 * gives), any other value as its JSON; a name the map does not hold stays as written.
 */
function fill(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/<([A-Za-z0-9_.-]+)>/g, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) return whole;
    const v = values[name];
    if (typeof v === 'string') return JSON.stringify(v).slice(1, -1);
    return v === undefined ? 'null' : JSON.stringify(v);
  });
}

function at(event: object, path: string): unknown {
  let v: unknown = event;
  for (const key of segmentsOf(path) ?? []) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** `$.a.b[0]` as `['a', 'b', '0']`; undefined for a path of another form. */
function segmentsOf(path: string): string[] | undefined {
  if (path === '$') return [];
  if (!/^\$(\.[A-Za-z0-9_-]+|\[\d+\])+$/.test(path)) return undefined;
  return [...path.matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)].map((m) => m[1] ?? m[2]!);
}
