/**
 * Certificates the mesh CA would never issue, for the trust checks' refusals: a leaf that is itself a
 * CA, a key that is not EC P-256, a SAN that is not exactly one URI, an issuer name that does not
 * match its signer, dates no parser reads. Each is made with @peculiar/x509 (test-only), signed by the
 * key given, so only the property under test differs from a good leaf.
 */
import 'reflect-metadata'; // @peculiar/x509's DI (tsyringe) needs it before load
import { createPrivateKey, sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Authority } from '../../functions/control/ca-issuer';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;

export type KeyKind = 'p256' | 'p384' | 'rsa';

export interface LeafSpec {
  /** Signs the certificate (PKCS#8 PEM of an EC P-256 key). */
  readonly signerKey: string;
  /** The issuer name written into the certificate. */
  readonly issuer: string;
  readonly keyKind?: KeyKind;
  /** BasicConstraints cA. */
  readonly ca?: boolean;
  /** SAN entries; none writes no SAN extension. */
  readonly names?: readonly x509.JsonGeneralName[];
  /** Written as the subject key identifier (a CA's). */
  readonly subjectKeyId?: string;
  readonly subject?: string;
  /** A raw SubjectPublicKeyInfo to carry instead of a fresh key (e.g. one no parser reads). */
  readonly spki?: Buffer;
}

/** A leaf signed by `authority` exactly as the issuer would, except for what `spec` changes. */
export function leafSpecOf(authority: Authority, uri: string): LeafSpec {
  return {
    signerKey: authority.privateKey,
    issuer: new x509.X509Certificate(authority.certificate).subject,
    names: [{ type: 'url', value: uri }],
  };
}

/** Issues a certificate as PEM. */
export async function forge(spec: LeafSpec): Promise<string> {
  const keys = await keyPair(spec.keyKind ?? 'p256');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.ca ?? false, undefined, true),
    new x509.KeyUsagesExtension(spec.ca ? x509.KeyUsageFlags.keyCertSign : x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (spec.names?.length) extensions.push(new x509.SubjectAlternativeNameExtension([...spec.names], true));
  if (spec.subjectKeyId) extensions.push(new x509.SubjectKeyIdentifierExtension(spec.subjectKeyId));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: spec.subject ?? 'CN=forged',
    issuer: spec.issuer,
    notBefore: new Date(Date.now() - HOUR_MS),
    notAfter: new Date(Date.now() + HOUR_MS),
    publicKey: spec.spki ?? keys.publicKey,
    signingKey: await importSigner(spec.signerKey),
    signingAlgorithm: EC_SIGN,
    extensions,
  });
  return cert.toString('pem');
}

/** A fresh EC P-256 key pair as PKCS#8 PEM (an attacker's CA key). */
export async function p256Key(): Promise<string> {
  const keys = await keyPair('p256');
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Rewrites the certificate's first time field (notBefore, or notAfter with which = 1) to `text` (same
 * length) and signs it again with `signerKey`: the only way to get a date the issuer cannot write.
 */
export function withTime(pem: string, which: 0 | 1, text: string, signerKey: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.body);
  const tbsBytes = Buffer.from(der.subarray(tbs.start, tbs.end));
  // UTCTime (0x17) fields of 13 characters, in order: notBefore, notAfter.
  let seen = -1;
  for (let i = tbs.body; i < tbs.end - 15; i++) {
    if (tbsBytes[i - tbs.start] === 0x17 && tbsBytes[i - tbs.start + 1] === 13 && ++seen === which) {
      if (text.length !== 13) throw new Error(`withTime: "${text}" must be 13 characters like a UTCTime`);
      tbsBytes.write(text, i - tbs.start + 2, 'latin1');
      const alg = readTlv(der, tbs.end);
      const signature = sign('sha256', tbsBytes, { key: createPrivateKey(signerKey), dsaEncoding: 'der' });
      const bitString = tlv(0x03, Buffer.concat([Buffer.from([0]), signature]));
      const body = Buffer.concat([tbsBytes, der.subarray(alg.start, alg.end), bitString]);
      const out = tlv(0x30, body);
      return `-----BEGIN CERTIFICATE-----\n${out.toString('base64')}\n-----END CERTIFICATE-----\n`;
    }
  }
  throw new Error('withTime: the certificate has no UTCTime validity field');
}

async function keyPair(kind: KeyKind): Promise<CryptoKeyPair> {
  const alg =
    kind === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: kind === 'p256' ? 'P-256' : 'P-384' };
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function importSigner(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/** One DER element at `start`: where its body begins and where it ends. */
function readTlv(der: Buffer, start: number): { start: number; body: number; end: number } {
  const first = der[start + 1]!;
  if (first < 0x80) return { start, body: start + 2, end: start + 2 + first };
  const n = first & 0x7f;
  const len = der.readUIntBE(start + 2, n);
  return { start, body: start + 2 + n, end: start + 2 + n + len };
}

function tlv(tag: number, body: Buffer): Buffer {
  const len = body.length;
  const head =
    len < 0x80
      ? Buffer.from([tag, len])
      : len < 0x100
        ? Buffer.from([tag, 0x81, len])
        : Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([head, body]);
}
