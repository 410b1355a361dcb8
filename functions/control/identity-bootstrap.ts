/**
 * Issuance at deploy: the handler of `Custom::MeshCertificateAuthority` and `Custom::MeshIdentity`,
 * run through the CDK Provider framework, so CloudFormation waits for it. The CA resource comes first,
 * each identity resource depends on it, and each function's version and `live` alias depend on their
 * identity's resource: no function takes traffic before its identity exists. Scheduled rotation takes
 * over afterwards.
 *
 * Idempotent: a secret whose current value still serves (issued-value-check.ts) is kept, so a repeated
 * or updated resource issues nothing new. Delete does nothing: CloudFormation deletes the secret itself,
 * without a recovery window (the secrets' DeletionPolicy is Delete), so a later deploy can reuse the name.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IDENTITY, spiffeId } from '../../shared/names';
import { issueIdentity, rotateCa } from './ca-issuer';
import { caProblem, identityProblem } from './issued-value-check';
import { IssuerRefusedError, secretKind } from './issuer-scope';
import { CURRENT, describeSecret, type IssuerDeps, putValue, readCa, readValue } from './issuer-secrets';

/** The part of a CloudFormation custom-resource event (as the Provider framework passes it) used here. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: string;
  readonly RequestId?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  /** Visible in CloudFormation: never anything secret. */
  readonly Data: { readonly Issued: 'true' | 'false'; readonly SpiffeId?: string };
}

export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  const e = event as Partial<CustomResourceEvent> | null;
  return typeof e?.RequestType === 'string' && typeof e.ResourceType === 'string';
}

export async function bootstrapIdentity(event: CustomResourceEvent, deps: IssuerDeps): Promise<CustomResourceResult> {
  const secretId = event.ResourceProperties.SecretId;
  if (typeof secretId !== 'string' || secretId === '') {
    throw new Error(
      `${event.ResourceType}: property SecretId (the secret's ARN) is required; the Mesh construct sets it`,
    );
  }
  if (event.RequestType === 'Delete')
    return { PhysicalResourceId: event.PhysicalResourceId ?? secretId, Data: { Issued: 'false' } };

  const meta = await describeSecret(deps.client, secretId);
  const kind = secretKind(deps.scope, { arn: meta.ARN, name: meta.Name });
  const name = meta.Name ?? secretId;
  const expected = kind.kind === 'ca' ? IDENTITY.resourceType.ca : IDENTITY.resourceType.identity;
  const service = event.ResourceProperties.Service;
  if (event.ResourceType !== expected || (kind.kind === 'identity' && service !== kind.service)) {
    throw new IssuerRefusedError(
      `${event.ResourceType} (Service ${JSON.stringify(service)}) does not match secret ${name}; only the Mesh construct declares these resources`,
    );
  }
  const now = deps.now?.() ?? Date.now();
  const current = await readValue(deps.client, secretId, { VersionStage: CURRENT }, true);
  const physical = meta.ARN ?? secretId;

  if (kind.kind === 'ca') {
    const problem = caProblem(current, now);
    if (problem === undefined) return kept(physical, name);
    await putOnce(deps, secretId, event, JSON.stringify(await rotateCa(deps.scope.mesh, undefined, now)), async () =>
      caProblem(await readValue(deps.client, secretId, { VersionStage: CURRENT }, true), now),
    );
    log('issued', name, problem);
    return { PhysicalResourceId: physical, Data: { Issued: 'true' } };
  }

  const id = spiffeId(deps.scope.mesh, kind.service);
  const want = { spiffeId: id, ca: await readCa(deps), now };
  const problem = identityProblem(current, want);
  if (problem === undefined) return kept(physical, name, id);
  const issued = await issueIdentity({
    mesh: deps.scope.mesh,
    service: kind.service,
    ca: want.ca,
    now,
    lifetimeMs: deps.leafLifetimeMs,
    caOverlapMs: deps.caOverlapMs,
  });
  await putOnce(deps, secretId, event, JSON.stringify(issued), async () =>
    identityProblem(await readValue(deps.client, secretId, { VersionStage: CURRENT }, true), want),
  );
  log('issued', name, problem);
  return { PhysicalResourceId: physical, Data: { Issued: 'true', SpiffeId: id } };
}

function kept(physical: string, name: string, id?: string): CustomResourceResult {
  log('kept', name);
  return { PhysicalResourceId: physical, Data: { Issued: 'false', ...(id ? { SpiffeId: id } : {}) } };
}

/**
 * PutSecretValue under a token made from the request, so a retried request cannot add a second
 * version; if the retry raced one that already wrote (same token, other value), what it wrote stands.
 */
async function putOnce(
  deps: IssuerDeps,
  secretId: string,
  event: CustomResourceEvent,
  value: string,
  stillBad: () => Promise<string | undefined>,
): Promise<void> {
  try {
    await putValue(deps.client, secretId, requestToken(event.RequestId, secretId), value);
  } catch (err) {
    if ((err as Error).name !== 'ResourceExistsException' || (await stillBad()) !== undefined) throw err;
  }
}

/** A UUID-shaped ClientRequestToken derived from the request and the secret. */
export function requestToken(requestId: string | undefined, secretId: string): string {
  if (!requestId) return randomUUID();
  const h = createHash('sha256').update(`${requestId}\0${secretId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function log(what: 'issued' | 'kept', secret: string, reason?: string): void {
  console.log(
    JSON.stringify({ level: 'INFO', msg: `mesh identity ${what} at deploy`, secret, ...(reason ? { reason } : {}) }),
  );
}
