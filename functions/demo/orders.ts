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
  return { service: 'orders', orderId: `o-${Date.now().toString(36)}`, reservation, payment: charged.result, paidBy };
}
