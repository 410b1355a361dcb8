/**
 * How the local SNS hands a notification to a subscribed function: as SNS does, an asynchronous invoke
 * (Lambda's retries and destinations apply), allowed only when the function's resource policy lets
 * `sns.amazonaws.com` invoke it from this topic (`AWS:SourceArn`; "Using AWS Lambda with Amazon SNS").
 * A delivery the policy refuses, or that Lambda refuses, is dropped as SNS drops it, and logged once
 * per subscription and reason, naming the missing grant.
 */
import { evaluatePolicies } from '../endpoint/iam-evaluation';
import { statementsForService } from '../endpoint/iam-principal';
import type { LambdaSubscription } from './topic-store';

export interface DeliveryDeps {
  /** The statements of the policy Lambda keeps for the function, version or alias an ARN names. */
  readonly functionPolicy: (functionArn: string) => readonly unknown[];
  /** An Event invoke of a function ARN (qualified or not) with the event as payload. */
  readonly invokeAsync: (functionArn: string, payload: Buffer) => Promise<void>;
  readonly log: (line: string) => void;
}

export function lambdaDelivery(deps: DeliveryDeps): (s: LambdaSubscription, event: object) => void {
  const told = new Set<string>();
  const tellOnce = (line: string) => {
    if (told.has(line)) return;
    told.add(line);
    deps.log(line);
  };
  return (s, event) => {
    const refused = snsMayNotInvoke(deps.functionPolicy(s.endpoint), s);
    if (refused) return tellOnce(refused);
    deps.invokeAsync(s.endpoint, Buffer.from(JSON.stringify(event))).catch((err: Error) => {
      tellOnce(`SNS could not deliver ${s.topicArn} to ${s.endpoint}: ${err.name}: ${err.message}`);
    });
  };
}

/** Why SNS may not invoke the subscription's function (undefined: it may), with the grant that would allow it. */
export function snsMayNotInvoke(policy: readonly unknown[], s: LambdaSubscription): string | undefined {
  const account = s.topicArn.split(':')[4] ?? '';
  const decision = evaluatePolicies([statementsForService([{ Statement: policy }], 'sns.amazonaws.com')], {
    action: 'lambda:InvokeFunction',
    resource: s.endpoint,
    context: { 'aws:sourcearn': [s.topicArn], 'aws:sourceaccount': [account] },
  });
  if (decision.effect === 'allow' || decision.effect === 'undecided') return undefined;
  return (
    `SNS did not deliver ${s.topicArn} to ${s.endpoint}: the function's resource policy does not let ` +
    `sns.amazonaws.com invoke it from this topic; grant it (an AWS::Lambda::Permission with Principal ` +
    `sns.amazonaws.com and SourceArn ${s.topicArn}, what CDK's LambdaSubscription adds)`
  );
}
