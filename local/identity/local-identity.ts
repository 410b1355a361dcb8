/**
 * Identity for the local mesh: when the local mesh starts, issue the mesh CA and every function's
 * identity secret into the endpoint's Secrets Manager store (the same values the rotation function
 * writes on AWS), so the runtime's GetSecretValue finds them through AWS_ENDPOINT_URL.
 * `rotateLocalIdentity` reissues one secret in place (AWSCURRENT moves, AWSPREVIOUS keeps the old one);
 * RotateSecret through the endpoint runs the real rotation function when the assembly has it.
 */
import { randomUUID } from 'node:crypto';
import { type CaSecret, issueIdentity, parseCaSecret, rotateCa } from '../../functions/control/ca-issuer';
import { parseIdentitySecret } from '../../functions/mesh/identity/identity-secret';
import { spiffeId } from '../../shared/names';
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

/** Rotates the CA itself (new authority in front, previous kept and trusted). */
export async function rotateLocalCa(
  store: SecretStore,
  opts: { mesh: string; caSecretId?: string },
): Promise<CaSecret> {
  const id = opts.caSecretId ?? `${opts.mesh}/mesh-ca`;
  const next = await rotateCa(opts.mesh, readCa(store, id));
  store.put(id, { secretString: JSON.stringify(next) });
  return next;
}

/**
 * After a deployment: every secret still holding the constructs' placeholder (`{"kind":"ca"}` or
 * `{"kind":"identity","spiffeId"}`, what the rotation function issues on AWS at deploy) is issued
 * now — the CA first, then each identity from its mesh's CA (`<mesh>/mesh-ca`). Issued secrets are
 * left alone, so it is safe to call after every applied assembly. Returns the names it issued.
 */
export async function issueLocalPlaceholders(
  store: SecretStore,
  opts: { lifetimeMs?: number } = {},
): Promise<string[]> {
  const issued: string[] = [];
  const pending: { name: string; mesh: string; service: string }[] = [];
  for (const d of store.list()) {
    const value = placeholderOf(store.get(d.name).secretString);
    if (!value) continue;
    // A redeploy writes the placeholder over an issued value: put the issued one back (AWSPREVIOUS),
    // so running workers keep trusting the same CA and no call fails across a redeploy.
    const previous = previousValue(store, d.name);
    if (value.kind === 'ca') {
      const keep =
        previous && parseCaSecret(previous) ? previous : JSON.stringify(await rotateCa(value.mesh, undefined));
      store.put(d.name, { secretString: keep });
      issued.push(d.name);
    } else if (previous && stillGood(previous, value.spiffe)) {
      store.put(d.name, { secretString: previous });
      issued.push(d.name);
    } else {
      pending.push({ name: d.name, mesh: value.mesh, service: value.service });
    }
  }
  for (const p of pending) {
    const caId = `${p.mesh}/mesh-ca`;
    if (!store.has(caId)) store.set(caId, { secretString: JSON.stringify(await rotateCa(p.mesh, undefined)) });
    const value = await issueIdentity({
      mesh: p.mesh,
      service: p.service,
      ca: readCa(store, caId),
      lifetimeMs: opts.lifetimeMs,
    });
    store.put(p.name, { secretString: JSON.stringify(value) });
    issued.push(p.name);
  }
  return issued;
}

const SPIFFE = /^spiffe:\/\/([^/]+)\/svc\/([a-z][a-z0-9-]{0,39})$/;

function previousValue(store: SecretStore, name: string): string | undefined {
  try {
    return store.get(name, { versionStage: 'AWSPREVIOUS' }).secretString;
  } catch {
    return undefined;
  }
}

/** An issued identity for this SPIFFE ID with more than half its life left. */
function stillGood(text: string, spiffe: string): boolean {
  try {
    const s = parseIdentitySecret(text);
    const start = Date.parse(s.notBefore);
    const end = Date.parse(s.notAfter);
    return s.spiffeId === spiffe && Date.now() < start + (end - start) / 2;
  } catch {
    return false;
  }
}

function placeholderOf(
  text: string | undefined,
): { kind: 'ca'; mesh: string } | { kind: 'identity'; mesh: string; service: string; spiffe: string } | undefined {
  if (!text?.includes('"kind"')) return undefined;
  try {
    const o = JSON.parse(text) as { kind?: unknown; mesh?: unknown; spiffeId?: unknown };
    if (o.kind === 'ca' && typeof o.mesh === 'string') return { kind: 'ca', mesh: o.mesh };
    const m = o.kind === 'identity' && typeof o.spiffeId === 'string' ? SPIFFE.exec(o.spiffeId) : null;
    if (m) return { kind: 'identity', mesh: m[1]!, service: m[2]!, spiffe: o.spiffeId as string };
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

function readCa(store: SecretStore, id: string): CaSecret {
  const ca = parseCaSecret(store.get(id).secretString ?? '');
  if (!ca) throw new Error(`secret ${id} holds no mesh CA; run issueLocalIdentities first`);
  return ca;
}

export { spiffeId };
