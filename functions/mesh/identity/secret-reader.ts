/**
 * GetSecretValue for the identity secret: on the wire (one signed HTTPS POST, awsJson1_1,
 * `X-Amz-Target: secretsmanager.GetSecretValue`, aws/aws-json-call.ts), or through
 * @aws-sdk/client-secrets-manager where the wire path does not go (aws/aws-endpoint.ts). The first
 * call that needs an identity reads it; requiring the SDK client there would add tens of ms to it.
 */
import { awsJsonCall, SECRETS_MANAGER, wireOrSdk } from '../aws';
import type { SecretReader } from './identity';

export function secretsManagerReader(secretId: string, env: NodeJS.ProcessEnv = process.env): SecretReader {
  let read: (() => Promise<{ SecretString?: string }>) | undefined;
  return async () => {
    read ??= getSecretValue(secretId, env);
    const out = await read();
    if (typeof out.SecretString !== 'string') throw new Error(`identity secret ${secretId} has no SecretString`);
    return out.SecretString;
  };
}

function getSecretValue(secretId: string, env: NodeJS.ProcessEnv): () => Promise<{ SecretString?: string }> {
  return wireOrSdk(SECRETS_MANAGER, env, {
    purpose: 'read the identity secret',
    wire: (client) => () =>
      awsJsonCall(client, 'secretsmanager.GetSecretValue', { SecretId: secretId }, { version: '1.1' }),
    sdk: (config) => {
      const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
      const client = new sm.SecretsManagerClient(config);
      return () => client.send(new sm.GetSecretValueCommand({ SecretId: secretId }));
    },
  });
}
