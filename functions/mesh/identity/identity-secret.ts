/**
 * The JSON stored in a service's identity secret (MESH_IDENTITY_SECRET). Written by the issuer
 * (functions/control/ca-issuer.ts, local/identity), read by the data plane.
 * Never log a value of this type: `privateKey` is in it.
 */
export interface IdentitySecret {
  /** Format version. */
  readonly v: 1;
  /** `spiffe://<mesh>/svc/<service>`, the certificate's URI SAN. */
  readonly spiffeId: string;
  /** The leaf certificate, PEM. */
  readonly certificate: string;
  /** Leaf then issuing CA, PEM (what an mTLS client presents). */
  readonly chain: string;
  /** The leaf's EC P-256 private key, PKCS#8 PEM. */
  readonly privateKey: string;
  /** CA certificates this service trusts, PEM, current CA first; the previous CA stays across a CA rotation. */
  readonly trustBundle: string[];
  /** Leaf validity, ISO 8601 (so the loader knows its half life without parsing the certificate). */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Parses and shape-checks an identity secret; the error names the missing field, never a value. */
export function parseIdentitySecret(text: string): IdentitySecret {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new Error('identity secret is not JSON; re-issue it with the mesh issuer');
  }
  const o = obj as Record<string, unknown>;
  for (const f of ['spiffeId', 'certificate', 'chain', 'privateKey', 'notBefore', 'notAfter'] as const) {
    if (typeof o?.[f] !== 'string') throw new Error(`identity secret lacks string field "${f}"; re-issue it`);
  }
  if (
    !Array.isArray(o.trustBundle) ||
    o.trustBundle.length === 0 ||
    !o.trustBundle.every((c) => typeof c === 'string')
  ) {
    throw new Error('identity secret lacks "trustBundle" (array of CA PEMs); re-issue it');
  }
  return o as unknown as IdentitySecret;
}
