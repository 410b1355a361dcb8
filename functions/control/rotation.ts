/**
 * Secrets Manager rotation function for the mesh CA secret and every identity secret (AWS-WIRE §5):
 * createSecret issues the new value as AWSPENDING, setSecret has nothing to push (the secret is the
 * system), testSecret checks the pending value, finishSecret moves AWSCURRENT. Identity secrets are
 * reissued from the CA secret (MESH_CA_SECRET), which only this function may read.
 * Which kind a secret is comes from its current value: a CA secret or placeholder `{"kind":"ca"}`,
 * or an identity secret / placeholder carrying `spiffeId`.
 */
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { TrustBundle } from '../mesh/identity/certificate-check';
import { parseIdentitySecret } from '../mesh/identity/identity-secret';
import { issueIdentity, parseCaSecret, rotateCa } from './ca-issuer';

/** Environment of the rotation function. */
export const ROTATION_ENV = {
  /** ARN or name of the mesh CA secret. */
  caSecret: 'MESH_CA_SECRET',
  /** Service certificate lifetime in hours (default 24). */
  leafLifetimeHours: 'MESH_CERT_LIFETIME_HOURS',
} as const;

export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret' | string;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

/** Initial placeholder values the constructs write (nothing secret in them). */
export function caPlaceholder(mesh: string): string {
  return JSON.stringify({ kind: 'ca', mesh });
}
export function identityPlaceholder(spiffe: string): string {
  return JSON.stringify({ kind: 'identity', spiffeId: spiffe });
}

type Kind = { kind: 'ca'; mesh: string; current?: string } | { kind: 'identity'; mesh: string; service: string };
const SPIFFE = /^spiffe:\/\/([^/]+)\/svc\/([a-z][a-z0-9-]{0,39})$/;

export interface RotationDeps {
  readonly client: SecretsManagerClient;
  readonly caSecretId: string;
  readonly leafLifetimeMs?: number;
  /** See IssueOptions.caOverlapMs. */
  readonly caOverlapMs?: number;
  readonly now?: () => number;
  /** How long createSecret waits for a CA that does not exist yet. @default 20 s */
  readonly caWaitMs?: number;
}

let defaultClient: SecretsManagerClient | undefined;

export async function handler(event: RotationEvent): Promise<void> {
  defaultClient ??= new SecretsManagerClient({
    endpoint: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER || process.env.AWS_ENDPOINT_URL || undefined,
  });
  const caSecretId = process.env[ROTATION_ENV.caSecret];
  if (!caSecretId) throw new Error(`${ROTATION_ENV.caSecret} is not set on the rotation function; Mesh sets it`);
  const hours = Number(process.env[ROTATION_ENV.leafLifetimeHours] ?? 24);
  await rotationStep(event, { client: defaultClient, caSecretId, leafLifetimeMs: hours * 3_600_000 });
}

export async function rotationStep(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { client } = deps;
  const { SecretId: id, ClientRequestToken: token } = event;
  const meta = await client.send(new DescribeSecretCommand({ SecretId: id }));
  const stages = meta.VersionIdsToStages ?? {};
  if (!stages[token]) throw new Error(`version ${token} is not a version of the secret being rotated`);
  if (stages[token]!.includes('AWSCURRENT')) return; // already finished
  if (!stages[token]!.includes('AWSPENDING')) throw new Error(`version ${token} is not AWSPENDING; cannot rotate`);

  switch (event.Step) {
    case 'createSecret':
      return createSecret(id, token, deps);
    case 'setSecret':
      return; // The secret itself is the system: nothing to push.
    case 'testSecret':
      return testSecret(id, token, deps);
    case 'finishSecret': {
      const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: id,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: current,
        }),
      );
      return;
    }
    default:
      throw new Error(
        `unknown rotation step ${JSON.stringify(event.Step)}: expected createSecret, setSecret, testSecret or finishSecret`,
      );
  }
}

