/**
 * The event SNS invokes a subscribed function with: one record, `EventSource: "aws:sns"`, the
 * notification under `Sns` ("Using AWS Lambda with Amazon SNS", AWS Lambda Developer Guide, its example
 * event). Pure: a published message in, the event out.
 */
import { createHash } from 'node:crypto';

/** A message attribute as Publish takes it: a Binary's value is its base64, as the event carries it. */
export interface SnsAttribute {
  readonly DataType: string;
  readonly Value: string;
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly attributes: Readonly<Record<string, SnsAttribute>>;
  /** ISO 8601, milliseconds, UTC. */
  readonly timestamp: string;
  readonly messageGroupId?: string;
}

export function snsEvent(m: PublishedMessage, subscriptionArn: string, region: string): object {
  const host = `https://sns.${region}.amazonaws.com`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: m.messageId,
          TopicArn: m.topicArn,
          Subject: m.subject ?? null,
          Message: m.message,
          Timestamp: m.timestamp,
          SignatureVersion: '1',
          Signature: localSignature(m),
          SigningCertUrl: `${host}/SimpleNotificationService-local.pem`,
          UnsubscribeUrl: `${host}/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
          MessageAttributes: Object.fromEntries(
            Object.entries(m.attributes).map(([name, a]) => [name, { Type: a.DataType, Value: a.Value }]),
          ),
          ...(m.messageGroupId !== undefined ? { MessageGroupId: m.messageGroupId } : {}),
        },
      },
    ],
  };
}

/**
 * The local mesh holds no SNS signing key: the signature is the SHA-256 of the string SNS signs
 * ("Verifying the signatures of Amazon SNS messages"), base64, so it changes with the message but
 * verifies against no certificate.
 */
function localSignature(m: PublishedMessage): string {
  const fields = [
    ['Message', m.message],
    ['MessageId', m.messageId],
    ...(m.subject !== undefined ? [['Subject', m.subject]] : []),
    ['Timestamp', m.timestamp],
    ['TopicArn', m.topicArn],
    ['Type', 'Notification'],
  ];
  return createHash('sha256')
    .update(fields.map(([k, v]) => `${k}\n${v}\n`).join(''))
    .digest('base64');
}
