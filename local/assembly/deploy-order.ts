/**
 * The order the local mesh creates a stack's resources in: one that CloudFormation could take, and the
 * least forgiving one. CloudFormation waits for a resource only when another depends on it (DependsOn,
 * Ref, Fn::GetAtt, Fn::Sub); everything else runs in parallel, in no promised order. So here, among the
 * resources that are ready, the ones that start work other resources might silently rely on (custom
 * resources, rotation schedules) go last, as late as their dependants allow: a template that forgot
 * to make something wait for them fails locally the way it could fail on AWS.
 */
import type { TemplateResource } from './cloud-assembly';

/** Resource types that run as late as allowed (their work is what a missing dependency would skip). */
function runsLate(type: string): boolean {
  return (
    type.startsWith('Custom::') ||
    type === 'AWS::CloudFormation::CustomResource' ||
    type === 'AWS::SecretsManager::RotationSchedule'
  );
}

/** The logical ids `resource` depends on: DependsOn and every Ref / Fn::GetAtt / ${Id} to a resource. */
export function dependenciesOf(resource: TemplateResource, logicalIds: ReadonlySet<string>): Set<string> {
  const out = new Set<string>([resource.DependsOn ?? []].flat());
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'Ref' && typeof x === 'string' && logicalIds.has(x)) out.add(x);
      else if (k === 'Fn::GetAtt') {
        const id = Array.isArray(x) ? String(x[0]) : String(x).split('.')[0]!;
        if (logicalIds.has(id)) out.add(id);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(x) ? String(x[0]) : String(x);
        for (const m of text.matchAll(/\$\{([^}!][^}.]*)[^}]*\}/g)) if (logicalIds.has(m[1]!)) out.add(m[1]!);
        if (Array.isArray(x)) visit(x[1]);
      } else visit(x);
    }
  };
  visit(resource.Properties);
  for (const d of out) if (!logicalIds.has(d)) out.delete(d);
  return out;
}

/** Every logical id of `resources`, each after all it depends on; late types as late as allowed. */
export function deployOrder(resources: Readonly<Record<string, TemplateResource>>): string[] {
  const ids = Object.keys(resources);
  const all = new Set(ids);
  const waiting = new Map(ids.map((id) => [id, dependenciesOf(resources[id]!, all)]));
  const order: string[] = [];
  while (waiting.size > 0) {
    const ready = [...waiting].filter(([, deps]) => [...deps].every((d) => !waiting.has(d))).map(([id]) => id);
    if (ready.length === 0) {
      throw new Error(`circular dependency between resources: ${[...waiting.keys()].sort().join(', ')}`);
    }
    const early = ready.filter((id) => !runsLate(resources[id]!.Type));
    // No early one ready: run the one late resource that the most waiting resources need, then look again.
    const dependants = (id: string) => [...waiting.values()].filter((deps) => deps.has(id)).length;
    const next = early.length > 0 ? early : [ready.reduce((a, b) => (dependants(b) > dependants(a) ? b : a))];
    for (const id of next) {
      order.push(id);
      waiting.delete(id);
    }
  }
  return order;
}
