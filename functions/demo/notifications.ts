/**
 * Tells the customer about their order: fed asynchronously by orders' `order-placed` messages through
 * the `order-events` queue. The mesh checks each message's sender before this runs; a redelivered
 * message carries the same idempotency key, so it is announced once.
 */
import { mesh } from 'lambda-mesh/runtime';

interface SqsBatch {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

const announced = new Set<string>();

export async function handler(event: SqsBatch): Promise<unknown> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const message = JSON.parse(record.body) as { type?: string; orderId?: string };
      if (message.type !== 'order-placed' || !message.orderId) throw new Error(`unknown message ${record.body}`);
      if (announced.has(message.orderId)) continue;
      announced.add(message.orderId);
      console.log(
        JSON.stringify({ msg: 'order confirmed', orderId: message.orderId, key: mesh.context()?.idempotencyKey }),
      );
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
