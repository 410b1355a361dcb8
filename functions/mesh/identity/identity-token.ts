/**
 * The per-attempt identity token: `m2.<claims>.<leaf DER>.<signature>`, each part canonical base64url.
 * claims = JSON { iss, aud, iat, exp, nce, dig, ctx? }: issuer and audience SPIFFE IDs, epoch seconds,
 * a 96-bit nonce, the request digest (request-binding.ts: payload, HTTP method/path/query,
 * idempotency key, deadline) and, when the metadata carries any, the digest of the attempt, mirror
 * mark and routing headers (`contextDigest`). The ECDSA P-256 signature (IEEE P1363, 64 bytes, low-S) covers
 * `m2.<claims>.<leaf>`, so the certificate is bound to the token too. One token has one encoding:
 * a high-S signature or a base64url part with non-zero trailing bits is refused.
 * Pure apart from node:crypto; the clock and the replay cache come from the caller.
 */
import { sign as ecSign, verify as ecVerify, type KeyObject, randomBytes } from 'node:crypto';
import type { TrustBundle } from './certificate-check';
import {
  ASYNC_TOKEN_LIFETIME_S,
  CLOCK_SKEW_S,
  MAX_TOKEN_CHARS,
  MAX_TOKEN_LIFETIME_S,
  REFUSAL,
  TOKEN_LIFETIME_S,
  TOKEN_VERSION,
  type VerifyResult,
} from './identity-reason';
import type { ReplayCache } from './replay-cache';
import { contextDigest, type PayloadBytes, type RequestBinding, requestDigest } from './request-binding';

export interface TokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly nce: string;
  readonly dig: string;
  /** Absent in a token of an older layer, and when there is no attempt, mirror mark or routing header. */
  readonly ctx?: string;
}

export type { PayloadBytes, RequestBinding };

/** The digest of a bare payload (no key, no deadline, an Invoke). */
export function payloadDigest(payload: PayloadBytes): string {
  return requestDigest({ payload });
}

export interface SignInput extends RequestBinding {
  readonly issuer: string;
  readonly audience: string;
  readonly key: KeyObject;
  /** The signer's leaf certificate, DER as base64url (encoded once per identity load). */
  readonly certB64u: string;
  readonly nowS: number;
  readonly lifetimeS?: number;
}

/** The order of P-256: a signature (r, s) and (r, n - s) both verify, so only s <= n/2 is accepted. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P256_HALF_N = P256_N >> 1n;

export function signToken(input: SignInput): string {
  // Never past the attempt's deadline: the callee would refuse the work then anyway.
  const byDeadline = input.deadline === undefined ? Infinity : Math.ceil(input.deadline / 1000);
  const exp = Math.max(input.nowS + 1, Math.min(input.nowS + (input.lifetimeS ?? TOKEN_LIFETIME_S), byDeadline));
  const ctx = input.context && contextDigest(input.context);
  const claims: TokenClaims = {
    iss: input.issuer,
    aud: input.audience,
    iat: input.nowS,
    exp,
    nce: randomBytes(12).toString('base64url'),
    dig: requestDigest(input),
    ...(ctx ? { ctx } : {}),
  };
  const signed = `${TOKEN_VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${input.certB64u}`;
  const sig = ecSign('sha256', Buffer.from(signed), { key: input.key, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${toLowS(sig).toString('base64url')}`;
}

export interface VerifyInput extends RequestBinding {
  readonly token: unknown;
  /** SPIFFE ID the caller claims to be (from metadata `src`). */
  readonly expectedIssuer: string;
  /** This service's SPIFFE ID. */
  readonly audience: string;
  readonly trust: TrustBundle;
  readonly replay: ReplayCache;
  readonly nowS: number;
  /**
   * A token of an asynchronous message: it may live up to ASYNC_TOKEN_LIFETIME_S, and its nonce is not
   * claimed, since the queue delivers the same message (and token) again on a retry. What a replay can
   * do is bounded by the binding: the same payload and idempotency key to the same audience.
   */
  readonly async?: boolean;
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
  if (!isCanonical(claimsPart) || !isCanonical(certPart)) return fail(REFUSAL.malformed);
  const claims = parseClaims(claimsPart);
  if (!claims) return fail(REFUSAL.malformed);

  const maxLifetimeS = input.async ? ASYNC_TOKEN_LIFETIME_S : MAX_TOKEN_LIFETIME_S;
  if (claims.exp - claims.iat > maxLifetimeS || claims.exp < claims.iat) return fail(REFUSAL.lifetimeTooLong);
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
  if (sig.length !== 64 || !isCanonical(sigPart) || !isLowS(sig)) return fail(REFUSAL.badSignature);
  // A trusted leaf's key is EC P-256 and sig is 64 bytes: verify answers false for a bad one, never throws.
  const signed = Buffer.from(`${TOKEN_VERSION}.${claimsPart}.${certPart}`);
  if (!ecVerify('sha256', signed, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, sig)) {
    return fail(REFUSAL.badSignature);
  }
  if (claims.dig !== requestDigest(input)) return fail(REFUSAL.payloadMismatch);
  // A token without the claim (an older caller) binds none of it: the caller is told so, and trusts
  // none of it. One with the claim binds it whole, absent fields included.
  const ok: VerifyResult = claims.ctx === undefined ? { ok: true } : { ok: true, contextBound: true };
  if (ok.contextBound && claims.ctx !== contextDigest(input.context ?? {})) return fail(REFUSAL.contextMismatch);
  if (input.async) return ok;
  if (!input.replay.claim(`${claims.iss} ${claims.nce}`, claims.exp + CLOCK_SKEW_S, nowS))
    return fail(REFUSAL.replayed);
  return ok;
}

/** base64url that decodes and re-encodes to itself: no trailing bits set, no other spelling of the bytes. */
function isCanonical(part: string): boolean {
  return Buffer.from(part, 'base64url').toString('base64url') === part;
}

function isLowS(sig: Buffer): boolean {
  return BigInt(`0x${sig.subarray(32).toString('hex')}`) <= P256_HALF_N;
}

/** The same signature in its low-S form (s -> n - s when s > n/2); both verify, only this one is accepted. */
function toLowS(sig: Buffer): Buffer {
  const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  if (s <= P256_HALF_N) return sig;
  const low = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([sig.subarray(0, 32), low]);
}

function parseClaims(part: string): TokenClaims | undefined {
  if (part.length > 1024) return undefined;
  let o: Record<string, unknown> | null;
  try {
    o = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  // null cannot be destructured; any other JSON that is not an object (an array too) lacks the fields below.
  if (o === null) return undefined;
  const { iss, aud, iat, exp, nce, dig, ctx } = o;
  if (typeof iss !== 'string' || typeof aud !== 'string' || typeof nce !== 'string' || typeof dig !== 'string')
    return undefined;
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return undefined;
  if (nce.length < 16 || nce.length > 64 || dig.length !== 43) return undefined;
  // Other unknown claims are ignored, as a callee of an older layer ignores `ctx`.
  if (ctx !== undefined && (typeof ctx !== 'string' || ctx.length !== 43)) return undefined;
  // `ctx` undefined and `ctx` absent read alike: verifyToken only asks whether it is undefined.
  return { iss, aud, iat: iat as number, exp: exp as number, nce, dig, ctx: ctx as string | undefined };
}
