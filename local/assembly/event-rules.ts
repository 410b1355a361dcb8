/**
 * The templates' EventBridge resources on the local buses (local/events/event-buses.ts):
 * AWS::Events::EventBus makes a bus, AWS::Events::Rule puts a rule with its pattern and function
 * targets (what the template gives of Input, InputPath, InputTransformer and DeadLetterConfig), and
 * AWS::Events::EventBusPolicy is kept for IAM to judge PutEvents by. A pattern EventBridge would refuse
 * fails the deployment, naming the rule; what the local mesh does not run (schedules, targets other
 * than functions) is left out with a warning.
 */

import { patternError } from '../endpoint/event-pattern';
import type { ResourcePolicies } from '../endpoint/iam-resource-policies';
import { busNameOf, type EventBuses, type EventRule, type RuleTarget } from '../events/event-buses';
import { ruleInputError } from '../events/rule-input';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import type { Resolver } from './intrinsics';

export interface RuleContext {
  readonly buses: EventBuses;
  readonly resolver: Resolver;
  readonly policies: ResourcePolicies | undefined;
  readonly warn: (warning: string) => void;
}

/** A bus; returns its name (the physical id). */
export function applyEventBus(ctx: RuleContext, stack: AssemblyStack, id: string): string {
  const name = ctx.resolver.physicalName(stack, id);
  ctx.buses.putBus(ctx.resolver.regionOf(stack), name);
  return name;
}

/** A rule on its bus; returns `<bus>/<rule>` (the physical id its removal reads), or undefined when not run. */
export function applyEventRule(
  ctx: RuleContext,
  stack: AssemblyStack,
  id: string,
  r: TemplateResource,
): string | undefined {
  const p = r.Properties ?? {};
  const where = `rule ${stack.stackName}/${id}`;
  if (p.EventPattern === undefined) {
    ctx.warn(`${where}: the local mesh runs rules with an EventPattern only (not schedules); it is left out`);
    return undefined;
  }
  const pattern = parsedPattern(ctx.resolver.resolve(stack, p.EventPattern));
  const error = patternError(pattern);
  if (error) throw new Error(`${where}: its EventPattern is refused: ${error}`);
  const rule: EventRule = {
    name: ctx.resolver.physicalName(stack, id),
    busName: busNameOf(ctx.resolver.resolveString(stack, p.EventBusName)),
    pattern: pattern as EventRule['pattern'],
    enabled: (ctx.resolver.resolveString(stack, p.State) ?? 'ENABLED') === 'ENABLED',
    targets: targetsOf(ctx, stack, where, p.Targets),
    ...(typeof p.Description === 'string' ? { description: p.Description } : {}),
  };
  ctx.buses.putRule(ctx.resolver.regionOf(stack), rule);
  return `${rule.busName}/${rule.name}`;
}

/** Takes away a rule an earlier deploy put (`<bus>/<rule>`). */
export function removeEventRule(buses: EventBuses, region: string, physicalId: string): void {
  const at = physicalId.lastIndexOf('/');
  buses.removeRule(region, physicalId.slice(0, at), physicalId.slice(at + 1));
}

/** A bus's resource policy, on the bus it names (the default bus when it names none). */
export function applyEventBusPolicy(ctx: RuleContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const bus = busNameOf(ctx.resolver.resolveString(stack, p.EventBusName));
  const arn = ctx.buses.busArn(ctx.resolver.regionOf(stack), bus);
  // `Statement` is one statement; the older `Action`/`Principal` form has no local meaning and is not judged.
  const statement = ctx.resolver.resolve(stack, p.Statement);
  if (statement === undefined) {
    ctx.warn(`event bus policy ${stack.stackName}/${id}: only its Statement form is judged locally`);
    return;
  }
  ctx.policies?.put(`${stack.stackName}/${id}`, [arn], { Statement: [statement] });
}

/** EventPattern as an object: CloudFormation takes it as JSON or as text. */
function parsedPattern(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function targetsOf(ctx: RuleContext, stack: AssemblyStack, where: string, raw: unknown): RuleTarget[] {
  const targets = (ctx.resolver.resolve(stack, raw) as Record<string, unknown>[] | undefined) ?? [];
  return targets.flatMap((t) => {
    const arn = typeof t.Arn === 'string' ? t.Arn : undefined;
    if (!arn?.startsWith('arn:aws:lambda:')) {
      ctx.warn(
        `${where}: target ${String(t.Id)} (${arn ?? 'unresolved'}) is not a function; the local mesh leaves it out`,
      );
      return [];
    }
    const target = ruleTarget(t, arn);
    const error = ruleInputError(target);
    if (error) throw new Error(`${where}: target ${target.id}: ${error}`);
    return [target];
  });
}

function ruleTarget(t: Record<string, unknown>, arn: string): RuleTarget {
  const transformer = t.InputTransformer as
    | { InputPathsMap?: Record<string, string>; InputTemplate?: string }
    | undefined;
  const deadLetter = (t.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  return {
    id: String(t.Id),
    arn,
    ...(typeof t.Input === 'string' ? { input: t.Input } : {}),
    ...(typeof t.InputPath === 'string' ? { inputPath: t.InputPath } : {}),
    ...(transformer
      ? { inputTransformer: { pathsMap: transformer.InputPathsMap ?? {}, template: transformer.InputTemplate ?? '' } }
      : {}),
    ...(typeof deadLetter === 'string' ? { deadLetterArn: deadLetter } : {}),
  };
}
