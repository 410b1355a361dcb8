/**
 * Attack: a payload nested deeper than JSON.stringify can write back. Lambda's runtime parses an
 * Invoke's payload with JSON.parse, which accepts an array nested 20,000 deep (40 KB); JSON.stringify
 * throws RangeError on the value it gave. The wrapper serializes the event to check the token's request
 * digest, so a caller claiming to be a mesh service with such a payload made that check throw: the
 * caller got a RangeError with the wrapper's stack (the layer's file paths) instead of
 * `unauthenticated`, and the refusal was neither logged nor counted. The same held for an EventBridge
 * event whose detail is a mesh envelope. No mesh caller can have signed such a payload (it signs the
 * bytes JSON.stringify made), so it is refused as `unauthenticated`, like any request its token does not
 * bind. Real identities from one mesh CA, the real wrapper.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { META } from '../../shared/names';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

/** An array nested `depth` deep, as the runtime's JSON.parse hands it to the handler. */
const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

function payments(identity: Awaited<ReturnType<typeof identityOf>>) {
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'payments', functionVersion: '1' },
    policy: { snapshot: { mesh: 'shop', generatedAt: '', items }, snapshotPath: null },
    transport: { invoke: async () => ({ statusCode: 200, payload: Buffer.from('null') }) },
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => identity,
    sleep: async () => undefined,
  });
  let runs = 0;
  const handler = wrapHandler(rt, async () => {
    runs++;
    return 'charged';
  });
  const reasons = () =>
    lines
      .filter((l) => l.startsWith('{"type":"mesh-access"'))
      .map((l) => JSON.parse(l) as { outcome: string; reason?: string; source: string })
      .map((r) => `${r.source} ${r.outcome} ${r.reason ?? ''}`.trim());
  return { handler, reasons, runs: () => runs };
}

describe('attack: a payload nested deeper than JSON.stringify writes back', () => {
  let world: IdentityWorld;
  before(async () => {
    world = await identityWorld('shop');
  });

  test('an Invoke claiming a mesh caller is refused as unauthenticated, without a stack', async () => {
    const callee = payments(await identityOf(world.payments));
    const meta = { v: 1, src: 'orders', att: 1, idk: 'k-1', dl: Date.now() + 5000, tok: 'm2.AAAA.AAAA.AAAA' };
    const clientContext = { custom: { [META.clientContextKey]: meta } };

    const refusal = await callee.handler(nested(20_000), { awsRequestId: 'r-1', clientContext }).then(
      () => assert.fail('the call was served'),
      (e: Error) => e,
    );

    assert.ok(refusal instanceof MeshUnauthenticatedError, `${refusal.name}: ${refusal.message}`);
    assert.equal(refusal.stack, `${refusal.name}: ${refusal.message}`);
    assert.equal(callee.runs(), 0);
    assert.deepEqual(callee.reasons(), ['unknown unauthenticated payload-digest-mismatch']);
  });

  test('an EventBridge event whose envelope holds it is refused, reported and not handled', async () => {
    const callee = payments(await identityOf(world.payments));
    const meta = { v: 1, src: 'orders', att: 1, idk: 'k-2', ch: 'order-events', tok: 'm2.AAAA.AAAA.AAAA' };
    const event = {
      id: 'e-1',
      'detail-type': 'order',
      source: 'shop.orders',
      detail: { [META.envelopeKey]: meta, [META.envelopePayloadKey]: nested(20_000) },
    };

    await callee.handler(event, { awsRequestId: 'r-2' }).catch((e: Error) => {
      // A refused EventBridge event fails the invocation (EventBridge retries, then its DLQ): the
      // error must be the mesh's refusal, not the serializer's.
      assert.doesNotMatch(`${e.name} ${e.stack}`, /RangeError|JSON\.stringify/);
    });

    assert.equal(callee.runs(), 0);
    assert.equal(callee.reasons().length, 1);
    assert.match(callee.reasons()[0]!, /^unknown unauthenticated /);
  });
});
