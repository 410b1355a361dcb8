/** Release 2 of this service throws on every call (FAIL=1): the canary the breaker must eject. */
export async function handler(): Promise<unknown> {
  if (process.env.FAIL === '1') throw new Error(`flaky version ${process.env.AWS_LAMBDA_FUNCTION_VERSION} fails`);
  return { version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
}
