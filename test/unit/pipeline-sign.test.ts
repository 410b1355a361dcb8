/** Stage `sign`: who vouches for a call (connect) and the mesh metadata each attempt carries. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCallError, MeshIdentityUnavailableError } from '../../functions/mesh/errors';
import { authorize } from '../../functions/mesh/pipeline/authorize';
import { type ClientState, type Signer, startCall } from '../../functions/mesh/pipeline/call-context';
import { connect, sign, signAsync } from '../../functions/mesh/pipeline/sign';
import type { InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { parseChannels } from '../../shared/channel';
import { parseHttpTargets } from '../../shared/http-target';
import { fixture, PAYMENTS, readyCall, T0, transportOf } from '../support/pipeline-fixture';

const decode = (clientContext: string) =>
  JSON.parse(Buffer.from(clientContext, 'base64').toString()).custom.mesh as Record<string, unknown>;

/** A deployment declaring payments as an HTTP target at `url`. */
const payingOver = (url: string, auth: string) => parseHttpTargets(JSON.stringify({ payments: { url, auth } }));

/** A call that must fail with a MeshCallError saying exactly `message`. */
const failsWith = (message: string) => (e: Error) => e instanceof MeshCallError && e.message === message;

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
      context: { att: 2 },
    });
  });

  test('the token binds the metadata the callee acts on as it travels: attempt, mirror mark, routing headers', async () => {
    const { state } = fixture({ deps: { identity: async () => binding } });
    const headers = { 'x-route-cohort': 'beta', 'content-type': 'application/json' };
    const call = await readyCall(state, 'payments', { amount: 2 }, { headers });
    const attempt = decode(sign(call, T0 + 500, 3));
    assert.deepEqual(attempt.rh, { 'x-route-cohort': 'beta' });
    assert.deepEqual(JSON.parse(String(attempt.tok)).context, { att: 3, rh: { 'x-route-cohort': 'beta' } });
    const mirror = decode(sign(call, T0 + 500, 1, undefined, true));
    assert.deepEqual(JSON.parse(String(mirror.tok)).context, { att: 1, rh: { 'x-route-cohort': 'beta' }, mir: 1 });
  });

  test('over HTTP the token binds the attempt alone: the mirror mark and routing headers have no header there', async () => {
    const targets = payingOver('https://abc.lambda-url.us-east-1.on.aws/pay', 'iam');
    const { state } = fixture({ deps: { httpTargets: targets, identity: async () => binding } });
    const call = await readyCall(state, 'payments', { amount: 2 }, { headers: { 'x-route-cohort': 'beta' } });
    assert.deepEqual(JSON.parse(String(decode(sign(call, T0 + 9, 2)).tok)).context, { att: 2 });
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
    const targets = payingOver('http://127.0.0.1:9/pay', 'none');
    const { state } = fixture({ deps: { httpTargets: targets, identity: async () => binding } });
    const call = await readyCall(state);
    assert.equal(call.overHttp, true);
    assert.notEqual(call.transport, state.deps.transport);
    assert.equal(call.signer, undefined, 'a plain HTTP target never sees the token');
  });

  test('a declared HTTPS target behind SigV4: tokens bind the request line too', async () => {
    const url = 'https://abc.lambda-url.us-east-1.on.aws/pay';
    const targets = payingOver(url, 'iam');
    const { state } = fixture({ deps: { httpTargets: targets, identity: async () => binding } });
    const call = await readyCall(state);
    const meta = decode(sign(call, T0 + 9, 1));
    assert.deepEqual(JSON.parse(String(meta.tok)).http, { method: 'POST', path: '/pay', query: '' });
  });

  test('MESH_HTTP_TARGETS unreadable: fails closed, never falls back to Invoke', async () => {
    const targets = parseHttpTargets('{not json');
    assert.equal(targets.ok, false);
    const { state } = fixture({ deps: { httpTargets: targets } });
    await assert.rejects(
      readyCall(state),
      (e: Error) =>
        e instanceof MeshCallError &&
        e.status === 500 &&
        e.message ===
          `mesh: MESH_HTTP_TARGETS is malformed (${targets.ok ? '' : targets.error}); ` +
            'MeshFunction sets it at deploy, so redeploy the function',
    );
  });

  test('an HTTP transport that cannot be made: a call error naming the target, its URL and why', async () => {
    const url = 'https://payments.shop.internal/pay';
    const { state } = fixture({ deps: { httpTargets: payingOver(url, 'mtls') } });
    await assert.rejects(
      readyCall(state),
      failsWith(
        `mesh: cannot call payments at ${url}: service payments needs mTLS but this function has no identity ` +
          '(MESH_IDENTITY_SECRET unset); turn identity on or declare its endpoint with auth "iam"',
      ),
    );
  });

  test('a send to an HTTP target: refused, nothing sent, with what to do instead', async () => {
    const url = 'http://127.0.0.1:9/pay';
    const { state } = fixture({ deps: { httpTargets: payingOver(url, 'none') } });
    await assert.rejects(
      authorize(startCall(state, 'payments', {}, {}, 'send')).then(connect),
      failsWith(
        `mesh: cannot send to payments: it is reached over HTTP (${url}), and an asynchronous send is an Event ` +
          'invoke; call it with mesh.call, or send to a queue, topic or bus it consumes',
      ),
    );
  });

  test('a mirror copy is marked in its metadata; an attempt is not', async () => {
    const { state } = fixture();
    const call = await readyCall(state);
    assert.equal(decode(sign(call, T0 + 1, 1, undefined, true)).mir, 1);
    assert.equal('mir' in decode(sign(call, T0 + 1, 1)), false);
  });
});

