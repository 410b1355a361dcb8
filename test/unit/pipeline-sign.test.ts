/** Stage `sign`: who vouches for a call (connect) and the mesh metadata each attempt carries. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCallError, MeshIdentityUnavailableError } from '../../functions/mesh/errors';
import type { Signer } from '../../functions/mesh/pipeline/call-context';
import { sign } from '../../functions/mesh/pipeline/sign';
import { parseHttpTargets } from '../../shared/http-target';
import { fixture, readyCall, T0 } from '../support/pipeline-fixture';

const decode = (clientContext: string) =>
  JSON.parse(Buffer.from(clientContext, 'base64').toString()).custom.mesh as Record<string, unknown>;

/** Signs with a readable token: what it was asked to bind. */
const binding: Signer = {
  sign: (input) => JSON.stringify({ ...input, payload: Buffer.from(input.payload as Uint8Array).toString() }),
};

describe('pipeline stage: sign', () => {
  test("an Invoke target: the client's transport, this function's identity signs", async () => {
    const { state } = fixture({ deps: { identity: async () => binding } });
    const call = await readyCall(state, 'payments', { amount: 2 }, { idempotencyKey: 'k-1' });
    assert.equal(call.transport, state.deps.transport);
    assert.equal(call.overHttp, false);
    const meta = decode(sign(call, T0 + 500, 2, 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'));
    assert.deepEqual(
      { ...meta, tok: undefined },
      {
        v: 1,
        src: 'orders',
        dl: T0 + 500,
        att: 2,
        idk: 'k-1',
        trc: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
        tok: undefined,
      },
    );
    assert.deepEqual(JSON.parse(String(meta.tok)), {
      target: 'payments',
      payload: '{"amount":2}',
      idempotencyKey: 'k-1',
      deadline: T0 + 500,
    });
  });

  test('identity off: no token, no trace header without a trace', async () => {
    const { state } = fixture();
    const meta = decode(sign(await readyCall(state), T0 + 1, 1));
    assert.equal('tok' in meta, false);
    assert.equal('trc' in meta, false);
  });

  test('no identity yet: refused as unauthenticated before anything is sent, counted as a refusal', async () => {
    const missing = new MeshIdentityUnavailableError('mesh: orders has no identity yet (secret empty)');
    const { state, accessLog, lines } = fixture({
      deps: {
        identity: () => Promise.reject(missing),
      },
    });
    await assert.rejects(readyCall(state), (e) => e === missing);
    const [line] = accessLog();
    assert.deepEqual([line?.outcome, line?.code, line?.version], ['unauthenticated', 401, 'live']);
    assert.ok(lines.some((l) => l.includes('"denied_total":1')));
  });

  test('an identity that fails otherwise: a call error naming the target, nothing sent', async () => {
    const { state, accessLog } = fixture({ deps: { identity: () => Promise.reject(new Error('secret unreadable')) } });
    await assert.rejects(
      readyCall(state),
      (e: Error) =>
        e instanceof MeshCallError && e.message === 'mesh: cannot sign the call to payments: Error: secret unreadable',
    );
    assert.equal(accessLog()[0]?.outcome, 'unauthenticated');
  });

  test('a declared plain HTTP target: the HTTP transport, and no token for it', async () => {
    const targets = parseHttpTargets(JSON.stringify({ payments: { url: 'http://127.0.0.1:9/pay', auth: 'none' } }));
    const { state } = fixture({ deps: { httpTargets: targets, identity: async () => binding } });
    const call = await readyCall(state);
    assert.equal(call.overHttp, true);
    assert.notEqual(call.transport, state.deps.transport);
    assert.equal(call.signer, undefined, 'a plain HTTP target never sees the token');
  });

  test('a declared HTTPS target behind SigV4: tokens bind the request line too', async () => {
    const url = 'https://abc.lambda-url.us-east-1.on.aws/pay';
    const targets = parseHttpTargets(JSON.stringify({ payments: { url, auth: 'iam' } }));
    const { state } = fixture({ deps: { httpTargets: targets, identity: async () => binding } });
    const call = await readyCall(state);
    const meta = decode(sign(call, T0 + 9, 1));
    assert.deepEqual(JSON.parse(String(meta.tok)).http, { method: 'POST', path: '/pay', query: '' });
  });

  test('MESH_HTTP_TARGETS unreadable: fails closed, never falls back to Invoke', async () => {
    const { state } = fixture({ deps: { httpTargets: parseHttpTargets('{not json') } });
    await assert.rejects(
      readyCall(state),
      (e: Error) => e instanceof MeshCallError && e.status === 500 && /MESH_HTTP_TARGETS is malformed/.test(e.message),
    );
  });
});
