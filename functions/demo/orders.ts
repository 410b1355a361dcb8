/** Places an order: reserves stock, then charges the payment. */
import { mesh } from 'lambda-mesh/runtime';

interface OrderRequest {
  readonly sku: string;
  readonly quantity: number;
}

const PRICE_CENTS = 1250;

export async function handler(event: OrderRequest): Promise<unknown> {
  const reservation = await mesh.call('inventory', { sku: event.sku, quantity: event.quantity });
  // withMeta: which payments answered (a fallback in another region, when payments here is down).
  const charged = await mesh.call(
    'payments',
    { amountCents: PRICE_CENTS * event.quantity, sku: event.sku },
    { withMeta: true },
  );
  const { version, region, fallback } = charged.meta;
  const paidBy = { version, region: region ?? process.env.AWS_REGION, ...(fallback ? { fallback } : {}) };
  const orderId = `o-${Date.now().toString(36)}`;
  // The customer is told asynchronously: the order does not wait for notifications.
  await mesh.send('order-events', { type: 'order-placed', orderId, sku: event.sku, quantity: event.quantity });
  return { service: 'orders', orderId, reservation, payment: charged.result, paidBy };
}
