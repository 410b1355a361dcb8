/** Mirroring (the route's `mirror`), per attempt. Fault items are applied by the callee (wrapper.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mirror } from '../../functions/mesh/pipeline/mirror';
import { route } from '../../functions/mesh/pipeline/route';
import { parseHttpTargets } from '../../shared/http-target';
import { fixture, ok, PAYMENTS, planOf, readyCall, transportOf } from '../support/pipeline-fixture';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('pipeline stage: mirror', () => {
  const MIRRORED = [...PAYMENTS, { pk: 'payments', sk: 'route', mirror: { version: '9', percent: 100 } }];

  test('the first attempt sends a copy to the shadow version; its failure changes nothing', async () => {
    const transport = transportOf(() => Promise.reject(new Error('shadow down')));
    const { state, clock } = fixture({ items: MIRRORED, transport });
    const call = await readyCall(state);
    const first = route(call, planOf(call, 1));
    mirror(first);
    clock.t += 100;
    mirror(route(call, planOf(call, 2)));
    await tick();
    assert.deepEqual(
      transport.requests.map((r) => r.qualifier),
      ['9'],
    );
    const meta = JSON.parse(Buffer.from(transport.requests[0]!.clientContext, 'base64').toString()).custom.mesh;
    assert.deepEqual([meta.att, meta.idk, meta.dl], [1, call.idempotencyKey, first.timeout.deadline]);
  });

  test('not for an HTTP target (its URL names no version), nor without a mirror', async () => {
    const transport = transportOf(() => ok({}));
    const http = parseHttpTargets(JSON.stringify({ payments: { url: 'http://127.0.0.1:9/p', auth: 'none' } }));
    const { state } = fixture({ items: MIRRORED, deps: { httpTargets: http } });
    // The HTTP transport swapped for the recording one: only the stage's own check keeps the copy back.
    const call = { ...(await readyCall(state)), transport };
    assert.equal(call.overHttp, true);
    mirror(route(call, planOf(call)));
    const plain = fixture({ transport });
    const c2 = await readyCall(plain.state);
    mirror(route(c2, planOf(c2)));
    await tick();
    assert.equal(transport.requests.length, 0);
  });
});
