/**
 * The templates' SNS resources on the local SNS: AWS::SNS::Topic (standard or FIFO), AWS::SNS::Subscription
 * with Protocol `lambda` (its Endpoint the function, version or alias SNS invokes, its FilterPolicy and
 * FilterPolicyScope), and AWS::SNS::TopicPolicy, kept for the endpoint's IAM evaluation of sns:Publish.
 * A subscription of another protocol (SQS, HTTP, email) is not run locally, and a warning says so.
 */
import type { ResourcePolicies } from '../endpoint/iam-resource-policies';
import { type FilterScope, messageFilter } from '../sns/filter-policy';
import type { TopicStore } from '../sns/topic-store';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import type { Resolver } from './intrinsics';

export interface TopicContext {
  readonly resolver: Resolver;
  readonly topics: TopicStore;
  readonly policies: ResourcePolicies | undefined;
  /** A policy document with its intrinsics resolved. */
  readonly document: (stack: AssemblyStack, document: unknown) => unknown;
  readonly warn: (warning: string) => void;
}

const source = (stack: AssemblyStack, id: string) => `${stack.stackName}/${id}`;

/** A topic with its type and deduplication; returns its name. */
export function applyTopic(ctx: TopicContext, stack: AssemblyStack, id: string, r: TemplateResource): string {
  const p = r.Properties ?? {};
  const name = ctx.resolver.physicalName(stack, id);
  const flag = (v: unknown) => v !== undefined && String(ctx.resolver.resolve(stack, v)) === 'true';
  const fifo = flag(p.FifoTopic);
  if (fifo !== name.endsWith('.fifo'))
    throw new Error(
      `topic ${source(stack, id)}: a FIFO topic's name ends in .fifo and only a FIFO topic's does (TopicName ${name}, FifoTopic ${fifo})`,
    );
  ctx.topics.put(
    name,
    {
      fifo,
      contentBasedDeduplication: flag(p.ContentBasedDeduplication),
      displayName: p.DisplayName === undefined ? undefined : ctx.resolver.resolveString(stack, p.DisplayName),
    },
    ctx.resolver.arn(stack, 'sns', name),
  );
  return name;
}

/** A Lambda subscription, with its filter policy; another protocol is left out with a warning. */
export function applySubscription(ctx: TopicContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const text = (v: unknown) => (v === undefined ? undefined : ctx.resolver.resolveString(stack, v));
  const protocol = text(p.Protocol);
  const topicArn = text(p.TopicArn);
  const endpoint = text(p.Endpoint);
  // A subscription that delivers nothing here drops what an earlier deploy of it subscribed.
  const skip = (why: string) => {
    ctx.topics.unsubscribe(source(stack, id));
    ctx.warn(`${source(stack, id)}: ${why}`);
  };
  if (protocol !== 'lambda' || !topicArn || !endpoint) {
    skip(
      'the local mesh delivers SNS to Lambda subscriptions only ' +
        `(got protocol ${protocol ?? 'unresolved'} to ${endpoint ?? 'an unresolved endpoint'})`,
    );
  } else if (!ctx.topics.byArn(topicArn)) {
    skip(`the topic ${topicArn} is not deployed here, so nothing is delivered to ${endpoint}`);
  } else {
    const filter = filterOf(ctx, stack, id, p);
    ctx.topics.subscribe({ key: source(stack, id), topicArn, endpoint, ...(filter ? { filter } : {}) });
  }
}

/** The subscription's FilterPolicy over its FilterPolicyScope; a policy the local mesh cannot run fails the deploy. */
function filterOf(ctx: TopicContext, stack: AssemblyStack, id: string, p: Record<string, unknown>) {
  const policy = ctx.resolver.resolve(stack, p.FilterPolicy);
  if (policy === undefined) return undefined;
  const scope = (ctx.resolver.resolveString(stack, p.FilterPolicyScope) ?? 'MessageAttributes') as FilterScope;
  try {
    return { scope, matches: messageFilter(policy, scope) };
  } catch (err) {
    throw new Error(`subscription ${source(stack, id)}: ${(err as Error).message}`);
  }
}

/** A topic policy, on each topic it names. */
export function applyTopicPolicy(ctx: TopicContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  const p = r.Properties ?? {};
  const arns = ((p.Topics as unknown[] | undefined) ?? []).flatMap((t) => {
    const arn = ctx.resolver.resolveString(stack, t);
    return arn ? [arn] : [];
  });
  ctx.policies?.put(source(stack, id), arns, ctx.document(stack, p.PolicyDocument));
}
