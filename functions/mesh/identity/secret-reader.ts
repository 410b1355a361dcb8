/**
 * GetSecretValue through the AWS SDK, required lazily (the Lambda runtime provides @aws-sdk/*; the client is built on
 * first need, not at init). The endpoint honours AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL explicitly
 * (not every SDK release honours AWS_ENDPOINT_URL_*: runtime code passes `endpoint` itself).
 */
import type { SecretReader } from './identity';

export function secretsManagerReader(secretId: string, env: NodeJS.ProcessEnv = process.env): SecretReader {
  let client: { send(cmd: unknown): Promise<{ SecretString?: string }> } | undefined;
  let Command: new (input: { SecretId: string }) => unknown;
  return async () => {
    if (!client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
      const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined;
      client = new sm.SecretsManagerClient({ endpoint, region: env.AWS_REGION || env.AWS_DEFAULT_REGION }) as never;
      Command = sm.GetSecretValueCommand as never;
    }
    const out = await client!.send(new Command({ SecretId: secretId }));
    if (typeof out.SecretString !== 'string') throw new Error(`identity secret ${secretId} has no SecretString`);
    return out.SecretString;
  };
}
