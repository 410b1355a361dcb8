/**
 * Nested stacks (`AWS::CloudFormation::Stack` resources whose template is a file asset of the assembly)
 * are served as part of the stack that holds them, at any depth: their resources join the parent's
 * template under the nested stack's id (`Checkout` + `Payments1234` = `CheckoutPayments1234`), so the
 * local mesh runs their functions as functions of the mesh's own stack (registry, policy, identity,
 * aliases, queues, dashboard). What crossed the template's edge is wired as CloudFormation wires it:
 * a nested `Ref` to a parameter becomes the value the parent passes in its `Parameters` (in the parent's
 * terms), and the parent's `Fn::GetAtt [<nested>, Outputs.<name>]` becomes that output's value (in the
 * nested stack's terms, renamed). Its conditions and mappings join the parent's under the same prefix,
 * and a nested stack with a `Condition` takes all its resources along. Order follows CloudFormation's: a
 * nested resource waits for what the nested stack waits for, and whatever reads the nested stack
 * (DependsOn, an output) waits for all of it.
 */
import { AssemblyScopeError } from './assembly-scope-error';
import type { Template, TemplateResource } from './cloud-assembly';
import { dependenciesOf } from './deploy-order';
import type { NestedTemplates, Nesting } from './nested-template-file';

const NESTED_STACK = 'AWS::CloudFormation::Stack';
type Json = unknown;

/**
 * `template` with each nested stack's resources merged in, read by `nested`; `at` is where the template
 * sits (the top-level stack, or a nested stack and the templates that hold it).
 */
export function withNestedStacks(template: Template, nested: NestedTemplates, at: Nesting): Template {
  const own = template.Resources ?? {};
  const resources: Record<string, TemplateResource> = {};
  const outputs = new Map<string, Record<string, Json>>();
  const conditions: Record<string, Json> = { ...template.Conditions };
  const mappings: NonNullable<Template['Mappings']> = { ...template.Mappings };
  for (const [id, r] of Object.entries(own)) {
    const path = `${at.path}/${stackIdOf(id)}`;
    const read = r.Type === NESTED_STACK ? nested.read(r, { ...at, path }) : undefined;
    if (!read) {
      resources[id] = r;
      continue;
    }
    const inner = withNestedStacks(read.template, nested, { path, stacks: [...at.stacks, path], files: read.files });
    const merged = mergeNested(id, r, inner, new Set(Object.keys(own)));
    for (const [mid, mr] of Object.entries(merged.resources)) {
      if (mid !== id && (own[mid] || resources[mid])) {
        throw new AssemblyScopeError(
          `stack ${at.path}: the nested stack ${path} has a resource ${mid}, as its parent has`,
        );
      }
      resources[mid] = mr;
    }
    joinNames(conditions, merged.conditions, `stack ${at.path}: the nested stack ${path} has a condition`);
    joinNames(mappings, merged.mappings, `stack ${at.path}: the nested stack ${path} has a mapping`);
    outputs.set(id, merged.outputs);
  }
  if (outputs.size === 0) return template;
  const reader = new OutputReader(at.path, outputs);
  for (const [id, r] of Object.entries(resources)) resources[id] = reader.resource(r);
  const out = Object.entries(template.Outputs ?? {}).map(([k, o]) => [k, { ...o, Value: reader.value(o.Value) }]);
  return { ...template, Resources: resources, Outputs: Object.fromEntries(out), ...named(conditions, mappings) };
}

/** The merged Conditions and Mappings, where there are any. */
function named(conditions: Record<string, Json>, mappings: NonNullable<Template['Mappings']>): Partial<Template> {
  return {
    ...(Object.keys(conditions).length > 0 ? { Conditions: conditions } : {}),
    ...(Object.keys(mappings).length > 0 ? { Mappings: mappings } : {}),
  };
}

/** `more`'s entries added to `into`; a name both have is refused (`clash` says where, the name follows). */
function joinNames<T>(into: Record<string, T>, more: Record<string, T>, clash: string): void {
  for (const [name, v] of Object.entries(more)) {
    if (Object.hasOwn(into, name)) throw new AssemblyScopeError(`${clash} ${name}, as its parent has`);
    into[name] = v;
  }
}

/** The nested stack's construct id, from CDK's `<id>NestedStack<id>NestedStackResource<hash>` (else the logical id). */
function stackIdOf(logicalId: string): string {
  return /^(.+)NestedStack\1NestedStackResource[0-9A-F]{8}$/.exec(logicalId)?.[1] ?? logicalId;
}