describe('pipeline stage: sign, for a send', () => {
  const QUEUE = { kind: 'sqs', arn: 'arn:aws:sqs:eu-west-1:123456789012:order-events', url: 'http://127.0.0.1:1/q' };
  const ITEMS = [...PAYMENTS, { pk: 'order-events', sk: 'allow#orders', source: 'orders' }];

  function sending(make: (name: string) => InvokeTransport) {
    const made: string[] = [];
    const f = fixture({
      items: ITEMS,
      deps: {
        identity: async () => binding,
        channels: () => parseChannels(JSON.stringify({ 'order-events': QUEUE })),
        channelTransport: (name) => {
          made.push(name);
          return make(name);
        },
      },
    });
    return { ...f, made };
  }
  const readySend = async (state: ClientState, target: string) =>
    connect(await authorize(startCall(state, target, { n: 1 }, { idempotencyKey: 'k-2' }, 'send')));

  test("a declared channel: its own transport, made once for the client's life, and this function signs", async () => {
    const queue = transportOf(() => ({ statusCode: 200, payload: new Uint8Array() }));
    const { state, made } = sending(() => queue);
    const first = await readySend(state, 'order-events');
    const second = await readySend(state, 'order-events');
    assert.equal(first.transport, queue);
    assert.equal(second.transport, queue);
    assert.deepEqual(made, ['order-events']);
    assert.equal(first.overHttp, false);
    assert.equal(first.signer, binding);
    // The service itself (no channel of that name) is an Event invoke over the client's transport.
    const service = await readySend(state, 'payments');
    assert.equal(service.transport, state.deps.transport);
  });

  test('a channel transport that cannot be made: a call error naming the channel and why', async () => {
    const { state } = sending(() => {
      throw new Error('no region for the queue');
    });
    await assert.rejects(
      readySend(state, 'order-events'),
      failsWith('mesh: cannot send to order-events: no region for the queue'),
    );
  });

  test('the metadata of a send: no deadline, the trace when there is one, the channel named', async () => {
    const { state } = sending(() => transportOf(() => ({ statusCode: 200, payload: new Uint8Array() })));
    const call = await readySend(state, 'order-events');
    const trc = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
    const meta = signAsync(call, 1, trc);
    assert.deepEqual(
      { ...meta, tok: undefined },
      { v: 1, src: 'orders', att: 1, idk: 'k-2', trc, ch: 'order-events', tok: undefined },
    );
    assert.deepEqual(JSON.parse(String(meta.tok)).context, { att: 1 });
    assert.equal('trc' in signAsync(call, 2), false);
  });
});
