/**
 * Logs each SNS notification it gets (`received <json>`: the sender the mesh verified, the message, the
 * attributes left for the handler and the record's topic).
 */
import { mesh } from 'lambda-mesh/runtime';

interface SnsRecord {
  readonly EventSource: string;
  readonly Sns: { Message: string; TopicArn: string; MessageAttributes?: Record<string, unknown> };
}

export async function handler(event: { Records: SnsRecord[] }): Promise<void> {
  for (const r of event.Records) {
    const attributes = Object.keys(r.Sns.MessageAttributes ?? {});
    const seen = {
      from: mesh.context()?.source,
      payload: JSON.parse(r.Sns.Message),
      attributes,
      topic: r.Sns.TopicArn,
    };
    console.log(`received ${JSON.stringify(seen)}`);
  }
}
