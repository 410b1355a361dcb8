/**
 * Certificates for identity tests: one mesh CA issuing orders/payments, and a foreign CA issuing an
 * "orders" that must never be trusted. Issued once per test file (key generation is the slow part).
 */
import { type CaSecret, issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { Identity } from '../../functions/mesh/identity';
import type { IdentitySecret } from '../../functions/mesh/identity/identity-secret';

export interface IdentityWorld {
  ca: CaSecret;
  foreignCa: CaSecret;
  orders: IdentitySecret;
  payments: IdentitySecret;
  foreignOrders: IdentitySecret;
}

export async function identityWorld(mesh = 'shop'): Promise<IdentityWorld> {
  const ca = await rotateCa(mesh, undefined);
  const foreignCa = await rotateCa(mesh, undefined);
  return {
    ca,
    foreignCa,
    orders: await issueIdentity({ mesh, service: 'orders', ca }),
    payments: await issueIdentity({ mesh, service: 'payments', ca }),
    foreignOrders: await issueIdentity({ mesh, service: 'orders', ca: foreignCa }),
  };
}

/** An Identity over a fixed secret value, with a settable clock. */
export function identityOf(secret: IdentitySecret, clock: { now: number } = { now: Date.now() }): Promise<Identity> {
  return Identity.create({ read: async () => JSON.stringify(secret), now: () => clock.now });
}
