/**
 * The roles' identity policies, as the deployments declared them: inline ones, read back over IAM's
 * query protocol (IAM API Reference: ListRolePolicies, GetRolePolicy; errors as "Common Errors" words
 * them), so tools can compare them with the policy table (`mesh check`), and the managed policies
 * attached to each role, which the endpoint evaluates with them (iam-enforcement.ts).
 * IAM is global: one store for every region.
 */
import { AwsError } from './errors';
import { ResourcePolicies } from './iam-resource-policies';
import { awsManagedPolicy } from './managed-policies';
import { escapeXml } from './query-protocol';

/** A role's identity policies: their documents, and the managed policies attached whose content is not known here. */
export interface IdentityPolicies {
  readonly documents: readonly unknown[];
  readonly unknownManaged: readonly string[];
}

/** Inline policies by role name, then policy name: the policy document as JSON text. */
export class RolePolicies {
  private readonly byRole = new Map<string, Map<string, string>>();
  /** Managed policy ARNs attached, by role name. */
  private readonly attached = new Map<string, Set<string>>();
  /** The documents of the templates' own managed policies (AWS::IAM::ManagedPolicy), by ARN. */
  private readonly managed = new Map<string, unknown>();
  /** The resource-based policies, which the endpoint evaluates with a role's own. */
  readonly resources = new ResourcePolicies();

  /** A role's ManagedPolicyArns as this deploy declares them (replacing the last deploy's). */
  attachManaged(roleName: string, arns: readonly string[]): void {
    this.attached.set(roleName, new Set(arns));
  }

  /** An AWS::IAM::ManagedPolicy: its document, and the roles it names (its `Roles`). */
  putManaged(arn: string, document: unknown, roleNames: readonly string[]): void {
    this.managed.set(arn, document);
    for (const role of roleNames) this.attached.set(role, new Set([...(this.attached.get(role) ?? []), arn]));
  }

  /** Every policy that speaks for the role: inline, the templates' managed ones and AWS's carried here. */
  identityPolicies(roleName: string): IdentityPolicies {
    const documents: unknown[] = this.names(roleName).map((n) => this.document(roleName, n));
    const unknownManaged: string[] = [];
    for (const arn of this.attached.get(roleName) ?? []) {
      const document = this.managed.get(arn) ?? awsManagedPolicy(arn);
      if (document === undefined) unknownManaged.push(arn);
      else documents.push(document);
    }
    return { documents, unknownManaged };
  }

  /** PutRolePolicy: the document replaces any policy of the same name. */
  put(roleName: string, policyName: string, document: unknown): void {
    const policies = this.byRole.get(roleName) ?? new Map<string, string>();
    policies.set(policyName, typeof document === 'string' ? document : JSON.stringify(document));
    this.byRole.set(roleName, policies);
  }

  /** CreateRole: a role with no inline policy yet (ListRolePolicies answers an empty list). */
  addRole(roleName: string): void {
    if (!this.byRole.has(roleName)) this.byRole.set(roleName, new Map());
  }

  delete(roleName: string, policyName: string): void {
    this.byRole.get(roleName)?.delete(policyName);
  }

  names(roleName: string): string[] {
    return [...(this.byRole.get(roleName)?.keys() ?? [])].sort();
  }

  document(roleName: string, policyName: string): string | undefined {
    return this.byRole.get(roleName)?.get(policyName);
  }

  hasRole(roleName: string): boolean {
    return this.byRole.has(roleName);
  }
}

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** One IAM query request (`Action=...&RoleName=...`): the XML answer, or an AwsError. */
export function handleIam(store: RolePolicies, form: URLSearchParams, requestId: string): string {
  const action = form.get('Action') ?? '';
  const role = form.get('RoleName') ?? '';
  const noRole = () => new AwsError('NoSuchEntity', 404, `The role with name ${role} cannot be found.`);
  switch (action) {
    case 'ListRolePolicies': {
      if (!store.hasRole(role)) throw noRole();
      const members = store
        .names(role)
        .map((n) => `<member>${escapeXml(n)}</member>`)
        .join('');
      return response(action, `<PolicyNames>${members}</PolicyNames><IsTruncated>false</IsTruncated>`, requestId);
    }
    case 'GetRolePolicy': {
      const name = form.get('PolicyName') ?? '';
      if (!store.hasRole(role)) throw noRole();
      const doc = store.document(role, name);
      if (doc === undefined) {
        throw new AwsError('NoSuchEntity', 404, `The role policy with name ${name} cannot be found.`);
      }
      // IAM returns the document URL-encoded (the SDKs decode it).
      return response(
        action,
        `<RoleName>${escapeXml(role)}</RoleName><PolicyName>${escapeXml(name)}</PolicyName>` +
          `<PolicyDocument>${escapeXml(encodeURIComponent(doc))}</PolicyDocument>`,
        requestId,
      );
    }
    default:
      throw new AwsError('InvalidAction', 400, `lambda-mesh local endpoint does not support iam.${action}`);
  }
}

function response(action: string, result: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** IAM's error document (query protocol). */
export function iamErrorXml(err: AwsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${escapeXml(err.code)}</Code>` +
    `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
