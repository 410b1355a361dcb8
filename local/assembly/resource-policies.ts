/**
 * The resource-based policies a template declares. An AWS::Lambda::Permission is one statement, as
 * AddPermission writes it, in the policy Lambda keeps for the function, version or alias it names (the
 * registry's, which AddPermission and RemovePermission edit and the endpoint's IAM evaluates). The rest
 * are recorded for the endpoint's IAM evaluation (local/endpoint/iam-resource-policies.ts) under the
 * resource that declares them: an AWS::SQS::QueuePolicy (on each of its queues), an
 * AWS::SecretsManager::ResourcePolicy (on its secret) and a table's own ResourcePolicy property.
 */

import { functionArn, parseFunctionName } from '../endpoint/function-name';
import type { ResourcePolicies } from '../endpoint/iam-resource-policies';
import { permissionStatement } from '../endpoint/resource-policy';
import { type FunctionRegistry, LATEST } from '../registry/function-registry';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import type { Resolver } from './intrinsics';

export interface PolicyContext {
  readonly resolver: Resolver;
  readonly policies: ResourcePolicies | undefined;
  /** The functions of a region, whose policies hold the templates' Lambda permissions. */
  readonly functions: (region: string) => FunctionRegistry;
  /** A policy document with its intrinsics resolved (a value with no local meaning left for IAM to skip). */
  readonly document: (stack: AssemblyStack, document: unknown) => unknown;
  /** A secret's full ARN, by the name or ARN a template gives. */
  readonly secretArn: (stack: AssemblyStack, secretId: string) => string;
  readonly warn: (warning: string) => void;
}

const source = (stack: AssemblyStack, id: string) => `${stack.stackName}/${id}`;

/**
 * The statement Lambda would add for this permission, put in the policy of the function, version or
 * alias its FunctionName names, under its logical id. Returns that ARN (what a later deploy or the
 * removal of the resource takes the statement from), or undefined when it was put nowhere.
 */
export function applyLambdaPermission(
  ctx: PolicyContext,
  stack: AssemblyStack,
  id: string,
  r: TemplateResource,
): string | undefined {
  const p = r.Properties ?? {};
  const text = (v: unknown) => (v === undefined ? undefined : ctx.resolver.resolveString(stack, v));
  const name = text(p.FunctionName);
  const principal = text(p.Principal);
  if (!name || !principal) return undefined;
  const named = name.startsWith('arn:') ? name : ctx.resolver.arn(stack, 'lambda', `function:${name}`);
  try {
    const target = permissionTarget(ctx, named);
    const statement = permissionStatement(target.arn, {
      statementId: id,
      action: text(p.Action) ?? '',
      principal,
      sourceArn: text(p.SourceArn),
      sourceAccount: text(p.SourceAccount),
      principalOrgId: text(p.PrincipalOrgID),
      eventSourceToken: text(p.EventSourceToken),
      functionUrlAuthType: text(p.FunctionUrlAuthType),
    });
    target.registry.putStatement(target.name, target.qualifier, statement);
    return target.arn;
  } catch (err) {
    ctx.warn(`permission ${source(stack, id)} is not evaluated locally: ${(err as Error).message}`);
    return undefined;
  }
}

/** Takes a template's permission (`id`) out of the policy of the ARN it was put on; gone already is fine. */
export function removeLambdaPermission(ctx: PolicyContext, arn: string, id: string): void {
  try {
    const target = permissionTarget(ctx, arn);
    target.registry.removeStatement(target.name, target.qualifier, id);
  } catch {
    // the function is not here (any more): neither is its policy
  }
}

/**
 * The function, version or alias an ARN names, which must exist: Lambda refuses a permission on any
 * other, and on $LATEST (API Reference, "AddPermission").
 */
function permissionTarget(ctx: PolicyContext, arn: string) {
  const region = arn.split(':')[3] ?? '';
  const registry = ctx.functions(region);
  const ref = parseFunctionName(arn, undefined, 'AddPermission', { region, accountId: registry.accountId });
  const qualified = functionArn(region, registry.accountId, ref.name, ref.qualifier);
  if (ref.qualifier === LATEST) throw new Error('Lambda takes no permission on $LATEST');
  const exists =
    ref.qualifier === undefined
      ? registry.hasFunction(ref.name)
      : Boolean(registry.getAlias(ref.name, ref.qualifier) ?? registry.getFunction(ref.name, ref.qualifier));
  if (!exists) throw new Error(`no function ${qualified} is deployed here`);
  return { registry, name: ref.name, qualifier: ref.qualifier ?? LATEST, arn: qualified };
}

/** A queue policy, on each queue it names by URL. */
export function applyQueuePolicy(ctx: PolicyContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const urls = ((p.Queues as unknown[] | undefined) ?? []).map((q) => ctx.resolver.resolveString(stack, q));
  const arns = urls.flatMap((url) => {
    const name = url?.split('/').filter(Boolean).pop();
    return name ? [ctx.resolver.arn(stack, 'sqs', name)] : [];
  });
  ctx.policies?.put(source(stack, id), arns, ctx.document(stack, p.PolicyDocument));
}

/** A secret's resource policy. */
export function applySecretPolicy(ctx: PolicyContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const secretId = ctx.resolver.resolveString(stack, p.SecretId);
  if (secretId)
    ctx.policies?.put(source(stack, id), [ctx.secretArn(stack, secretId)], ctx.document(stack, p.ResourcePolicy));
}

/** A table's ResourcePolicy property (none: whatever an earlier deploy declared is gone). */
export function applyTablePolicy(ctx: PolicyContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const policy = (r.Properties?.ResourcePolicy as { PolicyDocument?: unknown } | undefined)?.PolicyDocument;
  if (!policy) {
    ctx.policies?.remove(source(stack, id));
    return;
  }
  const arn = ctx.resolver.arn(stack, 'dynamodb', `table/${ctx.resolver.physicalName(stack, id)}`);
  ctx.policies?.put(source(stack, id), [arn], ctx.document(stack, policy));
}
