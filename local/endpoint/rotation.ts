/**
 * Secrets Manager rotation, locally: RotateSecret opens the new version (AWSPENDING placeholder) and
 * answers; the rotation runs afterwards, when the store's rotation scheduler says (AWS: asynchronously).
 * The rotation function is invoked once per step with
 * `{"Step", "SecretId": <arn>, "ClientRequestToken": <new VersionId>}` (AWS Secrets Manager User Guide,
 * "Rotation by Lambda function"), through the same invoker as any Invoke. A failed step stops the
 * rotation and leaves the labels as they are, as AWS does: AWSPENDING stays on the version, and the
 * next RotateSecret is refused and retries it.
 * A `testOnly` job is the check RotateSecret with RotateImmediately=false runs: testSecret alone, then
 * its AWSPENDING version goes again.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from './errors';
import { parseFunctionName } from './function-name';
import type { LambdaContext } from './lambda-context';
import type { SecretStore } from './secret-store';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export interface RotationJob {
  readonly secretArn: string;
  readonly rotationLambdaArn: string;
  readonly token: string;
  /** Only testSecret (RotateImmediately=false), then the version it ran on goes. */
  readonly testOnly?: boolean;
}

/**
 * Schedules the rotation on the store's scheduler; resolves true when all its steps succeeded, false
 * when one failed or the endpoint closed (failures go to onBackgroundError).
 */
export function runRotation(ctx: LambdaContext, store: SecretStore, job: RotationJob): Promise<boolean> {
  return new Promise((resolve) => {
    store.scheduleRotation(async () => {
      const ok = await runSteps(ctx, job);
      try {
        if (job.testOnly) store.endRotationTest(job.secretArn, job.token);
        else if (ok) store.markRotated(job.secretArn, job.token);
      } catch {
        // The secret was deleted while its rotation ran: nothing left to mark.
      }
      resolve(ok);
    });
  });
}

async function runSteps(ctx: LambdaContext, job: RotationJob): Promise<boolean> {
  const ref = parseFunctionName(job.rotationLambdaArn, undefined, 'Invoke', ctx);
  for (const step of job.testOnly ? (['testSecret'] as const) : ROTATION_STEPS) {
    if (ctx.isClosed()) return false;
    const version = ctx.registry.resolveVersion(ref.name, ref.qualifier);
    if (version === undefined) {
      ctx.onBackgroundError(
        `rotation of ${job.secretArn} stopped at ${step}: rotation function ${job.rotationLambdaArn} not found`,
      );
      return false;
    }
    const payload = Buffer.from(JSON.stringify({ Step: step, SecretId: job.secretArn, ClientRequestToken: job.token }));
    try {
      const out = await ctx.invoker.invoke({
        functionName: ref.name,
        region: ctx.region,
        version,
        invokedFunctionArn: job.rotationLambdaArn,
        payload,
        invocationType: 'RequestResponse',
        logTail: false,
        requestId: randomUUID(),
      });
      if (out.functionError) {
        ctx.onBackgroundError(
          `rotation of ${job.secretArn} failed at ${step} (${out.functionError}): ${Buffer.from(
            out.payload as Uint8Array,
          )
            .toString('utf8')
            .slice(0, 500)}`,
        );
        return false;
      }
    } catch (err) {
      ctx.onBackgroundError(`rotation of ${job.secretArn} failed at ${step}: ${(err as Error)?.message ?? err}`);
      return false;
    }
  }
  return true;
}

/**
 * Checks the rotation function exists before RotateSecret answers (AWS validates the ARN up front). A
 * function that is not there is refused in Secrets Manager's words, which name neither the function nor
 * why: AWS cannot tell a missing function from one whose policy keeps it out, and says the same here.
 */
export function checkRotationFunction(ctx: LambdaContext, rotationLambdaArn: string): void {
  let name: string;
  let qualifier: string | undefined;
  try {
    ({ name, qualifier } = parseFunctionName(rotationLambdaArn, undefined, 'Invoke', ctx));
  } catch {
    throw new AwsError(
      'InvalidParameterException',
      400,
      `RotationLambdaARN ${JSON.stringify(rotationLambdaArn)} is not a Lambda function ARN.`,
    );
  }
  if (ctx.registry.resolveVersion(name, qualifier) === undefined) {
    throw new AwsError(
      'AccessDeniedException',
      400,
      'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
    );
  }
}
