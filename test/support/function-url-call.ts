/**
 * orders' call of payments over HTTP (POST /charge, key order-7, attempt 1), as a Function URL hands it
 * to payments' function (payload 2.0): what an attacker who captured one holds. Real identities from
 * test/support/identity-fixture.ts.
 */
import { META_HEADER } from '../../shared/names';
import { type IdentityWorld, identityOf } from './identity-fixture';

/** The Function URL event carrying `payload` with `token`, deadline `dl` and `extra` headers added. */
export function functionUrlEvent(payload: string, token: string, dl: number, extra: Record<string, string> = {}) {
  return {
    version: '2.0',
    rawPath: '/charge',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      [META_HEADER.source]: 'orders',
      [META_HEADER.token]: token,
      [META_HEADER.idempotencyKey]: 'order-7',
      [META_HEADER.deadline]: String(dl),
      [META_HEADER.attempt]: '1',
      ...extra,
    },
    requestContext: { http: { method: 'POST', path: '/charge' } },
    body: payload,
    isBase64Encoded: false,
  };
}

/** orders' token for that call, signed as its HTTP transports sign it, and the call's deadline. */
export async function signedCharge(world: IdentityWorld, payload: string): Promise<{ token: string; dl: number }> {
  const orders = await identityOf(world.orders);
  const dl = Date.now() + 5_000;
  const token = orders.sign({
    target: 'payments',
    payload,
    idempotencyKey: 'order-7',
    deadline: dl,
    http: { method: 'POST', path: '/charge', query: '' },
    context: { att: 1 },
  });
  return { token, dl };
}
