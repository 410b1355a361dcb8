/**
 * The resource-based policies a template declares, recorded for the endpoint's IAM evaluation
 * (local/endpoint/iam-resource-policies.ts) under the resource that declares them: an
 * AWS::Lambda::Permission (one statement, as AddPermission writes it, on the function, version or alias
 * it names), an AWS::SQS::QueuePolicy (on each of its queues), an AWS::SecretsManager::ResourcePolicy
 * (on its secret) and a table's own ResourcePolicy property.
 */
import type { ResourcePolicies } from '../endpoint/iam-resource-policies';
import { permissionStatement } from '../endpoint/resource-policy';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import type { Resolver } from './intrinsics';

export interface PolicyContext {
  readonly resolver: Resolver;
  readonly policies: ResourcePolicies | undefined;
  /** A policy document with its intrinsics resolved (a value with no local meaning left for IAM to skip). */
  readonly document: (stack: AssemblyStack, document: unknown) => unknown;
  /** A secret's full ARN, by the name or ARN a template gives. */
  readonly secretArn: (stack: AssemblyStack, secretId: string) => string;
  readonly warn: (warning: string) => void;
}

const source = (stack: AssemblyStack, id: string) => `${stack.stackName}/${id}`;

/** The statement Lambda would add for this permission, on the ARN its FunctionName resolves to. */
export function applyLambdaPermission(ctx: PolicyContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const text = (v: unknown) => (v === undefined ? undefined : ctx.resolver.resolveString(stack, v));
  const name = text(p.FunctionName);
  const principal = text(p.Principal);
  if (!ctx.policies || !name || !principal) return;
  const arn = name.startsWith('arn:') ? name : ctx.resolver.arn(stack, 'lambda', `function:${name}`);
  try {
    const statement = permissionStatement(arn, {
      statementId: id,
      action: text(p.Action) ?? '',
      principal,
      sourceArn: text(p.SourceArn),
      sourceAccount: text(p.SourceAccount),
      principalOrgId: text(p.PrincipalOrgID),
      eventSourceToken: text(p.EventSourceToken),
      functionUrlAuthType: text(p.FunctionUrlAuthType),
    });
    ctx.policies.put(source(stack, id), [arn], { Statement: [statement] });
  } catch (err) {
    ctx.warn(`permission ${source(stack, id)} is not evaluated locally: ${(err as Error).message}`);
  }
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
