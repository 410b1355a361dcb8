/**
 * Which secrets the issuer may write, decided only from what the deployment declared: the mesh CA
 * secret (by its ARN or name) and `<mesh>/identity/<service>` for each declared service. A secret's
 * value never says what to issue: whoever can create a secret and call RotateSecret could write any
 * SPIFFE ID into it, and the issuer would hand them another service's key.
 */
import { IDENTITY, SERVICE_NAME_PATTERN } from '../../shared/names';

export interface IssuerScope {
  /** The mesh name: SPIFFE trust domain and the secrets' name prefix. */
  readonly mesh: string;
  /** ARN (or name) of the mesh CA secret. */
  readonly caSecret: string;
  /** The services whose identities the deployment declared. */
  readonly services: ReadonlySet<string>;
}

/** What a secret in scope is: the CA, or one declared service's identity. */
export type SecretKind = { readonly kind: 'ca' } | { readonly kind: 'identity'; readonly service: string };

/** The issuer refuses a secret the deployment did not declare. The message names the secret, never a value. */
export class IssuerRefusedError extends Error {
  override readonly name = 'IssuerRefusedError';
}

/** The scope from the issuer's environment (the constructs set every variable). */
export function scopeFromEnv(env: Readonly<Record<string, string | undefined>>): IssuerScope {
  const mesh = env[IDENTITY.env.trustDomain];
  const caSecret = env[IDENTITY.env.caSecret];
  const list = env[IDENTITY.env.services];
  for (const [name, value] of [
    [IDENTITY.env.trustDomain, mesh],
    [IDENTITY.env.caSecret, caSecret],
    [IDENTITY.env.services, list],
  ] as const) {
    if (value === undefined) throw new Error(`${name} is not set on the issuer function; the Mesh construct sets it`);
  }
  return { mesh: mesh!, caSecret: caSecret!, services: parseServices(list!) };
}

/** `a,b,c` -> the set of service names; a name that is not a service name is an error naming it. */
export function parseServices(list: string): Set<string> {
  const out = new Set<string>();
  for (const s of list.split(',').map((x) => x.trim())) {
    if (s === '') continue;
    if (!SERVICE_NAME_PATTERN.test(s))
      throw new Error(`${IDENTITY.env.services} holds ${JSON.stringify(s)}, not a service name`);
    out.add(s);
  }
  return out;
}

/**
 * The kind of `secret` (as DescribeSecret reports it), or IssuerRefusedError when the deployment did
 * not declare it. Secret names cannot change, so the name read back from Secrets Manager is trusted.
 */
export function secretKind(scope: IssuerScope, secret: { readonly arn?: string; readonly name?: string }): SecretKind {
  const { arn, name } = secret;
  if ((arn !== undefined && arn === scope.caSecret) || (name !== undefined && name === scope.caSecret)) {
    return { kind: 'ca' };
  }
  const prefix = IDENTITY.secretName(scope.mesh, '');
  const service = name?.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  if (service !== undefined && scope.services.has(service)) return { kind: 'identity', service };
  throw new IssuerRefusedError(
    `the issuer of mesh ${scope.mesh} refuses secret ${name ?? arn ?? '(unnamed)'}: it issues only the mesh CA and ` +
      `the identities the deployment declared (${IDENTITY.secretName(scope.mesh, '<service>')} for ` +
      `${[...scope.services].sort().join(', ') || 'no service'}); declare the service with MeshFunction and deploy`,
  );
}
