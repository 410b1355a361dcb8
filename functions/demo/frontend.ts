/**
 * The shop's entry point: takes a checkout from outside the mesh and places the order.
 * `{"action":"pay-direct"}` makes frontend charge payments itself — an edge the policy does not
 * declare, so frontend's own mesh refuses it before any Invoke (fail fast, counted as denied): the
 * demo's denied edge, shown as the policy decision it is.
 */
import { MeshDeniedError, mesh } from 'lambda-mesh/runtime';

interface Checkout {
  readonly action?: string;
  readonly sku?: string;
  readonly quantity?: number;
}

export async function handler(event: Checkout): Promise<unknown> {
  const sku = event.sku ?? 'sku-1';
  const quantity = event.quantity ?? 1;
  if (event.action === 'pay-direct') {
    try {
      const payment = await mesh.call('payments', { amountCents: 100, sku });
      return { service: 'frontend', action: 'pay-direct', denied: false, payment };
    } catch (err) {
      // By class, or by name should two copies of the runtime ever meet.
      if (err instanceof MeshDeniedError || (err as Error).name === 'MeshDeniedError') {
        return { service: 'frontend', action: 'pay-direct', denied: true, reason: (err as Error).message };
      }
      throw err;
    }
  }
  const order = await mesh.call('orders', { sku, quantity });
  return { service: 'frontend', action: event.action ?? 'checkout', order };
}
