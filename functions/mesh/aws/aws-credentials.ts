/**
 * The function's credentials as Lambda hands them over: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN in the environment (AWS Lambda Developer Guide, "Defined runtime environment
 * variables"). Read per request, never kept: the environment is their one source.
 */
import type { AwsCredentials } from './sigv4';

/**
 * The credentials in `env`, else in the process's environment (a runtime given a partial environment
 * still signs with the function's own). Throws a `CredentialsProviderError`, the AWS SDK's name for it,
 * before anything is sent.
 */
export function envCredentials(env: Readonly<Record<string, string | undefined>>, purpose: string): AwsCredentials {
  const from = env.AWS_ACCESS_KEY_ID ? env : process.env;
  const accessKeyId = from.AWS_ACCESS_KEY_ID;
  const secretAccessKey = from.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(
      new Error(
        `no AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) to ${purpose}; ` +
          'Lambda sets them for the function role',
      ),
      { name: 'CredentialsProviderError' },
    );
  }
  return { accessKeyId, secretAccessKey, sessionToken: from.AWS_SESSION_TOKEN || undefined };
}