async function createSecret(id: string, token: string, deps: RotationDeps): Promise<void> {
  const { client } = deps;
  if (await readValue(client, id, { VersionId: token, VersionStage: 'AWSPENDING' }, true)) return; // retried step
  const current = (await readValue(client, id, { VersionStage: 'AWSCURRENT' }))!;
  const kind = kindOf(current);
  const now = deps.now?.() ?? Date.now();
  let value: string;
  if (kind.kind === 'ca') {
    value = JSON.stringify(await rotateCa(kind.mesh, kind.current ? parseCaSecret(kind.current) : undefined, now));
  } else {
    // At first deploy the CA's own first rotation may still be running: wait for it a little, then
    // fail the step (Secrets Manager retries the rotation).
    let ca = parseCaSecret((await readValue(client, deps.caSecretId, { VersionStage: 'AWSCURRENT' }))!);
    for (let waited = 0; !ca && waited < (deps.caWaitMs ?? 20_000); waited += 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      ca = parseCaSecret((await readValue(client, deps.caSecretId, { VersionStage: 'AWSCURRENT' }))!);
    }
    if (!ca) throw new Error('the mesh CA secret holds no CA yet; rotate the CA secret first');
    const issued = await issueIdentity({
      mesh: kind.mesh,
      service: kind.service,
      ca,
      now,
      lifetimeMs: deps.leafLifetimeMs,
      caOverlapMs: deps.caOverlapMs,
    });
    value = JSON.stringify(issued);
  }
  await client.send(
    new PutSecretValueCommand({
      SecretId: id,
      ClientRequestToken: token,
      SecretString: value,
      VersionStages: ['AWSPENDING'],
    }),
  );
}

async function testSecret(id: string, token: string, deps: RotationDeps): Promise<void> {
  const text = (await readValue(deps.client, id, { VersionId: token, VersionStage: 'AWSPENDING' }))!;
  const kind = kindOf(text);
  if (kind.kind === 'ca') {
    const ca = parseCaSecret(text)!;
    const a = ca.authorities[0]!;
    const cert = new X509Certificate(a.certificate);
    if (!cert.ca || !cert.checkIssued(cert) || !cert.verify(cert.publicKey))
      throw new Error('pending CA certificate is not a self-signed CA');
    keyMatches(a.privateKey, cert);
    return;
  }
  const secret = parseIdentitySecret(text);
  const leaf = new X509Certificate(secret.certificate);
  const res = new TrustBundle(secret.trustBundle).checkCertificate(leaf);
  if (!res.ok || res.uri !== secret.spiffeId)
    throw new Error(`pending certificate fails its own trust bundle (${res.ok ? 'SAN' : res.reason})`);
  keyMatches(secret.privateKey, leaf);
}

function keyMatches(privatePem: string, cert: X509Certificate): void {
  const probe = Buffer.from('mesh rotation probe');
  const sig = sign('sha256', probe, createPrivateKey(privatePem));
  if (!verify('sha256', probe, createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })), sig)) {
    throw new Error('pending private key does not match its certificate');
  }
}

function kindOf(text: string): Kind {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch {
    throw new Error('secret value is not JSON; expected a mesh CA or identity secret');
  }
  if (o.kind === 'ca' && typeof o.mesh === 'string') return { kind: 'ca', mesh: o.mesh };
  if (Array.isArray(o.authorities)) {
    const subject = new X509Certificate(String((o.authorities[0] as { certificate?: string })?.certificate)).subject;
    const mesh = /CN=(.+) mesh CA/.exec(subject)?.[1] ?? 'mesh';
    return { kind: 'ca', mesh, current: text };
  }
  const m = typeof o.spiffeId === 'string' ? SPIFFE.exec(o.spiffeId) : null;
  if (m) return { kind: 'identity', mesh: m[1]!, service: m[2]! };
  throw new Error('secret value is neither a mesh CA secret nor an identity secret');
}

async function readValue(
  client: SecretsManagerClient,
  id: string,
  select: { VersionId?: string; VersionStage?: string },
  missingOk = false,
): Promise<string | undefined> {
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: id, ...select }));
    return out.SecretString;
  } catch (err) {
    if (missingOk && (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}
