/**
 * Whether a value the issuer wrote (or finds) can serve as it is: the deploy-time bootstrap keeps a
 * good current identity instead of issuing again, and a rotation resumes a pending value only while it
 * is still good. Pure checks over node:crypto; the answers name what is wrong, never a value.
 */
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { TrustBundle } from '../mesh/identity/certificate-check';
import { parseIdentitySecret } from '../mesh/identity/identity-secret';
import { type CaSecret, type CaTiming, LEAF_LIFETIME_MS, parseCaSecret } from './ca-issuer';

export interface IdentityExpectation {
  readonly spiffeId: string;
  /** The mesh CA secret as it stands: the certificate must come from one of its authorities. */
  readonly ca: CaSecret;
  /** epoch ms */
  readonly now: number;
  /**
   * `half`: less than half its lifetime gone (worth keeping: a rotation would replace it anyway);
   * `any`: merely unexpired (what a test of the value asks).
   * @default 'half'
   */
  readonly lifeLeft?: 'half' | 'any';
}

/**
 * Why `text` cannot serve as the identity `spiffeId` now, or undefined when it can: an issued identity
 * for that SPIFFE ID, signed by an authority of the current CA, trusting every authority of it, its key
 * matching its certificate, and enough life left (`lifeLeft`).
 */
export function identityProblem(text: string | undefined, want: IdentityExpectation): string | undefined {
  if (text === undefined) return 'no value';
  let secret: ReturnType<typeof parseIdentitySecret>;
  try {
    secret = parseIdentitySecret(text);
  } catch {
    return 'not an issued identity';
  }
  if (secret.spiffeId !== want.spiffeId) return `issued for ${secret.spiffeId}, not ${want.spiffeId}`;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(secret.certificate);
  } catch {
    return 'certificate does not parse';
  }
  const caPems = want.ca.authorities.map((a) => a.certificate);
  const checked = new TrustBundle(caPems).checkCertificate(leaf);
  if (!checked.ok) return 'certificate was not issued by the current mesh CA';
  if (checked.uri !== want.spiffeId) return 'certificate names another identity';
  const bundle = new Set(secret.trustBundle.map(normalisePem));
  if (!caPems.every((p) => bundle.has(normalisePem(p)))) return 'trust bundle lacks an authority of the current CA';
  if (!keyMatches(secret.privateKey, leaf)) return 'private key does not match the certificate';
  const start = Date.parse(secret.notBefore);
  const end = Date.parse(secret.notAfter);
  if (want.lifeLeft === 'any') return want.now < end ? undefined : 'expired';
  if (!(want.now < start + (end - start) / 2)) return 'past half its lifetime';
  return undefined;
}

/**
 * Why `text` cannot serve as the mesh CA secret, or undefined: its newest authority is a self-signed
 * CA certificate, unexpired, with a matching key. `resume`, for a pending CA an earlier run of its
 * rotation left: `builtOn` must be its second authority (a pending CA made from an older current is
 * stale: the current moved on without it), and it must be younger than half a leaf lifetime (see
 * `pendingCaProblem`).
 */
export function caProblem(
  text: string | undefined,
  now: number,
  resume?: { readonly builtOn: CaSecret | undefined } & CaTiming,
): string | undefined {
  const ca = text === undefined ? undefined : parseCaSecret(text);
  const newest = ca?.authorities[0];
  if (!ca || !newest) return 'not an issued mesh CA';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(newest.certificate);
  } catch {
    return 'CA certificate does not parse';
  }
  if (!cert.ca || !cert.checkIssued(cert) || !cert.verify(cert.publicKey))
    return 'newest authority is not a self-signed CA';
  if (!keyMatches(newest.privateKey, cert)) return 'CA private key does not match its certificate';
  if (!(now < Date.parse(cert.validTo))) return 'CA certificate has expired';
  return resume ? pendingCaProblem(ca, now, resume) : undefined;
}

/**
 * A pending CA is resumed only while it is what a rotation now would make. Made from an older current:
 * the current moved on without it. Made half a leaf lifetime ago or more: it signs once it is the
 * overlap old (counted from its making, not from the day it joins), so after a rotation that stopped
 * and resumed days later it would sign at once, before any identity secret, let alone any sandbox,
 * had it in its trust bundle, and every callee would refuse the certificates it signs.
 */
function pendingCaProblem(
  ca: CaSecret,
  now: number,
  resume: { readonly builtOn: CaSecret | undefined } & CaTiming,
): string | undefined {
  const base = resume.builtOn?.authorities[0]?.certificate;
  if (base !== undefined && normalisePem(ca.authorities[1]?.certificate ?? '') !== normalisePem(base)) {
    return 'made from a CA that is no longer current';
  }
  const madeAt = Date.parse(ca.authorities[0]!.createdAt);
  if (!(now - madeAt < (resume.leafLifetimeMs ?? LEAF_LIFETIME_MS) / 2)) {
    return `made at ${ca.authorities[0]!.createdAt}, half a certificate lifetime or more ago: it would sign before the trust bundles hold it`;
  }
  return undefined;
}

/** Whether the PKCS#8 key signs what the certificate's public key verifies. */
export function keyMatches(privatePem: string, cert: X509Certificate): boolean {
  try {
    const probe = Buffer.from('mesh issuer probe');
    const sig = sign('sha256', probe, createPrivateKey(privatePem));
    return verify('sha256', probe, createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })), sig);
  } catch {
    return false;
  }
}

function normalisePem(pem: string): string {
  return pem.replace(/\s+/g, '');
}
