/**
 * Which statements of a resource-based policy speak to a caller within the resource's account, as IAM
 * matches a `Principal` ("AWS JSON policy elements: Principal", IAM User Guide): `*`, the role's ARN
 * or the session's ARN name the caller. The account (`<id>` or `arn:aws:iam::<id>:root`) names every
 * identity in it for a Deny; an Allow to the account only hands the decision to the identity's own
 * policies, so it grants nothing by itself. A service principal never names a role's session. Pure.
 */

/** The caller as a resource policy names it. */
export interface CallerPrincipal {
  readonly accountId: string;
  /** The role's ARN and the assumed-role session's ARN. */
  readonly arns: readonly string[];
}

interface PrincipalStatement {
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
}

/** The statements of `documents` that apply to `caller`, as one policy document. */
export function statementsFor(documents: readonly unknown[], caller: CallerPrincipal): { Statement: unknown[] } {
  return { Statement: statementsOf(documents).filter((s) => namesCaller(s, caller)) };
}

function statementsOf(documents: readonly unknown[]): PrincipalStatement[] {
  return documents.flatMap((d) => {
    const s = (d as { Statement?: unknown } | undefined)?.Statement;
    return (Array.isArray(s) ? s : s ? [s] : []) as PrincipalStatement[];
  });
}

function namesCaller(s: PrincipalStatement, caller: CallerPrincipal): boolean {
  const deny = s.Effect === 'Deny';
  if (s.Principal !== undefined) return awsPrincipals(s.Principal).some((p) => matches(p, caller, deny));
  // NotPrincipal: every caller but those named (the account named excludes its identities).
  if (s.NotPrincipal !== undefined) return !awsPrincipals(s.NotPrincipal).some((p) => matches(p, caller, true));
  return false;
}

/** `"*"`, or the `AWS` entries of a principal object (Service and Federated name no role). */
function awsPrincipals(principal: unknown): string[] {
  if (principal === '*') return ['*'];
  const aws = (principal as { AWS?: unknown } | null)?.AWS;
  if (aws === undefined) return [];
  return (Array.isArray(aws) ? aws : [aws]).map(String);
}

function matches(p: string, caller: CallerPrincipal, accountNamesAll: boolean): boolean {
  if (p === '*' || caller.arns.includes(p)) return true;
  const account = p === caller.accountId || new RegExp(`^arn:aws[a-z-]*:iam::${caller.accountId}:root$`).test(p);
  return account && accountNamesAll;
}

/**
 * The statements of `documents` that name an AWS service (`Principal: { Service: "sns.amazonaws.com" }`,
 * or `*`), as one policy document: what decides whether that service may act on the resource.
 */
export function statementsForService(documents: readonly unknown[], service: string): { Statement: unknown[] } {
  const named = (s: PrincipalStatement) => s.Principal === '*' || servicesOf(s.Principal).includes(service);
  return { Statement: statementsOf(documents).filter(named) };
}

function servicesOf(principal: unknown): string[] {
  const named = (principal as { Service?: unknown } | null)?.Service;
  if (named === undefined) return [];
  return (Array.isArray(named) ? named : [named]).map(String);
}
