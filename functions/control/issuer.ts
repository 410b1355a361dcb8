/**
 * The mesh issuer function: one Lambda for the CA secret and every identity secret, invoked two ways:
 * - by the CDK Provider framework at deploy, with a custom-resource event (identity-bootstrap.ts);
 * - by Secrets Manager, one rotation step at a time (rotation.ts).
 * Both refuse any secret the deployment did not declare (issuer-scope.ts). A failure is logged as one
 * JSON line naming the secret and the step (never a value) and rethrown: the invocation counts in the
 * function's Errors metric, which the mesh's rotation alarm watches.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IDENTITY } from '../../shared/names';
import { bootstrapIdentity, isCustomResourceEvent } from './identity-bootstrap';
import { scopeFromEnv } from './issuer-scope';
import type { IssuerDeps } from './issuer-secrets';
import { type RotationEvent, rotationStep } from './rotation';

let deps: IssuerDeps | undefined;

function depsFromEnv(): IssuerDeps {
  const env = process.env;
  const hours = Number(env[IDENTITY.env.leafLifetimeHours] ?? 24);
  return {
    client: new SecretsManagerClient({
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined,
    }),
    scope: scopeFromEnv(env),
    leafLifetimeMs: hours * 3_600_000,
  };
}

export async function handler(event: unknown): Promise<unknown> {
  deps ??= depsFromEnv();
  const custom = isCustomResourceEvent(event);
  try {
    if (custom) return await bootstrapIdentity(event, deps);
    await rotationStep(event as RotationEvent, deps);
    return undefined;
  } catch (err) {
    const e = event as {
      RequestType?: string;
      ResourceProperties?: { SecretId?: unknown };
      SecretId?: unknown;
      Step?: unknown;
    };
    console.error(
      JSON.stringify({
        level: 'ERROR',
        msg: custom ? 'mesh identity issuance at deploy failed' : 'mesh identity rotation failed',
        secret: String((custom ? e.ResourceProperties?.SecretId : e.SecretId) ?? ''),
        step: String((custom ? e.RequestType : e.Step) ?? ''),
        error: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
      }),
    );
    throw err;
  }
}
