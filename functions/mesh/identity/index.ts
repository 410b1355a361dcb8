/**
 * Mesh identity for the runtime (docs/identity.md). The wrapper and the call pipeline use exactly this:
 *
 *   const id = await loadIdentity();            // undefined when MESH_IDENTITY_SECRET is unset
 *   meta.tok = id?.sign({ target, payload });   // each attempt; payload = the exact Invoke bytes
 *   const r = id.verify({ token: meta.tok, source: meta.src, payload });  // before the policy check
 *   if (!r.ok) -> log r.reason, count denied_total, answer the caller "unauthenticated" only.
 *
 * Loaded lazily and once: the secret is read on the first call, keys are parsed once, and the
 * certificate is re-read in the background when it passes half its life.
 */
import { ENV, IDENTITY } from '../../../shared/names';
import { Identity } from './identity';
import { secretsManagerReader } from './secret-reader';

export { TrustBundle } from './certificate-check';
export { Identity, type IdentityOptions, type SecretReader } from './identity';
// The runtime's loader of this identity, and its stand-in while there is none.
export { IDENTITY_UNAVAILABLE, IdentityLoader, type LoadedIdentity, unavailableIdentity } from './identity-loader';
export {
  CLOCK_SKEW_S,
  IdentityRefusedError,
  MAX_TOKEN_CHARS,
  REFUSAL,
  type RefusalReason,
  TOKEN_LIFETIME_S,
  type VerifyResult,
} from './identity-reason';
export { type IdentitySecret, parseIdentitySecret } from './identity-secret';
// What the wrapper binds a token to (the request as received), and the request line a caller's token to
// an HTTP target binds: with identity on, from this file.
export { bodyOfEvent, requestLineOfEvent, requestLineOfUrl } from './request-binding';
export { secretsManagerReader } from './secret-reader';

let loading: Promise<Identity | undefined> | undefined;

/**
 * This function's identity, or undefined when identity is off (MESH_IDENTITY_SECRET unset).
 * Rejects when the secret cannot be read or parsed; the next call tries again.
 */
export function loadIdentity(): Promise<Identity | undefined> {
  if (loading) return loading;
  const secretId = process.env[ENV.identitySecret];
  if (!secretId) return Promise.resolve(undefined);
  loading = Identity.create({
    read: secretsManagerReader(secretId),
    warn: (msg) => console.warn(JSON.stringify({ level: 'WARN', msg })),
  }).catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * This service's identity in another region: its identity secret there (the same name, issued by that
 * region's mesh CA), read with a request signed for that region. A function in that region verifies
 * tokens only against its own region's CA, so a fallback there is signed with this identity
 * (docs/rate-limits.md, "Identity across regions"). Rejects when the secret cannot be read or parsed.
 */
export function loadIdentityIn(
  region: string,
  mesh: string,
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Identity> {
  return Identity.create({
    read: secretsManagerReader(IDENTITY.secretName(mesh, service), {
      ...env,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    }),
    warn: (msg) => console.warn(JSON.stringify({ level: 'WARN', msg: `${msg} (${region})` })),
  });
}

/** Forget the loaded identity (tests, and a worker re-used with another env). */
export function resetIdentity(): void {
  loading = undefined;
}
