/**
 * Which functions a role may invoke, read from a synthesized template the way IAM reads it: actions
 * are case-insensitive globs (`lambda:Invoke*`, `lambda:*`, `*` all grant lambda:InvokeFunction), an
 * Allow with NotAction grants every action it does not name, and a resource pattern with a wildcard
 * in the function name reaches functions nobody declared. The constructs grant one exact ARN per
 * target with any qualifier (`function:<name>:*`); anything wider is reported as a problem.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { IamStatement } from './infra-fixture';

/** The IAM actions that run a function. */
export const INVOKE_ACTIONS = ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'lambda:InvokeAsync'];

/** AWS managed policies a mesh role may carry: none of them grants an invoke action. */
const MANAGED_WITHOUT_INVOKE =
  /:iam::aws:policy\/(service-role\/)?(AWSLambdaBasicExecutionRole|AWSXRayDaemonWriteAccess)$/;

/** IAM's action match: case-insensitive, `*` any run of characters, `?` exactly one. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(action);
}

/** Whether a statement allows one of the invoke actions (by Action, or by a NotAction that leaves one out). */
export function grantsInvoke(s: IamStatement): boolean {
  if (s.Effect !== 'Allow') return false;
  if (s.Action !== undefined) return [s.Action].flat().some((p) => INVOKE_ACTIONS.some((a) => actionMatches(p, a)));
  const not = [s.NotAction ?? []].flat();
  return INVOKE_ACTIONS.some((a) => !not.some((p) => actionMatches(p, a)));
}

/**
 * A resource with CloudFormation's functions spelled out: `<Ref>`, `<Id.Attr>`, Fn::Join joined. A
 * literal `aws` partition reads as `<AWS::Partition>`: a stack with a region (and cdk init's flags,
 * enablePartitionLiterals) writes the one where other stacks write the other, the same ARN.
 */
export function resourceText(r: unknown): string {
  if (typeof r === 'string') return r.replace(/^arn:aws:/, 'arn:<AWS::Partition>:');
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resourceText).join(sep);
    }
  }
  return JSON.stringify(r);
}

export interface InvokeGrants {
  /** Function names the statements let the role invoke. */
  readonly functions: string[];
  /** What grants more than named functions: a wildcard, NotResource, an unreadable resource. */
  readonly problems: string[];
}

/**
 * The functions `statements` allow invoking, by name. `functionNames` maps a function's logical id to
 * its name, for resources written as `Fn::GetAtt: [id, Arn]`.
 */
export function invokeGrants(
  statements: readonly IamStatement[],
  functionNames: ReadonlyMap<string, string> = new Map(),
): InvokeGrants {
  const functions = new Set<string>();
  const problems: string[] = [];
  for (const s of statements.filter(grantsInvoke)) {
    const action = JSON.stringify(s.Action ?? { NotAction: s.NotAction });
    if (s.NotResource !== undefined) {
      problems.push(`${action} on everything but ${JSON.stringify(s.NotResource)}`);
      continue;
    }
    for (const r of [s.Resource ?? []].flat()) {
      const text = resourceText(r);
      const byArn = /^arn:(?:aws|<AWS::Partition>):lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::([^:]+))?$/.exec(text);
      const byAtt = /^<([A-Za-z0-9]+)\.Arn>(?::([^:]+))?$/.exec(text);
      const name = byArn?.[1] ?? (byAtt ? functionNames.get(byAtt[1]!) : undefined);
      if (!name || /[*?<]/.test(name)) problems.push(`${action} on ${text}`);
      else functions.add(name);
    }
  }
  return { functions: [...functions].sort(), problems };
}

/** Every statement that applies to a role: its AWS::IAM::Policy and ManagedPolicy resources and inline policies. */
export function statementsForRole(template: Template, roleLogicalId: string): IamStatement[] {
  const attached = (roles: unknown) => JSON.stringify(roles ?? []).includes(`"${roleLogicalId}"`);
  const out: IamStatement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const p of Object.values(template.findResources(type))) {
      if (attached(p.Properties.Roles)) out.push(...(p.Properties.PolicyDocument.Statement as IamStatement[]));
    }
  }
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId];
  for (const p of (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: IamStatement[] } }[]) {
    out.push(...p.PolicyDocument.Statement);
  }
  return out;
}

/** Managed policy ARNs on the role that are not known to be free of invoke rights. */
export function unknownManagedPolicies(template: Template, roleLogicalId: string): string[] {
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId];
  return ((role?.Properties.ManagedPolicyArns ?? []) as unknown[])
    .map(resourceText)
    .filter((arn) => !MANAGED_WITHOUT_INVOKE.test(arn));
}

/** Logical id -> FunctionName of every function in the template that names itself. */
export function functionNamesOf(template: Template): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, f] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    if (typeof f.Properties.FunctionName === 'string') out.set(id, f.Properties.FunctionName);
  }
  return out;
}
