/**
 * AWS SDK client settings for a server on this machine (the local endpoint, the local mesh, dynalite,
 * the loopback test servers): its endpoint, fixed test credentials, and no SDK retries, so that each
 * answer reaches the test as the server gave it instead of hidden behind the SDK's own retry.
 */
export function loopbackClientConfig(url: string, region = 'us-east-1') {
  return {
    endpoint: url,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}
