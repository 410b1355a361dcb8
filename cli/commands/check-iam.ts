/**
 * Which functions a mesh function's role may invoke, from its inline policies (ListRolePolicies,
 * GetRolePolicy): the outer wall of each edge, which `mesh check` compares with the policy table.
 * `allowCallsTo` writes both walls at deploy; an operator's change to one of them alone leaves an
 * edge declared in IAM but denied by the table, or allowed by the table but refused by IAM.
 */
import type { AwsClients } from '../aws-clients';
import { awsCall } from '../errors';

/** What IAM grants a role: the function names it may invoke, or `*` for any function. */
export interface InvokeGrants {
  readonly functions: ReadonlySet<string>;
  readonly any: boolean;
}

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly Resource?: string | readonly string[];
}

const list = <T>(v: T | readonly T[] | undefined): readonly T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v as T];

/** Whether an IAM action pattern covers lambda:InvokeFunction (`*` and `?` are wildcards, case-insensitive). */
function coversInvoke(action: string): boolean {
  const re = new RegExp(
    `^${action
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test('lambda:InvokeFunction');
}

/** The function name of a Lambda function ARN (any qualifier), `*` for a wildcard name, else undefined. */
function functionOf(resource: string): string | undefined {
  if (resource === '*') return '*';
  const m = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::.*)?$/.exec(resource);
  if (!m) return undefined;
  return m[1]!.includes('*') ? '*' : m[1];
}

/**
 * Pure: the functions the policy documents let the role invoke. Only Allow statements count; the
 * Deny on `:$LATEST` the constructs add closes unpublished code, not the edge.
 */
export function invokeGrants(documents: readonly unknown[]): InvokeGrants {
  const functions = new Set<string>();
  let any = false;
  for (const doc of documents) {
    for (const s of list((doc as { Statement?: Statement | Statement[] } | null)?.Statement)) {
      if (s?.Effect !== 'Allow' || !list(s.Action).some(coversInvoke)) continue;
      for (const r of list(s.Resource)) {
        const fn = typeof r === 'string' ? functionOf(r) : undefined;
        if (fn === '*') any = true;
        else if (fn) functions.add(fn);
      }
    }
  }
  return { functions, any };
}

/** The role name of a role ARN (`arn:aws:iam::<account>:role/<path/>name`). */
export function roleNameOf(roleArn: string): string | undefined {
  const m = /:role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m?.[1];
}

/** Adapter: the role's inline policy documents, read over IAM. */
export async function readInvokeGrants(clients: AwsClients, roleArn: string): Promise<InvokeGrants> {
  const role = roleNameOf(roleArn);
  if (!role) throw new Error(`${roleArn} is not a role ARN`);
  const iam = require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');
  const client = new iam.IAMClient(await clients.config('IAM'));
  try {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall('ListRolePolicies', () =>
        client.send(new iam.ListRolePoliciesCommand({ RoleName: role, Marker: marker })),
      );
      names.push(...(page.PolicyNames ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const documents: unknown[] = [];
    for (const name of names) {
      const p = await awsCall('GetRolePolicy', () =>
        client.send(new iam.GetRolePolicyCommand({ RoleName: role, PolicyName: name })),
      );
      if (p.PolicyDocument) documents.push(JSON.parse(decodeURIComponent(p.PolicyDocument)));
    }
    return invokeGrants(documents);
  } finally {
    client.destroy();
  }
}
