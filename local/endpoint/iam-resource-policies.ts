/**
 * The resource-based policies the deployments declared, kept by the resource they guard: a queue's
 * AWS::SQS::QueuePolicy, a secret's AWS::SecretsManager::ResourcePolicy and a table's ResourcePolicy.
 * Each is kept under the resource that declared it (`<stack>/<logicalId>`), so a deploy replaces it and
 * a removal drops it. A function's policy is not here: Lambda keeps it, per qualifier, in the registry.
 */

export class ResourcePolicies {
  private readonly bySource = new Map<string, { readonly arns: readonly string[]; readonly document: unknown }>();

  /** `source`'s policy, guarding each ARN in `arns` (replacing what `source` declared before). */
  put(source: string, arns: readonly string[], document: unknown): void {
    this.bySource.set(source, { arns, document });
  }

  remove(source: string): void {
    this.bySource.delete(source);
  }

  /** The policies guarding `arn`; a table's guard its indexes too. */
  of(arn: string): unknown[] {
    const guarded = arn.replace(/^(arn:[^:]*:dynamodb:[^/]*\/[^/]+)\/index\/.*$/, '$1');
    return [...this.bySource.values()].filter((p) => p.arns.includes(guarded)).map((p) => p.document);
  }
}
