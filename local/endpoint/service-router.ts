/**
 * Which AWS service a request is for (in LocalStack's order): the SigV4 credential scope's
 * service, then `X-Amz-Target`, then the path. Pure: headers and path in, a decision out.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type ServiceDecision =
  | { readonly service: 'mesh' }
  | { readonly service: 'lambda' }
  | { readonly service: 'dynamodb' }
  | { readonly service: 'secretsmanager'; readonly operation: string }
  /** IAM's query protocol: the operation is the form body's `Action`. */
  | { readonly service: 'iam' }
  /** Another AWS service; `signingName` from the credential scope or target, `protocol` for the error shape. */
  | {
      readonly service: 'other';
      readonly name: string;
      readonly operation: string;
      readonly protocol: 'json' | 'rest' | 'query';
    };

export const MESH_PREFIX = '/_mesh/';

/** The fields of `Credential=<key>/<date>/<region>/<service>/aws4_request`, when signed. */
function credentialScope(authorization: string | undefined): string[] | undefined {
  if (!authorization) return undefined;
  const m = /Credential=([^,\s]+)/.exec(authorization);
  const parts = m?.[1].split('/');
  return parts && parts.length >= 5 ? parts : undefined;
}

/** The 4th field of the credential scope: the service the request was signed for. */
export function signingService(authorization: string | undefined): string | undefined {
  return credentialScope(authorization)?.[3];
}

/** The 1st field of the credential scope: the access key id the request was signed with. */
export function signingKeyId(authorization: string | undefined): string | undefined {
  return credentialScope(authorization)?.[0];
}

/** The 3rd field of the credential scope: the region the request is served in. */
export function signingRegion(authorization: string | undefined): string | undefined {
  const region = credentialScope(authorization)?.[2];
  return region && /^[a-z0-9-]+$/.test(region) ? region : undefined;
}

export function routeService(method: string, path: string, headers: IncomingHttpHeaders): ServiceDecision {
  if (path.startsWith(MESH_PREFIX) || path === MESH_PREFIX.slice(0, -1)) return { service: 'mesh' };
  const target = first(headers['x-amz-target']) ?? '';
  const [prefix, operation = ''] = splitTarget(target);
  const scope = signingService(first(headers.authorization));

  const byScope = scope?.toLowerCase();
  if (byScope === 'lambda') return { service: 'lambda' };
  if (byScope === 'dynamodb') return { service: 'dynamodb' };
  if (byScope === 'secretsmanager') return { service: 'secretsmanager', operation };
  if (byScope === 'iam') return { service: 'iam' };
  if (byScope === undefined) {
    // Unsigned: fall back on the target, then the path.
    if (/^DynamoDB_\d+$/.test(prefix)) return { service: 'dynamodb' };
    if (prefix.toLowerCase() === 'secretsmanager') return { service: 'secretsmanager', operation };
    if (/^\/20\d\d-\d\d-\d\d\//.test(path)) return { service: 'lambda' };
  }
  const contentType = first(headers['content-type']) ?? '';
  const protocol = target ? 'json' : contentType.startsWith('application/x-www-form-urlencoded') ? 'query' : 'rest';
  return {
    service: 'other',
    name: byScope ?? (prefix || 'unknown'),
    operation: operation || `${method} ${path.split('?')[0]}`,
    protocol,
  };
}

function splitTarget(target: string): [string, string?] {
  const i = target.lastIndexOf('.');
  return i < 0 ? [target] : [target.slice(0, i), target.slice(i + 1)];
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
