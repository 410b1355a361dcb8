/**
 * The local mesh's SNS topics and their Lambda subscriptions (from the templates, or CreateTopic). A
 * Publish fans the message out: each subscription whose filter policy lets it through gets the
 * notification Lambda's SNS event carries, handed to `deliver` (an asynchronous invoke, as SNS invokes
 * Lambda: "Using AWS Lambda with Amazon SNS", AWS Lambda Developer Guide).
 */
import { randomUUID } from 'node:crypto';
import type { FilterScope, MessageFilter } from './filter-policy';
import { type PublishedMessage, snsEvent } from './sns-event';

export interface TopicSettings {
  readonly fifo?: boolean;
  readonly contentBasedDeduplication?: boolean;
  readonly displayName?: string;
}

export interface Topic extends TopicSettings {
  readonly name: string;
  readonly arn: string;
}

/** A Lambda subscription: `endpoint` is the function, version or alias ARN SNS invokes. */
export interface LambdaSubscription {
  /** `<stack>/<logicalId>`: a redeploy replaces the subscription of the same key. */
  readonly key: string;
  readonly arn: string;
  readonly topicArn: string;
  readonly endpoint: string;
  /** Which part of a message the filter policy reads; none: every message is delivered. */
  readonly filter?: { readonly scope: FilterScope; readonly matches: MessageFilter };
}

export interface TopicStoreDeps {
  readonly region: string;
  readonly accountId: string;
  /** Hands one notification to a subscribed function; a failure is the deliverer's to report. */
  readonly deliver: (subscription: LambdaSubscription, event: object) => void;
}

export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, LambdaSubscription>();

  constructor(private readonly deps: TopicStoreDeps) {}

  arnOf(name: string): string {
    return `arn:aws:sns:${this.deps.region}:${this.deps.accountId}:${name}`;
  }

  /** Creates the topic, or updates its settings (a redeploy); a template's topic names its stack's region. */
  put(name: string, settings: TopicSettings = {}, arn = this.arnOf(name)): Topic {
    const topic = { ...settings, name, arn };
    this.topics.set(topic.arn, topic);
    return topic;
  }

  /** Deletes the topic; its subscriptions go with it. */
  remove(arn: string): void {
    this.topics.delete(arn);
    for (const [key, s] of this.subscriptions) if (s.topicArn === arn) this.subscriptions.delete(key);
  }

  byArn(arn: string): Topic | undefined {
    return this.topics.get(arn);
  }

  list(): Topic[] {
    return [...this.topics.values()];
  }

  /** A subscription of the templates: the one of the same key is replaced. */
  subscribe(s: Omit<LambdaSubscription, 'arn'>): LambdaSubscription {
    const before = this.subscriptions.get(s.key);
    const made = { ...s, arn: before?.topicArn === s.topicArn ? before.arn : `${s.topicArn}:${randomUUID()}` };
    this.subscriptions.set(s.key, made);
    return made;
  }

  unsubscribe(key: string): void {
    this.subscriptions.delete(key);
  }

  subscriptionsOf(topicArn: string): LambdaSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.topicArn === topicArn);
  }

  /** Hands the message to every subscription whose filter policy matches it; returns its MessageId. */
  publish(topic: Topic, message: Omit<PublishedMessage, 'messageId' | 'timestamp' | 'topicArn'>): string {
    const published: PublishedMessage = {
      ...message,
      messageId: randomUUID(),
      timestamp: new Date().toISOString(),
      topicArn: topic.arn,
    };
    for (const s of this.subscriptionsOf(topic.arn)) {
      if (s.filter && !s.filter.matches(published)) continue;
      this.deps.deliver(s, snsEvent(published, s.arn, this.deps.region));
    }
    return published.messageId;
  }
}
