/**
 * What the constructs know of a channel (an SQS queue, SNS topic or EventBridge bus): its kind, its
 * ARN (and queue URL), and its mesh name, the partition of its `allow#<sender>` items and the audience of
 * its messages' tokens. The name comes from the resource's construct id (`OrderEvents` -> `order-events`)
 * unless given, and is fixed by the first declaration that names the resource, so a sender and its
 * consumers always agree on it.
 */
import { Annotations, Token } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { CHANNEL_KIND, type ChannelTarget } from '../../shared/channel';
import { SERVICE_NAME_PATTERN } from '../../shared/names';

export type ChannelResource = sqs.IQueue | sns.ITopic | events.IEventBus;

export function isQueue(r: unknown): r is sqs.IQueue {
  return typeof (r as sqs.IQueue)?.queueUrl === 'string' && typeof (r as sqs.IQueue).grantSendMessages === 'function';
}
export function isTopic(r: unknown): r is sns.ITopic {
  return typeof (r as sns.ITopic)?.topicArn === 'string' && typeof (r as sns.ITopic).grantPublish === 'function';
}
export function isBus(r: unknown): r is events.IEventBus {
  return (
    typeof (r as events.IEventBus)?.eventBusArn === 'string' &&
    typeof (r as events.IEventBus).grantPutEventsTo === 'function'
  );
}

/**
 * Warns at synth when a queue a function consumes has no dead-letter queue. A record the consumer
 * refuses (a denied sender, a forged message) is named in the partial batch response and stays in the
 * queue: without a redrive policy it comes back after every visibility timeout, refused each time,
 * until the queue's retention period ends. A queue imported by ARN may have one the app cannot see: no
 * warning there.
 */
export function warnOfNoDeadLetterQueue(consumer: IConstruct, queue: sqs.IQueue): void {
  if (!(queue instanceof sqs.Queue) || queue.deadLetterQueue) return;
  Annotations.of(consumer).addWarningV2(
    'lambda-mesh:queueWithoutDeadLetterQueue',
    `${queue.node.path} has no dead-letter queue: a record this function refuses (a denied sender, a forged message) or fails comes back after every visibility timeout until the queue's retention period ends. ` +
      'Give the queue deadLetterQueue: { queue, maxReceiveCount }',
  );
}

/** The channel as MESH_CHANNELS names it. */
export function channelTarget(r: ChannelResource): ChannelTarget {
  if (isQueue(r)) return { kind: CHANNEL_KIND.sqs, arn: r.queueArn, url: r.queueUrl };
  if (isTopic(r)) return { kind: CHANNEL_KIND.sns, arn: r.topicArn };
  return { kind: CHANNEL_KIND.events, arn: (r as events.IEventBus).eventBusArn };
}

const names = new WeakMap<IConstruct, string>();

/**
 * The channel's mesh name: the one fixed before, else `wanted`, else the kebab-case construct id.
 * Returns an error message instead when the name is not a valid mesh name or differs from the fixed one.
 * The name is fixed by `fixChannelName` once the caller accepted it.
 */
export function channelName(r: ChannelResource, wanted: string | undefined): string | { error: string } {
  const fixed = names.get(r);
  const name = wanted ?? fixed ?? kebab(r.node.id);
  if (Token.isUnresolved(name) || !SERVICE_NAME_PATTERN.test(name)) {
    return {
      error: `channel name ${JSON.stringify(name)} of ${r.node.path} is not a mesh name; pass { channel: 'order-events' } (lower-case letters, digits and dashes, starting with a letter, at most 40 characters)`,
    };
  }
  if (fixed !== undefined && fixed !== name) {
    return {
      error: `${r.node.path} is already the channel "${fixed}"; name it the same everywhere (or leave the name out after the first declaration)`,
    };
  }
  return name;
}

export function fixChannelName(r: ChannelResource, name: string): void {
  names.set(r, name);
}

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase()
    .replace(/^-+|-+$/g, '');
}