/**
 * The nested stack `id`'s resources renamed into its parent, each waiting for what the stack waits
 * for, and a resource `id` of no local effect that waits for all of them; its outputs in the parent's terms.
 */
function mergeNested(
  id: string,
  r: TemplateResource,
  nested: Template,
  parentIds: ReadonlySet<string>,
): {
  resources: Record<string, TemplateResource>;
  outputs: Record<string, Json>;
  conditions: Record<string, Json>;
  mappings: NonNullable<Template['Mappings']>;
} {
  const given = (r.Properties?.Parameters ?? {}) as Record<string, Json>;
  const params: Record<string, Json> = {};
  for (const [name, p] of Object.entries(nested.Parameters ?? {})) {
    if (given[name] !== undefined) params[name] = given[name];
    else if (p.Default !== undefined) params[name] = p.Default;
  }
  const keys = (o: object | undefined) => new Set(Object.keys(o ?? {}));
  const renamer = new Renamer(
    stackIdOf(id),
    keys(nested.Resources),
    params,
    keys(nested.Conditions),
    keys(nested.Mappings),
  );
  const gate = [...dependenciesOf(r, parentIds)];
  const conditions = Object.fromEntries(
    Object.entries(nested.Conditions ?? {}).map(([k, c]) => [renamer.condition(k), renamer.value(c)]),
  );
  const resources: Record<string, TemplateResource> = {};
  for (const [nid, nr] of Object.entries(nested.Resources ?? {})) {
    const own = nr.Condition === undefined ? undefined : renamer.condition(nr.Condition);
    const condition = within(r.Condition, own, conditions);
    resources[renamer.id(nid)] = { ...renamer.resource(nr, gate), ...(condition ? { Condition: condition } : {}) };
  }
  resources[id] = {
    Type: r.Type,
    Metadata: r.Metadata,
    DependsOn: [...gate, ...Object.keys(resources)],
    ...(r.Condition ? { Condition: r.Condition } : {}),
  };
  const outputs = Object.fromEntries(Object.entries(nested.Outputs ?? {}).map(([k, o]) => [k, renamer.value(o.Value)]));
  const mappings = Object.fromEntries(Object.entries(nested.Mappings ?? {}).map(([k, m]) => [renamer.mapping(k), m]));
  return { resources, outputs, conditions, mappings };
}

/**
 * The condition a nested resource exists under: its own, and the nested stack's when the stack has one
 * (a new condition of both, added to `conditions`), as a nested stack left out takes all of it along.
 */
function within(
  stack: string | undefined,
  own: string | undefined,
  conditions: Record<string, Json>,
): string | undefined {
  if (stack === undefined || own === undefined) return stack ?? own;
  const both = `${own}And${stack}`;
  conditions[both] = { 'Fn::And': [{ Condition: stack }, { Condition: own }] };
  return both;
}

/** The parts of a resource that hold values (an alias's update policy names its deployment group), rewritten by `f`. */
function valuesOf(r: TemplateResource, f: (v: Json) => Json): Pick<TemplateResource, 'Properties' | 'UpdatePolicy'> {
  return {
    ...(r.Properties ? { Properties: f(r.Properties) as TemplateResource['Properties'] } : {}),
    ...(r.UpdatePolicy ? { UpdatePolicy: f(r.UpdatePolicy) as TemplateResource['UpdatePolicy'] } : {}),
  };
}

/** Rewrites a nested template's values into its parent's terms. */
class Renamer {
  constructor(
    private readonly prefix: string,
    private readonly ids: ReadonlySet<string>,
    private readonly params: Readonly<Record<string, Json>>,
    private readonly conditions: ReadonlySet<string> = new Set(),
    private readonly mappings: ReadonlySet<string> = new Set(),
  ) {}

  id(logicalId: string): string {
    return this.ids.has(logicalId) ? `${this.prefix}${logicalId}` : logicalId;
  }

  /** A nested condition's name in the parent. */
  condition(name: string): string {
    return this.conditions.has(name) ? `${this.prefix}${name}` : name;
  }

  /** A nested mapping's name in the parent. */
  mapping(name: string): string {
    return this.mappings.has(name) ? `${this.prefix}${name}` : name;
  }

  resource(r: TemplateResource, gate: readonly string[]): TemplateResource {
    const own = [r.DependsOn ?? []].flat().map((d) => this.id(d));
    return { ...r, ...valuesOf(r, (v) => this.value(v)), DependsOn: [...own, ...gate] };
  }

