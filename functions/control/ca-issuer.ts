/**
 * The mesh certificate authority (control plane only: @peculiar/x509 never ships in the layer).
 * Creates CA key pairs and issues service certificates: EC P-256, URI SAN spiffe://<mesh>/svc/<service>,
 * client+server auth, 24 h by default. Secret values built here are never logged.
 */
import 'reflect-metadata'; // @peculiar/x509's DI (tsyringe) needs it before load
import { webcrypto } from 'node:crypto';

// lib is ES2022 (no DOM): name the WebCrypto types through node's.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

import * as x509 from '@peculiar/x509';
import { spiffeId } from '../../shared/names';
import type { IdentitySecret } from '../mesh/identity/identity-secret';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;

/** Default service certificate lifetime; renewed at half life. */
export const LEAF_LIFETIME_MS = 24 * HOUR_MS;
/** Default CA lifetime. */
export const CA_LIFETIME_MS = 365 * 24 * HOUR_MS;
/** Certificates start slightly in the past so a callee whose clock is behind still accepts them. */
const BACKDATE_MS = 5 * 60_000;

/** One CA key pair with its certificate. */
export interface Authority {
  /** PEM */
  readonly certificate: string;
  /** PKCS#8 PEM */
  readonly privateKey: string;
  /** ISO 8601: when this CA was made (decides when it starts signing). */
  readonly createdAt: string;
}

/** The value of the mesh CA secret: newest authority first, at most two (current and previous). */
export interface CaSecret {
  readonly v: 1;
  readonly authorities: Authority[];
}

export async function createAuthority(mesh: string, now = Date.now(), lifetimeMs = CA_LIFETIME_MS): Promise<Authority> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serialNumber = serial();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    // OU tells successive CAs of one mesh apart (the issuer name in each leaf says which one signed it).
    name: `CN=${mesh} mesh CA, OU=${serialNumber.slice(0, 8)}, O=lambda-mesh`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + lifetimeMs),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate: cert.toString('pem'),
    privateKey: await exportPem(keys.privateKey),
    createdAt: new Date(now).toISOString(),
  };
}

/** The lifetimes a CA rotation is measured in (the issuer's). */
export interface CaTiming {
  /** Service certificate lifetime. @default LEAF_LIFETIME_MS */
  readonly leafLifetimeMs?: number;
  /** How long a new CA only stands in trust bundles before it signs. @default two leaf lifetimes */
  readonly overlapMs?: number;
}

/**
 * The earliest time the CA may rotate again (epoch ms). A rotation drops the previous authority, which
 * signs until the newest one has stood in the bundles for the overlap, and whose last certificates stay
 * valid one leaf lifetime after that: dropped sooner, every caller still holding one is refused.
 */
export function nextCaRotationAt(ca: CaSecret | undefined, timing: CaTiming = {}): number {
  const [newest, previous] = ca?.authorities ?? [];
  if (!newest || !previous) return Number.NEGATIVE_INFINITY;
  const leafMs = timing.leafLifetimeMs ?? LEAF_LIFETIME_MS;
  return Date.parse(newest.createdAt) + (timing.overlapMs ?? 2 * leafMs) + leafMs;
}

/**
 * A CA secret with a fresh authority in front and the previous one kept (trusted, may still sign). The
 * one before that is dropped: refused, with the time it may be, while certificates it signed may still be
 * in use (`nextCaRotationAt`).
 */
export async function rotateCa(
  mesh: string,
  current: CaSecret | undefined,
  now = Date.now(),
  timing: CaTiming = {},
): Promise<CaSecret> {
  const safeAt = nextCaRotationAt(current, timing);
  if (now < safeAt) {
    throw new Error(
      `the ${mesh} mesh CA rotated at ${current!.authorities[0]!.createdAt}; rotating it again before ` +
        `${new Date(safeAt).toISOString()} would drop the CA before it, whose certificates may still be in use ` +
        `until then, and every call that presents one would be refused: rotate the CA after that time`,
    );
  }
  const next = await createAuthority(mesh, now);
  return { v: 1, authorities: [next, ...(current?.authorities.slice(0, 1) ?? [])] };
}

/**
 * The authority that signs now. A new CA signs only after every service has had time to learn it
 * (two leaf lifetimes: each identity secret is reissued, and re-read, at half life), so no callee ever
 * meets a certificate from a CA missing in its trust bundle.
 */
export function signingAuthority(ca: CaSecret, now = Date.now(), overlapMs = 2 * LEAF_LIFETIME_MS): Authority {
  const [newest, previous] = ca.authorities;
  if (!newest) throw new Error('CA secret holds no authority; rotate the CA secret first');
  if (!previous || now - Date.parse(newest.createdAt) >= overlapMs) return newest;
  return previous;
}

export interface IssueOptions {
  readonly mesh: string;
  readonly service: string;
  readonly ca: CaSecret;
  readonly now?: number;
  readonly lifetimeMs?: number;
  /** How long a new CA only stands in trust bundles before it signs. @default two leaf lifetimes */
  readonly caOverlapMs?: number;
  /** Extra DNS names / IP addresses, for a service that also serves HTTPS (mTLS targets). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** Issues a fresh key pair and certificate for one service: the identity secret's value. */
export async function issueIdentity(opts: IssueOptions): Promise<IdentitySecret> {
  const now = opts.now ?? Date.now();
  const authority = signingAuthority(opts.ca, now, opts.caOverlapMs ?? 2 * (opts.lifetimeMs ?? LEAF_LIFETIME_MS));
  const caCert = new x509.X509Certificate(authority.certificate);
  const caKey = await importPem(authority.privateKey);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const id = spiffeId(opts.mesh, opts.service);
  const notBefore = new Date(now - BACKDATE_MS);
  const notAfter = new Date(now + (opts.lifetimeMs ?? LEAF_LIFETIME_MS));
  const names: x509.JsonGeneralName[] = [{ type: 'url', value: id }];
  for (const d of opts.dnsNames ?? []) names.push({ type: 'dns', value: d });
  for (const ip of opts.ipAddresses ?? []) names.push({ type: 'ip', value: ip });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    // Lean leaf (it rides in every token): the SAN carries the identity, no O=, no SKI.
    subject: `CN=${opts.service}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names, true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certificate = cert.toString('pem');
  return {
    v: 1,
    spiffeId: id,
    certificate,
    chain: `${certificate}\n${authority.certificate}`,
    privateKey: await exportPem(keys.privateKey),
    trustBundle: opts.ca.authorities.map((a) => a.certificate),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
}

export function parseCaSecret(text: string): CaSecret | undefined {
  let o: Partial<CaSecret>;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(o?.authorities) || o.authorities.length === 0) return undefined;
  return o as CaSecret;
}

async function exportPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`.replace(
    '\n\n',
    '\n',
  );
}

async function importPem(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

function serial(): string {
  // Positive 16-byte serial (RFC 5280: at most 20 octets, non-negative).
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f;
  return Buffer.from(b).toString('hex');
}
