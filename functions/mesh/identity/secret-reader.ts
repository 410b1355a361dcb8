/**
 * GetSecretValue for the identity secret: on the wire (one signed HTTPS POST, awsJson1_1,
 * `X-Amz-Target: secretsmanager.GetSecretValue`, aws/aws-json-call.ts), or through
 * @aws-sdk/client-secrets-manager where the wire path does not go (aws/aws-endpoint.ts). The first
 * call that needs an identity reads it; requiring the SDK client there would add tens of ms to it.
 */
import { AwsWireClient, awsJsonCall, awsRoute, configuredEndpoint, regionOf, SECRETS_MANAGER } from '../aws';
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
  const route = awsRoute(SECRETS_MANAGER, env);
  if (route.wire) {
    const client = new AwsWireClient({
      url: route.url,
      region: route.region,
      service: SECRETS_MANAGER.name,
      env,
      purpose: 'read the identity secret',
    });
    return () => awsJsonCall(client, 'secretsmanager.GetSecretValue', { SecretId: secretId }, { version: '1.1' });
  }
  const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  // Passed explicitly: not every SDK release reads AWS_ENDPOINT_URL_*.
  const client = new sm.SecretsManagerClient({
    endpoint: configuredEndpoint(SECRETS_MANAGER, env),
    region: regionOf(env),
  });
  return () => client.send(new sm.GetSecretValueCommand({ SecretId: secretId }));
}
