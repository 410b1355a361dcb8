/**
 * The issuer's I/O edge: the Secrets Manager calls the rotation steps and the deploy-time bootstrap
 * make, through the AWS SDK. Errors name the secret and the step, never a value.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretResponse,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type CaSecret, parseCaSecret } from './ca-issuer';
import type { IssuerScope } from './issuer-scope';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';

/** What the issuer's handlers share. */
export interface IssuerDeps {
  readonly client: SecretsManagerClient;
  readonly scope: IssuerScope;
  /** Service certificate lifetime. @default 24 h */
  readonly leafLifetimeMs?: number;
  /** See IssueOptions.caOverlapMs. */
  readonly caOverlapMs?: number;
  readonly now?: () => number;
}

export function describeSecret(client: SecretsManagerClient, id: string): Promise<DescribeSecretResponse> {
  return client.send(new DescribeSecretCommand({ SecretId: id }));
}

/** A version's value; undefined for a version without one (a rotation's empty AWSPENDING) when `missingOk`. */
export async function readValue(
  client: SecretsManagerClient,
  id: string,
  select: { VersionId?: string; VersionStage?: string },
  missingOk = false,
): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: id, ...select }))).SecretString;
  } catch (err) {
    if (missingOk && (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** The mesh CA as it stands; an error that says what to do when it holds none. */
export async function readCa(deps: IssuerDeps): Promise<CaSecret> {
  const text = await readValue(deps.client, deps.scope.caSecret, { VersionStage: CURRENT }, true);
  const ca = text === undefined ? undefined : parseCaSecret(text);
  if (!ca) {
    throw new Error(
      `the mesh CA secret of ${deps.scope.mesh} holds no CA yet: deploy the stack (its CA resource issues it) before identities`,
    );
  }
  return ca;
}

/** PutSecretValue under `token`; `stages` default AWSCURRENT (the previous current becomes AWSPREVIOUS). */
export async function putValue(
  client: SecretsManagerClient,
  id: string,
  token: string,
  value: string,
  stages: string[] = [CURRENT],
): Promise<void> {
  await client.send(
    new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: value, VersionStages: stages }),
  );
}

/**
 * Takes AWSPENDING off `token`'s version: a stale or failed pending value must not block the next
 * rotation (Secrets Manager refuses RotateSecret while AWSPENDING sits on a version that is not current).
 */
export async function dropPending(client: SecretsManagerClient, id: string, token: string): Promise<void> {
  await client.send(
    new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: PENDING, RemoveFromVersionId: token }),
  );
}

/** Moves AWSCURRENT to `token` (finishSecret). */
export async function promote(
  client: SecretsManagerClient,
  id: string,
  token: string,
  current?: string,
): Promise<void> {
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: id,
      VersionStage: CURRENT,
      MoveToVersionId: token,
      RemoveFromVersionId: current,
    }),
  );
}
