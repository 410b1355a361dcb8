/**
 * The template a stack deploys once CloudFormation has applied its conditions and mappings: a resource
 * or output whose `Condition` is false is left out, each Fn::If becomes the branch its condition picks,
 * `{ "Ref": "AWS::NoValue" }` removes the property or list item it stands for, and each Fn::FindInMap
 * becomes its value ("Conditions syntax", "Condition functions", "Fn::FindInMap", "Parameters
 * syntax", AWS CloudFormation User Guide). Pure; what CloudFormation refuses the template for is
 * refused, naming the stack, the logical id and the fix.
 */
import { AssemblyScopeError } from './assembly-scope-error';
import type { Template, TemplateOutput, TemplateResource } from './cloud-assembly';
import { conditionValues, findInMap, type StaticScope } from './condition-values';
import { dependenciesOf } from './deploy-order';
import { pseudoParameter, type StackPlace } from './pseudo-parameters';

/** What `{ "Ref": "AWS::NoValue" }` leaves: nothing, so the property or item holding it goes. */
const NO_VALUE = Symbol('AWS::NoValue');

/** `template` as the stack at `at` deploys it. */
export function activeTemplate(template: Template, at: StackPlace): Template {
  const stack = `stack ${at.stackName}`;
  const parameters = parameterValues(template, stack);
  const scope: StaticScope = {
    stack,
    ref: (name) => (Object.hasOwn(parameters, name) ? parameters[name](name) : pseudoParameter(name, at)),
    mappings: template.Mappings ?? {},
    conditions: template.Conditions ?? {},
  };
  const choose = new Chooser(scope, conditionValues(scope));
  const resources: Record<string, TemplateResource> = {};
  const left = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    const where = `resource ${id}`;
    if (choose.holds(r.Condition, where)) resources[id] = choose.resource(r, where);
    else left.set(id, r.Condition!);
  }
  const outputs: Record<string, TemplateOutput> = {};
  for (const [id, o] of Object.entries(template.Outputs ?? {})) {
    const where = `output ${id}`;
    const value = choose.holds(o.Condition, where) ? choose.value(o.Value, where) : NO_VALUE;
    if (value !== NO_VALUE) outputs[id] = { ...o, Value: value };
  }
  refuseReadsOfLeftOut(stack, resources, outputs, left);
  return {
    ...template,
    Resources: resources,
    ...(template.Outputs ? { Outputs: outputs } : {}),
  };
}

/**
 * Each parameter's value, read lazily: its Default. The local mesh is given no other values, so a
 * parameter without one is refused where a condition or a mapping key reads it (no branch can be chosen
 * without it); elsewhere its Ref stays unresolved, as before conditions were applied, and the resolver
 * warns where a value needs it.
 */
function parameterValues(template: Template, stack: string): Record<string, (name: string) => unknown> {
  const values: Record<string, (name: string) => unknown> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    values[name] = () => {
      if (p.Default !== undefined) return p.Default;
      throw new AssemblyScopeError(
        `${stack}, parameter ${name}: a condition or mapping reads it, and it has no Default; the local mesh passes no parameter values, so CloudFormation would refuse the deploy ("Parameters: [${name}] must have values"): give it a default (new CfnParameter(this, '${name}', { default: ... }))`,
      );
    };
  }
  return values;
}

/** Picks Fn::If branches, drops AWS::NoValue and reads mappings, in one stack's values. */
class Chooser {
  constructor(
    private readonly scope: StaticScope,
    private readonly conditions: ReadonlyMap<string, boolean>,
  ) {}

  /** Whether a resource or output with this `Condition` exists (none: it does). */
  holds(name: string | undefined, where: string): boolean {
    return name === undefined || this.condition(name, where);
  }

  resource(r: TemplateResource, where: string): TemplateResource {
    const part = (v: Record<string, unknown> | undefined) => {
      const chosen = v === undefined ? NO_VALUE : this.value(v, where);
      return chosen === NO_VALUE ? undefined : (chosen as Record<string, unknown>);
    };
    const { Properties, UpdatePolicy, ...rest } = r;
    const [props, update] = [part(Properties), part(UpdatePolicy)];
    return { ...rest, ...(props ? { Properties: props } : {}), ...(update ? { UpdatePolicy: update } : {}) };
  }

  value(v: unknown, where: string): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x, where)).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Fn::If') return this.branch(o['Fn::If'], where);
    if (keys.length === 1 && keys[0] === 'Ref' && o.Ref === 'AWS::NoValue') return NO_VALUE;
    if (keys.length === 1 && keys[0] === 'Fn::FindInMap') {
      return findInMap(this.scope, this.value(o['Fn::FindInMap'], where), where);
    }
    const entries = keys.map((k) => [k, this.value(o[k], where)] as const);
    return Object.fromEntries(entries.filter(([, x]) => x !== NO_VALUE));
  }

  private branch(arg: unknown, where: string): unknown {
    if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') {
      throw new AssemblyScopeError(
        `${this.scope.stack}, ${where}: Fn::If takes [conditionName, valueIfTrue, valueIfFalse], got ${JSON.stringify(arg)}`,
      );
    }
    return this.value(this.condition(arg[0], where) ? arg[1] : arg[2], where);
  }

  private condition(name: string, where: string): boolean {
    const value = this.conditions.get(name);
    if (value === undefined) {
      throw new AssemblyScopeError(
        `${this.scope.stack}, ${where}: condition ${name} is not in the template's Conditions: define it there, or name one that is`,
      );
    }
    return value;
  }
}

/**
 * A nested stack served as part of its parent (nested-stacks.ts): it waits for all its resources, which
 * the local mesh wrote into its DependsOn, those its conditions leave out too; the template never named them.
 */
function mergedNestedStack(r: TemplateResource): boolean {
  return r.Type === 'AWS::CloudFormation::Stack' && r.Properties === undefined;
}

/**
 * A resource or output left in that reads (Ref, Fn::GetAtt, Fn::Sub, DependsOn) one its condition left
 * out: CloudFormation refuses the template ("Unresolved resource dependencies").
 */
function refuseReadsOfLeftOut(
  stack: string,
  resources: Readonly<Record<string, TemplateResource>>,
  outputs: Readonly<Record<string, TemplateOutput>>,
  left: ReadonlyMap<string, string>,
): void {
  if (left.size === 0) return;
  const ids = new Set(left.keys());
  const readers: [string, TemplateResource][] = [
    ...Object.entries(resources).map(([id, r]) => [`resource ${id}`, r] as [string, TemplateResource]),
    ...Object.entries(outputs).map(
      ([id, o]) => [`output ${id}`, { Type: 'Output', Properties: { Value: o.Value } }] as [string, TemplateResource],
    ),
  ];
  for (const [where, r] of readers) {
    const [read] = dependenciesOf(mergedNestedStack(r) ? { ...r, DependsOn: [] } : r, ids);
    if (read === undefined) continue;
    const condition = left.get(read)!;
    throw new AssemblyScopeError(
      `${stack}, ${where}: it reads resource ${read}, which its condition ${condition} leaves out here, so CloudFormation would refuse the template ("Unresolved resource dependencies [${read}]"): give it the condition ${condition} too, or read ${read} inside Fn::If [${condition}, ..., { "Ref": "AWS::NoValue" }]`,
    );
  }
}
