import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/**
 * How old the stream records the version bumper takes may get (its `IteratorAge`, maximum over a minute,
 * two minutes in a row) before the lag alarm fires: a change written by any writer but the CLI and the
 * seeder reaches the sandboxes that much later than TTL + 1 s.
 */
export const VERSION_BUMPER_MAX_LAG = Duration.seconds(30);

/**
 * The version bumper's alarms (docs/safety.md, "A deny wins within TTL + 1 s"): `failed` on any error
 * in 5 minutes (Lambda retries the batch until it goes through; until then the changes it holds are not
 * seen), `lag` when the records it takes are older than VERSION_BUMPER_MAX_LAG (the stream's delay,
 * which a deny written by such a writer waits on).
 */
export function newVersionBumperAlarms(
  scope: Construct,
  bumper: lambda.IFunction,
  meshName: string,
): { failed: cloudwatch.Alarm; lag: cloudwatch.Alarm } {
  const failed = new cloudwatch.Alarm(scope, 'PolicyVersionBumperFailed', {
    alarmDescription: `The ${meshName} mesh's policy version bumper failed: changes written outside the CLI and the deploy are not seen by the sandboxes until a retry of the batch goes through. See the function's log.`,
    metric: bumper.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const lag = new cloudwatch.Alarm(scope, 'PolicyVersionBumperLag', {
    alarmDescription: `The ${meshName} mesh's policy version bumper is more than ${VERSION_BUMPER_MAX_LAG.toSeconds()} s behind the policy table's stream: a deny written outside the CLI and the deploy reaches the sandboxes that much later than TTL + 1 s.`,
    metric: bumper.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: VERSION_BUMPER_MAX_LAG.toMilliseconds(),
    evaluationPeriods: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return { failed, lag };
}
