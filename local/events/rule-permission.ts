/**
 * Whether a function's resource-based policy lets EventBridge invoke it for a rule, as Lambda judges
 * the invoke EventBridge makes: an Allow of lambda:InvokeFunction to the service principal
 * events.amazonaws.com (or `*`), whose conditions hold for the rule's ARN as `aws:SourceArn` and the
 * account as `aws:SourceAccount` ("Using resource-based policies for Amazon EventBridge", EventBridge
 * User Guide). aws-cdk-lib's LambdaFunction target writes exactly such a permission. Pure.
 */
import { evaluatePolicies } from '../endpoint/iam-evaluation';

const EVENTS_PRINCIPAL = 'events.amazonaws.com';

interface Statement {
  readonly Principal?: unknown;
}

/** Why the invoke is refused (naming the fix), or undefined when the policy allows it. */
export function ruleInvokeRefusal(
  statements: readonly Statement[],
  invoke: { readonly functionArn: string; readonly ruleArn: string; readonly accountId: string },
): string | undefined {
  const forEvents = statements.filter((s) => namesEvents(s.Principal));
  const decision = evaluatePolicies([{ Statement: forEvents }], {
    action: 'lambda:InvokeFunction',
    resource: invoke.functionArn,
    context: { 'aws:sourcearn': [invoke.ruleArn], 'aws:sourceaccount': [invoke.accountId] },
  });
  if (decision.effect === 'allow' || decision.effect === 'undecided') return undefined;
  return (
    `the resource-based policy of ${invoke.functionArn} does not let ${EVENTS_PRINCIPAL} invoke it for ${invoke.ruleArn}; ` +
    'give the rule the function as a target in CDK (targets.LambdaFunction adds the permission)'
  );
}

function namesEvents(principal: unknown): boolean {
  if (principal === '*') return true;
  const service = (principal as { Service?: unknown } | null)?.Service;
  return (Array.isArray(service) ? service : [service]).includes(EVENTS_PRINCIPAL);
}