  value(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const [k] = Object.keys(o);
    if (Object.keys(o).length === 1 && k === 'Ref' && typeof o.Ref === 'string') {
      return o.Ref in this.params ? this.params[o.Ref] : { Ref: this.id(o.Ref) };
    }
    if (Object.keys(o).length === 1 && k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(o[k]) ? (o[k] as Json[]).map(String) : String(o[k]).split(/\.(.*)/);
      return { 'Fn::GetAtt': [this.id(id!), attr] };
    }
    if (Object.keys(o).length === 1 && k === 'Fn::Sub') return this.sub(o[k]);
    const renamed = this.named(k!, o[k!]);
    if (Object.keys(o).length === 1 && renamed !== undefined) return renamed;
    return Object.fromEntries(Object.entries(o).map(([key, x]) => [key, this.value(x)]));
  }

  /** Fn::If's condition, a `{ Condition }` reference and Fn::FindInMap's mapping renamed; undefined for any other key. */
  private named(k: string, arg: Json): Json | undefined {
    if (k === 'Condition' && typeof arg === 'string') return { Condition: this.condition(arg) };
    if (!Array.isArray(arg) || typeof arg[0] !== 'string') return undefined;
    const [name, ...rest] = arg as [string, ...Json[]];
    if (k === 'Fn::If') return { [k]: [this.condition(name), ...rest.map((x) => this.value(x))] };
    if (k === 'Fn::FindInMap') return { [k]: [this.mapping(name), ...rest.map((x) => this.value(x))] };
    return undefined;
  }

  /** `${Id}` and `${Id.Attr}` renamed; `${Param}` given as a variable holding the parent's value. */
  private sub(arg: Json): Json {
    const [text, given] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
    const vars = Object.fromEntries(Object.entries(given ?? {}).map(([k, x]) => [k, this.value(x)]));
    const renamed = text.replace(/\$\{([^}!.]+)((?:\.[^}]*)?)\}/g, (m, name: string, attr: string) => {
      if (name in vars) return m;
      if (!attr && name in this.params) vars[name] = this.params[name];
      return `\${${this.id(name)}${attr}}`;
    });
    return { 'Fn::Sub': [renamed, vars] };
  }
}

/**
 * Replaces the parent's reads of nested outputs (`Fn::GetAtt [<nested>, Outputs.<name>]`, `${<nested>.Outputs.<name>}`)
 * with the outputs' values; a resource that reads one waits for the whole nested stack, as on AWS.
 */
class OutputReader {
  private readonly reading: string[] = [];
  private read = new Set<string>();

  constructor(
    private readonly where: string,
    private readonly outputs: ReadonlyMap<string, Record<string, Json>>,
  ) {}

  resource(r: TemplateResource): TemplateResource {
    this.read = new Set();
    const values = valuesOf(r, (v) => this.value(v));
    const DependsOn = [...new Set([...[r.DependsOn ?? []].flat(), ...this.read])];
    return { ...r, ...values, ...(DependsOn.length > 0 ? { DependsOn } : {}) };
  }

  value(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(o[keys[0]])
        ? (o[keys[0]] as Json[]).map(String)
        : String(o[keys[0]]).split(/\.(.*)/);
      const name = attr?.startsWith('Outputs.') ? attr.slice('Outputs.'.length) : undefined;
      if (name !== undefined && this.outputs.get(id!)?.[name] !== undefined) return this.output(id!, name);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') return this.sub(o['Fn::Sub']);
    return Object.fromEntries(keys.map((k) => [k, this.value(o[k])]));
  }

  private output(id: string, name: string): Json {
    const key = `${id}.Outputs.${name}`;
    if (this.reading.includes(key)) {
      const cycle = [...this.reading.slice(this.reading.indexOf(key)), key].join(' -> ');
      throw new AssemblyScopeError(
        `stack ${this.where}: nested stacks' outputs and parameters read each other in a cycle (${cycle})`,
      );
    }
    this.read.add(id);
    this.reading.push(key);
    try {
      return this.value(this.outputs.get(id)![name]);
    } finally {
      this.reading.pop();
    }
  }

  private sub(arg: Json): Json {
    const [text, given] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
    const vars = Object.fromEntries(Object.entries(given ?? {}).map(([k, x]) => [k, this.value(x)]));
    for (const [, id, name] of text.matchAll(/\$\{([^}!.]+)\.Outputs\.([^}]+)\}/g)) {
      const expr = `${id}.Outputs.${name}`;
      if (!(expr in vars) && this.outputs.get(id!)?.[name!] !== undefined) vars[expr] = this.output(id!, name!);
    }
    return { 'Fn::Sub': [text, vars] };
  }
}
