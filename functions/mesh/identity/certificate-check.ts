/**
 * Certificate checks with node:crypto only (no x509 library in the layer: bundle size, cold start).
 * A leaf is trusted when a CA of the bundle issued it (checkIssued + signature), it is not a CA, its
 * key is EC P-256, and it carries exactly one SAN, a URI. Results are cached per certificate bytes,
 * so the hot path parses a caller's certificate once per instance.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { REFUSAL, type RefusalReason } from './identity-reason';

export interface TrustedLeaf {
  readonly ok: true;
  readonly publicKey: KeyObject;
  /** The URI SAN, e.g. spiffe://shop/svc/orders. */
  readonly uri: string;
  /** Validity, epoch seconds. */
  readonly notBeforeS: number;
  readonly notAfterS: number;
}

export type LeafCheck = TrustedLeaf | { readonly ok: false; readonly reason: RefusalReason };

const UNTRUSTED = { ok: false, reason: REFUSAL.untrustedCertificate } as const;

export class TrustBundle {
  private readonly cas: X509Certificate[];
  private readonly cache = new Map<string, LeafCheck>();

  constructor(
    caPems: readonly string[],
    private readonly cacheSize = 256,
  ) {
    this.cas = caPems.map((p) => new X509Certificate(p)).filter((c) => c.ca);
    if (this.cas.length === 0) throw new Error('trust bundle holds no CA certificate; re-issue the identity secret');
  }

  /** The CA certificates as PEM (for TLS `ca`). */
  get pems(): string[] {
    return this.cas.map((c) => c.toString());
  }

  /** Checks the DER leaf (base64url text as carried in the token); validity dates are the caller's job. */
  checkLeaf(derB64u: string): LeafCheck {
    const hit = this.cache.get(derB64u);
    if (hit) return hit;
    const res = this.inspect(derB64u);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(derB64u, res);
    return res;
  }

  /** Checks a parsed leaf (mTLS peer). */
  checkCertificate(leaf: X509Certificate): LeafCheck {
    if (leaf.ca) return UNTRUSTED;
    const key = leaf.publicKey;
    // Only an EC key names a curve, so this one test is "EC P-256".
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return UNTRUSTED;
    const issuer = this.cas.find((ca) => leaf.checkIssued(ca) && safeVerify(leaf, ca));
    if (!issuer) return UNTRUSTED;
    const san = leaf.subjectAltName;
    // Exactly one entry, a URI: a comma would mean several (Node escapes commas inside values).
    if (!san?.startsWith('URI:') || san.includes(',')) return UNTRUSTED;
    const notBeforeS = Math.floor(Date.parse(leaf.validFrom) / 1000);
    const notAfterS = Math.floor(Date.parse(leaf.validTo) / 1000);
    if (!Number.isFinite(notBeforeS) || !Number.isFinite(notAfterS)) return UNTRUSTED;
    return { ok: true, publicKey: key, uri: san.slice(4), notBeforeS, notAfterS };
  }

  private inspect(derB64u: string): LeafCheck {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(Buffer.from(derB64u, 'base64url'));
    } catch {
      return UNTRUSTED;
    }
    try {
      return this.checkCertificate(leaf);
    } catch {
      return UNTRUSTED;
    }
  }
}

function safeVerify(leaf: X509Certificate, ca: X509Certificate): boolean {
  try {
    return leaf.verify(ca.publicKey);
  } catch {
    return false;
  }
}
