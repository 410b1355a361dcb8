/**
 * Identity helpers for tests and tools on the local endpoint's Secrets Manager store, outside any
 * deployment (a deployment issues identities itself: its custom resources run the real issuer).
 * `issueLocalIdentities` seeds a CA and identity secrets for a hand-made mesh; `rotateLocalIdentity`
 * reissues one secret in place (AWSCURRENT moves, AWSPREVIOUS keeps the old one) and `rotateLocalCa`
 * the CA; RotateSecret through the endpoint runs the real rotation function when the assembly has it.
 */
import { randomUUID } from 'node:crypto';
import { type CaSecret, issueIdentity, parseCaSecret, rotateCa } from '../../functions/control/ca-issuer';
import type { SecretStore } from '../endpoint/secret-store';

export interface LocalIdentityService {
  /** Service name (MESH_SERVICE). */
  readonly service: string;
  /** The secret name or ARN the function reads (its MESH_IDENTITY_SECRET value, already resolved). */
  readonly secretId: string;
}

export interface LocalIdentityOptions {
  readonly mesh: string;
  readonly services: readonly LocalIdentityService[];
  /** Name of the CA secret in the store. @default `<mesh>/mesh-ca` */
  readonly caSecretId?: string;
  /** Service certificate lifetime. @default 24 h */
  readonly lifetimeMs?: number;
}

export interface LocalIdentities {
  readonly caSecretArn: string;
  /** service -> identity secret ARN */
  readonly secretArns: Record<string, string>;
}

/** Issues the CA (reusing one already in the store) and one identity secret per service. */
export async function issueLocalIdentities(store: SecretStore, opts: LocalIdentityOptions): Promise<LocalIdentities> {
  const caId = opts.caSecretId ?? `${opts.mesh}/mesh-ca`;
  let ca = store.has(caId) ? parseCaSecret(store.get(caId).secretString ?? '') : undefined;
  if (!ca) {
    ca = await rotateCa(opts.mesh, undefined);
    store.set(caId, { secretString: JSON.stringify(ca) });
  }
  const caSecretArn = store.describe(caId).arn;
  const secretArns: Record<string, string> = {};
  for (const s of opts.services) {
    const value = await issueIdentity({ mesh: opts.mesh, service: s.service, ca, lifetimeMs: opts.lifetimeMs });
    secretArns[s.service] = store.set(s.secretId, { secretString: JSON.stringify(value) });
  }
  return { caSecretArn, secretArns };
}

/** Reissues one identity secret now (the rotation test, `mesh local` on demand). */
export async function rotateLocalIdentity(
  store: SecretStore,
  opts: { mesh: string; service: string; secretId: string; caSecretId?: string; lifetimeMs?: number },
): Promise<string> {
  const ca = readCa(store, opts.caSecretId ?? `${opts.mesh}/mesh-ca`);
  const value = await issueIdentity({ mesh: opts.mesh, service: opts.service, ca, lifetimeMs: opts.lifetimeMs });
  return store.put(opts.secretId, { secretString: JSON.stringify(value), clientRequestToken: randomUUID() }).versionId;
}

/**
 * Rotates the CA itself (new authority in front, previous kept and trusted). Refused, as the issuer's
 * rotation is, while the CA it would drop may still have certificates in use (`nextCaRotationAt`).
 */
export async function rotateLocalCa(
  store: SecretStore,
  opts: { mesh: string; caSecretId?: string; now?: number; lifetimeMs?: number },
): Promise<CaSecret> {
  const id = opts.caSecretId ?? `${opts.mesh}/mesh-ca`;
  const next = await rotateCa(opts.mesh, readCa(store, id), opts.now, { leafLifetimeMs: opts.lifetimeMs });
  store.put(id, { secretString: JSON.stringify(next) });
  return next;
}

function readCa(store: SecretStore, id: string): CaSecret {
  const ca = parseCaSecret(store.get(id).secretString ?? '');
  if (!ca) throw new Error(`secret ${id} holds no mesh CA; run issueLocalIdentities first`);
  return ca;
}
