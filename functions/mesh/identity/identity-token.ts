/**
 * The per-attempt identity token: `m1.<claims>.<leaf DER>.<signature>`, each part base64url.
 * claims = JSON { iss, aud, iat, exp, nce, dig }: issuer and audience SPIFFE IDs, epoch seconds,
 * a 96-bit nonce, the SHA-256 of the payload bytes. The ECDSA P-256 signature (IEEE P1363, 64 bytes)
 * covers `m1.<claims>.<leaf>`, so the certificate is bound to the token too.
 * Pure apart from node:crypto; the clock and the replay cache come from the caller.
 */
import { createHash, sign as ecSign, verify as ecVerify, type KeyObject, randomBytes } from 'node:crypto';
import type { TrustBundle } from './certificate-check';
import {
  CLOCK_SKEW_S,
  MAX_TOKEN_CHARS,
  MAX_TOKEN_LIFETIME_S,
  REFUSAL,
  TOKEN_LIFETIME_S,
  TOKEN_VERSION,
  type VerifyResult,
} from './identity-reason';
import type { ReplayCache } from './replay-cache';

export interface TokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly nce: string;
  readonly dig: string;
}

export type PayloadBytes = Uint8Array | string;

export function payloadDigest(payload: PayloadBytes): string {
  return createHash('sha256').update(payload).digest('base64url');
}

export interface SignInput {
  readonly issuer: string;
  readonly audience: string;
  readonly payload: PayloadBytes;
  readonly key: KeyObject;
  /** The signer's leaf certificate, DER as base64url (encoded once per identity load). */
  readonly certB64u: string;
  readonly nowS: number;
  readonly lifetimeS?: number;
}

export function signToken(input: SignInput): string {
  const claims: TokenClaims = {
    iss: input.issuer,
    aud: input.audience,
    iat: input.nowS,
    exp: input.nowS + (input.lifetimeS ?? TOKEN_LIFETIME_S),
    nce: randomBytes(12).toString('base64url'),
    dig: payloadDigest(input.payload),
  };
  const signed = `${TOKEN_VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${input.certB64u}`;
  const sig = ecSign('sha256', Buffer.from(signed), { key: input.key, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${sig.toString('base64url')}`;
}

export interface VerifyInput {
  readonly token: unknown;
  /** SPIFFE ID the caller claims to be (from metadata `src`). */
  readonly expectedIssuer: string;
  /** This service's SPIFFE ID. */
  readonly audience: string;
  readonly payload: PayloadBytes;
  readonly trust: TrustBundle;
  readonly replay: ReplayCache;
  readonly nowS: number;
}

const B64U = /^[A-Za-z0-9_-]+$/;
const fail = (reason: (typeof REFUSAL)[keyof typeof REFUSAL]): VerifyResult => ({ ok: false, reason });

/** Every check, cheapest first; the nonce is claimed only after the signature holds (no cache poisoning). */
export function verifyToken(input: VerifyInput): VerifyResult {
  const { token, nowS } = input;
  if (token === undefined || token === null || token === '') return fail(REFUSAL.missing);
  if (typeof token !== 'string') return fail(REFUSAL.malformed);
  if (token.length > MAX_TOKEN_CHARS) return fail(REFUSAL.oversized);
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== TOKEN_VERSION) return fail(REFUSAL.malformed);
  const [, claimsPart, certPart, sigPart] = parts as [string, string, string, string];
  if (!B64U.test(claimsPart) || !B64U.test(certPart) || !B64U.test(sigPart)) return fail(REFUSAL.malformed);
  const claims = parseClaims(claimsPart);
  if (!claims) return fail(REFUSAL.malformed);

  if (claims.exp - claims.iat > MAX_TOKEN_LIFETIME_S || claims.exp < claims.iat) return fail(REFUSAL.lifetimeTooLong);
  if (claims.iat > nowS + CLOCK_SKEW_S) return fail(REFUSAL.notYetValid);
  if (claims.exp < nowS - CLOCK_SKEW_S) return fail(REFUSAL.expired);
  if (claims.aud !== input.audience) return fail(REFUSAL.wrongAudience);
  if (claims.iss !== input.expectedIssuer) return fail(REFUSAL.wrongSource);

  const leaf = input.trust.checkLeaf(certPart);
  if (!leaf.ok) return leaf;
  if (leaf.uri !== claims.iss) return fail(REFUSAL.wrongSource);
  if (leaf.notBeforeS > nowS + CLOCK_SKEW_S) return fail(REFUSAL.certificateNotYetValid);
  if (leaf.notAfterS < nowS - CLOCK_SKEW_S) return fail(REFUSAL.certificateExpired);

  const sig = Buffer.from(sigPart, 'base64url');
  if (sig.length !== 64) return fail(REFUSAL.badSignature);
  let good = false;
  try {
    const signed = Buffer.from(`${TOKEN_VERSION}.${claimsPart}.${certPart}`);
    good = ecVerify('sha256', signed, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    good = false;
  }
  if (!good) return fail(REFUSAL.badSignature);
  if (claims.dig !== payloadDigest(input.payload)) return fail(REFUSAL.payloadMismatch);
  if (!input.replay.claim(`${claims.iss} ${claims.nce}`, claims.exp + CLOCK_SKEW_S, nowS))
    return fail(REFUSAL.replayed);
  return { ok: true };
}

function parseClaims(part: string): TokenClaims | undefined {
  if (part.length > 1024) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const { iss, aud, iat, exp, nce, dig } = o;
  if (typeof iss !== 'string' || typeof aud !== 'string' || typeof nce !== 'string' || typeof dig !== 'string')
    return undefined;
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return undefined;
  if (nce.length < 16 || nce.length > 64 || dig.length !== 43) return undefined;
  return { iss, aud, iat: iat as number, exp: exp as number, nce, dig };
}
