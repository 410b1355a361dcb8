import { Annotations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Warns at synth when a trigger names the mesh function itself rather than its `live` alias: API
 * Gateway's `handler: fn`, an S3 notification or an SNS subscription of `fn` (a resource-based
 * permission), or `fn.addEventSource(...)` (an event source mapping). It then invokes the unqualified
 * ARN, which runs `$LATEST`. That skips the alias, so a canary's split and a gated deployment's alarms
 * never see those callers, and `$LATEST` holds a deploy's code before CodeDeploy has checked it. A
 * warning, not a refusal: an app moving its triggers over may mean it.
 */
export function warnOfUnqualifiedInvoke(fn: lambda.IFunction, service: string, who: string): void {
  Annotations.of(fn).addWarningV2(
    'lambda-mesh:unqualifiedInvoke',
    `${who} may invoke the function itself, which runs $LATEST: its calls skip the live alias, its canary and a gated deployment's alarms. ` +
      `Wire the trigger to ${service}'s alias instead (new LambdaRestApi(this, 'Api', { handler: fn.liveAlias }), ` +
      'fn.liveAlias.addFunctionUrl(...), new LambdaSubscription(fn.liveAlias), fn.liveAlias.addEventSource(new SqsEventSource(queue))), ' +
      "or acknowledge it: Annotations.of(fn).acknowledgeWarning('lambda-mesh:unqualifiedInvoke', reason)",
  );
}

/** Who a permission lets invoke: a service principal's name, else the principal as CDK prints it. */
export function principalName(principal: iam.IPrincipal): string {
  return (principal as { service?: string }).service ?? principal.toString();
}
