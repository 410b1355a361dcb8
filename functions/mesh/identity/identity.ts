/**
 * A service's mesh identity: its certificate and key (from its identity secret) and the mesh CA trust
 * bundle. Signs a token per call attempt and verifies the tokens of callers. The key material is
 * swapped in place when the secret is re-read (past half life, or on demand), so holders of this
 * object never see a rotation.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { spiffeId } from '../../../shared/names';
import { TrustBundle } from './certificate-check';
import { REFUSAL, type VerifyResult } from './identity-reason';
import { type IdentitySecret, parseIdentitySecret } from './identity-secret';
import { signToken, verifyToken } from './identity-token';
import { ReplayCache } from './replay-cache';
import type { PayloadBytes, RequestBinding } from './request-binding';

/** Reads the secret's current value (Secrets Manager GetSecretValue in production). */
export type SecretReader = () => Promise<string>;

interface Material {
  readonly spiffeId: string;
  readonly key: KeyObject;
  readonly certB64u: string;
  readonly trust: TrustBundle;
  /** epoch ms */
  readonly refreshAtMs: number;
  readonly notAfterMs: number;
  /** For mTLS only; parsed lazily by the transports. */
  readonly secret: IdentitySecret;
}

const SPIFFE = /^spiffe:\/\/([^/]+)\/svc\/([a-z][a-z0-9-]{0,39})$/;
/** After an untrusted certificate, re-read the secret at most this often (a CA rotation we have not seen). */
const UNTRUSTED_REFRESH_MS = 30_000;

export interface IdentityOptions {
  readonly read: SecretReader;
  readonly now?: () => number;
  /** Logs a refresh failure (message only, never a value). */
  readonly warn?: (msg: string) => void;
}

export class Identity {
  readonly mesh: string;
  readonly service: string;
  private material: Material;
  private readonly replay = new ReplayCache();
  private refreshing: Promise<void> | undefined;
  private lastUntrustedRefreshMs = 0;
  /** The expired certificate a read was waited for (ready). */
  private expired: string | undefined;
  private readonly now: () => number;

  /** Reads and parses the secret once; use `loadIdentity()` in the runtime. */
  static async create(opts: IdentityOptions): Promise<Identity> {
    const now = opts.now ?? Date.now;
    return new Identity(opts, materialFrom(await opts.read(), now()));
  }

  private constructor(
    private readonly opts: IdentityOptions,
    material: Material,
  ) {
    this.material = material;
    this.now = opts.now ?? Date.now;
    const m = SPIFFE.exec(material.spiffeId);
    if (!m) throw new Error(`identity secret spiffeId must look like spiffe://<mesh>/svc/<service>`);
    this.mesh = m[1]!;
    this.service = m[2]!;
  }

  get spiffeId(): string {
    return this.material.spiffeId;
  }

  /**
   * The token for metadata `tok`: one per attempt (fresh nonce). `target` is a service name or SPIFFE
   * ID; the request fields (payload, idempotency key, deadline, HTTP request line) and the bound
   * metadata (`context`: attempt, mirror mark, routing headers as they travel) are what it binds.
   */
  sign(input: { target: string; lifetimeS?: number } & RequestBinding): string {
    const nowMs = this.now();
    this.maybeRefresh(nowMs);
    const m = this.material;
    return signToken({
      ...input,
      issuer: m.spiffeId,
      audience: input.target.startsWith('spiffe://') ? input.target : spiffeId(this.mesh, input.target),
      key: m.key,
      certB64u: m.certB64u,
      nowS: Math.floor(nowMs / 1000),
    });
  }

