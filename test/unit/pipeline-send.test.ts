/** Stage `send`: one attempt through the call's transport, aborted at its timeout; what the transport saw. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { route } from '../../functions/mesh/pipeline/route';
import { send } from '../../functions/mesh/pipeline/send';
import { fixture, ok, planOf, readyCall, T0, transportOf } from '../support/pipeline-fixture';

describe('pipeline stage: send', () => {
  test('the request: function, qualifier, payload bytes, ClientContext and trace header; the answer and its end', async () => {
    const transport = transportOf(() => ok({ paid: true }, '3'));
    const { state, clock } = fixture({ transport });
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    clock.t = T0 + 7;
    const sent = await send(a, 'Y29udGV4dA==', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0');
    const [req] = transport.requests;
    assert.deepEqual(
      [req?.functionName, req?.qualifier, Buffer.from(req!.payload).toString(), req?.clientContext, req?.traceHeader],
      ['shop-payments', 'live', '{"amount":1}', 'Y29udGV4dA==', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0'],
    );
    assert.ok('response' in sent && sent.response.executedVersion === '3');
    assert.equal(sent.endedAt, T0 + 7);
  });

  test("an error is reported, not thrown; one past the attempt's timeout is marked timed out", async () => {
    const hang = transportOf(
      (req) =>
        new Promise((_, reject) =>
          req.signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          ),
        ),
    );
    const { state } = fixture({ transport: hang });
    const call = await readyCall(state);
    const plan = planOf(call);
    const a = route(call, { ...plan, timeout: { ...plan.timeout, timeoutMs: 5 } });
    const sent = await send(a, '', undefined);
    assert.ok('error' in sent);
    assert.equal(sent.timedOut, true);
    assert.equal((sent.error as Error).name, 'AbortError');

    const refused = transportOf(() => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    const f = fixture({ transport: refused });
    const c2 = await readyCall(f.state);
    const s2 = await send(route(c2, planOf(c2)), '', undefined);
    assert.ok('error' in s2 && !s2.timedOut && (s2.error as { code?: string }).code === 'ECONNREFUSED');
  });
});
