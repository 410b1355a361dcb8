/** Reserves stock for an order. */
interface Reservation {
  readonly sku: string;
  readonly quantity: number;
}

export async function handler(event: Reservation): Promise<unknown> {
  if (!Number.isInteger(event.quantity) || event.quantity < 1) {
    throw new Error(`quantity must be a positive integer, got ${JSON.stringify(event.quantity)}`);
  }
  return { service: 'inventory', sku: event.sku, reserved: event.quantity };
}
