/**
 * What CloudFormation would refuse in a template's references, read from the template alone: a
 * dependency cycle (Ref, Fn::GetAtt, DependsOn and Fn::Sub between its resources; a nested stack is one
 * resource of its parent, its parameters references to the parent's resources and its outputs read with
 * Fn::GetAtt) and a reference to a name the template does not hold (a resource of another template).
 */

/** A CloudFormation template, as much of it as references need. */
export interface TemplateJson {
  readonly Resources: Record<string, { DependsOn?: string | string[]; Properties?: unknown }>;
  readonly Parameters?: Record<string, unknown>;
  readonly Outputs?: Record<string, unknown>;
}

/** The names `value` refers to (resources, parameters and pseudo parameters alike). */
export function referencesIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencesIn(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') out.add(v);
      else if (key === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]!);
      else if (key === 'Fn::Sub') subReferences(v, out);
      else referencesIn(v, out);
    }
  }
  return out;
}

/** `${Name}` and `${Name.Attr}` in a Fn::Sub string (`${!x}` is a literal); its variables map is walked too. */
function subReferences(sub: unknown, out: Set<string>): void {
  const [text, vars] = Array.isArray(sub) ? [sub[0], sub[1]] : [sub, undefined];
  const local = new Set(Object.keys((vars as Record<string, unknown> | undefined) ?? {}));
  for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
    const name = m[1]!.split('.')[0]!;
    if (!local.has(name)) out.add(name);
  }
  if (vars) referencesIn(vars, out);
}

/** The names each resource depends on within the template, pseudo parameters and parameters left out. */
function dependencies(template: TemplateJson): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const on = referencesIn(r.Properties);
    for (const d of [r.DependsOn ?? []].flat()) on.add(d);
    graph.set(
      id,
      [...on].filter((n) => n in template.Resources),
    );
  }
  return graph;
}

/** One dependency cycle among the template's resources (its ids in order, the first repeated), if any. */
export function findCycle(template: TemplateJson): string[] | undefined {
  const graph = dependencies(template);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const d of graph.get(id) ?? []) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of graph.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The names the template's resources and outputs refer to that it neither holds nor CloudFormation defines. */
export function danglingReferences(template: TemplateJson): string[] {
  const known = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})]);
  const used = referencesIn([template.Resources, template.Outputs ?? {}]);
  return [...used].filter((n) => !known.has(n) && !n.startsWith('AWS::')).sort();
}
