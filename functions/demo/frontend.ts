/** The shop's entry point: takes a checkout from outside the mesh and places the order. */
import { mesh } from 'lambda-mesh';

interface Checkout {
  readonly action?: string;
  readonly sku?: string;
  readonly quantity?: number;
}

export async function handler(event: Checkout): Promise<unknown> {
  const sku = event.sku ?? 'sku-1';
  const quantity = event.quantity ?? 1;
  const order = await mesh.call('orders', { sku, quantity });
  return { service: 'frontend', action: event.action ?? 'checkout', order };
}
