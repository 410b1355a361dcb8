/**
 * Attack: a captured HTTP call of the mesh (an HTTP target's request, `x-mesh-token` and all) replayed
 * with routing headers added (`x-route-canary: yes`), to steer the callee's own calls. Over Invoke the
 * token binds the routing headers a caller carries on (claim `ctx`), and such a replay is refused
 * (test/security/token-replay-metadata.test.ts). Over HTTP a caller carries none (the mesh has no header
 * for them), and the token binds the method, path, query and body, not the other headers: the wrapper
 * read the request's `x-route-*` headers as an internet request's, so the replay (on a sandbox that had
 * not seen the nonce, or as the first to arrive) routed the callee's calls by them. A SigV4-signed
 * Function URL request takes added headers the signature does not name. Routing headers on an HTTP
 * request come from outside the mesh only: a mesh caller's are never read from its headers.
 * Real identities from one mesh CA, the real wrapper.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { Capture, capturingRuntime } from '../support/captured-call';
import { functionUrlEvent, signedCharge } from '../support/function-url-call';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

describe('attack: a captured HTTP call replayed with routing headers added', () => {
  let world: IdentityWorld;
  before(async () => {
    world = await identityWorld('shop');
  });

  /** orders' call to payments over HTTP, as a Function URL hands it over, with `extra` headers added. */
  async function signedRequest(extra: Record<string, string>) {
    const payload = '{"amountCents":100}';
    const { token, dl } = await signedCharge(world, payload);
    return functionUrlEvent(payload, token, dl, extra);
  }

  /** A fresh payments sandbox; what its handler would route its own calls by. */
  async function routeHeadersSeen(event: unknown): Promise<unknown> {
    const payments = capturingRuntime('payments', await identityOf(world.payments));
    let seen: unknown = 'handler never ran';
    const wrapped = wrapHandler(payments.rt, async () => {
      seen = payments.rt.scope?.routeHeaders;
      return { statusCode: 200, body: 'charged' };
    });
    const res = (await wrapped(event, { awsRequestId: 'r-1' })) as { statusCode: number };
    assert.equal(res.statusCode, 200);
    return seen;
  }

  test('the verified call routes by no header it carried: the added x-route-canary is not read', async () => {
    assert.equal(await routeHeadersSeen(await signedRequest({ 'x-route-canary': 'yes' })), undefined);
  });

  test('held: an HTTP request from outside the mesh still routes by its x-route-* headers', async () => {
    const rt = new MeshRuntime({
      env: {},
      config: { meshName: 'shop', service: 'payments', functionVersion: '1' },
      policy: {
        snapshot: {
          mesh: 'shop',
          generatedAt: '',
          items: [{ pk: 'payments', sk: 'allow#external', source: 'external' }],
        },
        snapshotPath: null,
      },
      transport: new Capture(),
      sink: () => undefined,
      identity: async () => identityOf(world.payments),
    });
    let seen: unknown;
    const wrapped = wrapHandler(rt, async () => {
      seen = rt.scope?.routeHeaders;
      return { statusCode: 200 };
    });
    const event = { rawPath: '/', requestContext: {}, headers: { 'X-Route-Canary': 'yes' } };
    assert.equal(((await wrapped(event, { awsRequestId: 'r-2' })) as { statusCode: number }).statusCode, 200);
    assert.deepEqual(seen, { 'x-route-canary': 'yes' });
  });
});
