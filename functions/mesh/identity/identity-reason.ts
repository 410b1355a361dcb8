/**
 * Why a token was refused. B logs the reason and counts it in denied_total; the caller only ever
 * learns "unauthenticated" (telling a forger which check failed helps the forger).
 */
export const REFUSAL = {
  /** No token in the metadata although identity is on. */
  missing: 'token-missing',
  /** Token longer than MAX_TOKEN_CHARS. */
  oversized: 'token-oversized',
  /** Not four dot-separated canonical base64url parts, bad JSON, wrong field types. */
  malformed: 'token-malformed',
  /** The carried certificate is not an EC P-256 leaf issued by a CA in the trust bundle. */
  untrustedCertificate: 'certificate-untrusted',
  certificateExpired: 'certificate-expired',
  certificateNotYetValid: 'certificate-not-yet-valid',
  /** The certificate's URI SAN or the token's issuer is not the claimed source's SPIFFE ID. */
  wrongSource: 'source-mismatch',
  /** The token was made for another service. */
  wrongAudience: 'audience-mismatch',
  /** ECDSA signature does not verify with the certificate's key, or is not in its one low-S encoding. */
  badSignature: 'signature-invalid',
  expired: 'token-expired',
  notYetValid: 'token-not-yet-valid',
  /** exp - iat above MAX_TOKEN_LIFETIME_S. */
  lifetimeTooLong: 'token-lifetime-too-long',
  /**
   * The request is not the one that was signed: payload bytes, HTTP method, path or query, the
   * idempotency key or the deadline differ.
   */
  payloadMismatch: 'payload-digest-mismatch',
  /**
   * The token binds the metadata the callee acts on (claim `ctx`) and the call carries other values:
   * the attempt, the mirror mark or the routing headers differ.
   */
  contextMismatch: 'metadata-digest-mismatch',
  /** The nonce was seen before within the token lifetime. */
  replayed: 'token-replayed',
} as const;

export type RefusalReason = (typeof REFUSAL)[keyof typeof REFUSAL];

/**
 * `contextBound`: the token binds the attempt, mirror mark and routing headers (claim `ctx`). Absent for
 * a token of an older caller, which does not: the callee then acts on neither the mark nor the headers.
 */
export type VerifyResult = { ok: true; contextBound?: true } | { ok: false; reason: RefusalReason };

/** Longest token accepted, in characters; a real one is about 1 KB (leaf certificate included). */
export const MAX_TOKEN_CHARS = 2048;
/**
 * Token lifetime the signer uses, and the longest one accepted (exp - iat), seconds. It covers the
 * Invoke and a cold start (Lambda's init phase is capped at 10 s); the signer shortens it further to
 * the attempt's deadline, which a callee never works past anyway.
 */
export const TOKEN_LIFETIME_S = 10;
export const MAX_TOKEN_LIFETIME_S = TOKEN_LIFETIME_S;
/** The lifetime of a token of an asynchronous message (shared/names.ts, where the signer reads it too). */
/** Clock skew tolerated between caller and callee (shared/names.ts, where shared breaker state reads it too). */
export { ASYNC_TOKEN_LIFETIME_S, CLOCK_SKEW_S } from '../../../shared/names';
/** Token format tag, first part of the token (m2: the digest binds the whole request). */
export const TOKEN_VERSION = 'm2';

/** Thrown (never returned to callers) when a token is refused; the message names the failed check only. */
export class IdentityRefusedError extends Error {
  override readonly name = 'IdentityRefusedError';
  constructor(readonly reason: RefusalReason) {
    super(`mesh identity refused: ${reason}`);
  }
}
