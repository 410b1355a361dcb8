/** Holds its only environment (reserved concurrency 1) for 100 ms: a second concurrent call is throttled. */
export async function handler(): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 100));
  return { version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
}