  /**
   * Verifies a caller's token against the request as received; `source` is the caller's service name
   * from the metadata. `payload` undefined: a payload no caller can have signed (metadata.ts
   * `jsonPayloadOf`), refused as a request the token does not bind. `context`: the metadata's attempt,
   * mirror mark and routing headers as received; `contextBound` in the answer says whether the token
   * vouched for them. Never throws.
   */
  verify(
    input: {
      token: unknown;
      source: unknown;
      payload: PayloadBytes | undefined;
      audience?: string;
      async?: boolean;
    } & Omit<RequestBinding, 'payload'>,
  ): VerifyResult {
    const nowMs = this.now();
    this.maybeRefresh(nowMs);
    if (typeof input.source !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(input.source)) {
      return input.token === undefined
        ? { ok: false, reason: REFUSAL.missing }
        : { ok: false, reason: REFUSAL.wrongSource };
    }
    if (input.payload === undefined) return { ok: false, reason: REFUSAL.payloadMismatch };
    const m = this.material;
    let res: VerifyResult;
    try {
      res = verifyToken({
        token: input.token,
        expectedIssuer: spiffeId(this.mesh, input.source),
        // A message on a channel (queue, topic, bus) is addressed to the channel, not to this service.
        audience: input.audience ?? m.spiffeId,
        async: input.async,
        payload: input.payload,
        idempotencyKey: input.idempotencyKey,
        deadline: input.deadline,
        http: input.http,
        context: input.context,
        trust: m.trust,
        replay: this.replay,
        nowS: Math.floor(nowMs / 1000),
      });
    } catch {
      // verifyToken guards every parse; this is the last line so a bug never crashes the wrapper.
      res = { ok: false, reason: REFUSAL.malformed };
    }
    if (
      !res.ok &&
      res.reason === REFUSAL.untrustedCertificate &&
      nowMs - this.lastUntrustedRefreshMs > UNTRUSTED_REFRESH_MS
    ) {
      // Maybe the CA rotated and our bundle is stale: re-read in the background.
      this.lastUntrustedRefreshMs = nowMs;
      void this.refresh().catch(() => undefined);
    }
    return res;
  }

  /** Re-reads the secret now (rotation, tests). Concurrent calls share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.opts
      .read()
      .then((text) => {
        this.material = materialFrom(text, this.now());
      })
      .catch((err: unknown) => {
        // Keep the old material: it stays valid until notAfter; the next sign() retries.
        this.opts.warn?.(`mesh identity refresh failed: ${(err as Error)?.name ?? 'Error'}`);
        throw err;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /**
   * Before a call is signed or verified: when this certificate has expired (a sandbox idle past its end:
   * Lambda promises no bound on how long an environment lives), what it holds is stale, its trust bundle
   * too, so the secret is read again first, once per certificate; a failed read keeps what there is.
   */
  ready(): Promise<unknown> | undefined {
    const m = this.material;
    if (this.now() < m.notAfterMs) return;
    if (this.expired !== m.certB64u) {
      this.expired = m.certB64u;
      this.refresh().catch(() => undefined);
    }
    return this.refreshing?.catch(() => undefined);
  }

  /** Certificate chain, key and CA bundle as PEM, for the mTLS transport. */
  tlsMaterial(): { cert: string; key: string; ca: string[] } {
    const s = this.material.secret;
    return { cert: s.chain, key: s.privateKey, ca: this.material.trust.pems };
  }

  /** The trust bundle (the mTLS transport checks server certificates against it). */
  get trust(): TrustBundle {
    return this.material.trust;
  }

  private maybeRefresh(nowMs: number): void {
    if (nowMs >= this.material.refreshAtMs && !this.refreshing) void this.refresh().catch(() => undefined);
  }
}

function materialFrom(text: string, nowMs: number): Material {
  const secret = parseIdentitySecret(text);
  const key = createPrivateKey(secret.privateKey);
  const leaf = new X509Certificate(secret.certificate);
  const notBeforeMs = Date.parse(secret.notBefore);
  const notAfterMs = Date.parse(secret.notAfter);
  // Renew at half life; if the secret is already past it (rotation pending), look again in a minute.
  const half = notBeforeMs + (notAfterMs - notBeforeMs) / 2;
  const refreshAtMs = half > nowMs ? half : nowMs + 60_000;
  return {
    spiffeId: secret.spiffeId,
    key,
    certB64u: leaf.raw.toString('base64url'),
    trust: new TrustBundle(secret.trustBundle),
    refreshAtMs,
    notAfterMs,
    secret,
  };
}
