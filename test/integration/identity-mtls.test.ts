/**
 * mTLS transport against a real HTTPS server on 127.0.0.1 that requires client certificates from the
 * mesh CA: a mesh certificate passes; no certificate or a foreign one fails; the client refuses a
 * server that is not from the mesh CA or is not the expected service.
 */

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { issueIdentity } from '../../functions/control/ca-issuer';
import { encodeClientContext } from '../../functions/mesh/client-context';
import type { Identity } from '../../functions/mesh/identity';
import { httpTargetTransport } from '../../functions/mesh/identity/http-target';
import { metadataFromHeaders } from '../../functions/mesh/metadata';
import { mtlsHttpTransport } from '../../functions/mesh/transport/mtls-http';
import { META_HEADER } from '../../shared/names';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`)),
  );
}

describe('mTLS HTTP transport', () => {
  let w: IdentityWorld;
  let server: Server;
  let foreignServer: Server;
  let url: string;
  let foreignUrl: string;
  let orders: Identity;
  let ledger: Identity;
  const seen: { peer?: string; token?: string; body?: string; headers?: Record<string, unknown> }[] = [];

  before(async () => {
    w = await identityWorld();
    orders = await identityOf(w.orders);
    ledger = await identityOf(await issueIdentity({ mesh: 'shop', service: 'ledger', ca: w.ca }));
    const tls = ledger.tlsMaterial();
    server = createServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          const peer = (req.socket as TLSSocket).getPeerCertificate().subjectaltname;
          const token = req.headers[META_HEADER.token] as string | undefined;
          seen.push({ peer, token, body: body.toString(), headers: req.headers });
          // The server also checks the token, as a mesh callee would.
          const verdict = ledger.verify({ token, source: req.headers[META_HEADER.source], payload: body });
          res.writeHead(verdict.ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(verdict));
        });
      },
    );
    url = await listen(server);
    const foreign = await identityOf(await issueIdentity({ mesh: 'shop', service: 'ledger', ca: w.foreignCa }));
    const ftls = foreign.tlsMaterial();
    foreignServer = createServer({ cert: ftls.cert, key: ftls.key }, (_req, res) => res.end('{}'));
    foreignUrl = await listen(foreignServer);
  });

  after(async () => {
    server.closeAllConnections();
    foreignServer.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => foreignServer.close(r));
  });

  it('a mesh client certificate passes, with its SPIFFE ID seen by the server and the token verified', async () => {
    const t = mtlsHttpTransport({ url, identity: orders, targetService: 'ledger' });
    const payload = Buffer.from('{"entry":1}');
    const tok = orders.sign({ target: 'ledger', payload });
    const res = await t.send({ payload, metadata: { v: 1, src: 'orders', tok } });
    assert.equal(res.statusCode, 200, Buffer.from(res.payload).toString());
    assert.equal(seen.at(-1)!.peer, 'URI:spiffe://shop/svc/orders');
    assert.deepEqual(JSON.parse(Buffer.from(res.payload).toString()), { ok: true });
  });

  it("fits the pipeline's InvokeTransport: metadata from the ClientContext arrives as the headers a callee reads", async () => {
    const t = mtlsHttpTransport({ url, identity: orders, targetService: 'ledger' });
    const payload = Buffer.from('{"entry":2}');
    const tok = orders.sign({ target: 'ledger', payload });
    const clientContext = encodeClientContext({ v: 1, src: 'orders', tok, att: 1, idk: 'k-1' });
    const res = await t.invoke({
      functionName: 'ignored',
      qualifier: 'live',
      payload,
      clientContext,
      signal: new AbortController().signal,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.functionError, undefined);
    assert.equal(seen.at(-1)!.token, tok);
    assert.equal(metadataFromHeaders(seen.at(-1)!.headers)?.src, 'orders');
    // A replayed attempt is refused by the callee with 401, which B classifies as unauthenticated.
    const again = await t.invoke({
      functionName: 'ignored',
      qualifier: 'live',
      payload,
      clientContext,
      signal: new AbortController().signal,
    });
    assert.equal(again.statusCode, 401);
  });

  it('httpTargetTransport picks mTLS for a declared target with auth "mtls" and reuses it', async () => {
    const declared = { url, auth: 'mtls' as const };
    const t = httpTargetTransport('ledger', declared, orders);
    assert.equal(t.kind, 'mtls');
    assert.equal(httpTargetTransport('ledger', declared, orders), t);
    assert.equal(
      httpTargetTransport('fn', { url: 'https://abc.lambda-url.us-east-1.on.aws/', auth: 'iam' }, undefined).kind,
      'sigv4',
    );
    assert.throws(
      () => httpTargetTransport('ledger', { url: 'https://ledger.example/', auth: 'mtls' }, undefined),
      /needs mTLS/,
    );
    const payload = Buffer.from('{"entry":3}');
    const res = await t.send({
      payload,
      metadata: { v: 1, src: 'orders', tok: orders.sign({ target: 'ledger', payload }) },
    });
    assert.equal(res.statusCode, 200);
  });

  it('no client certificate fails the handshake', async () => {
    const before = seen.length;
    await assert.rejects(
      new Promise((resolve, reject) => {
        const r = request(
          url,
          { method: 'POST', ca: orders.tlsMaterial().ca, checkServerIdentity: () => undefined },
          resolve,
        );
        r.on('error', reject);
        r.end('{}');
      }),
    );
    assert.equal(seen.length, before, 'the server handler never ran');
  });

  it('a client certificate from another CA fails the handshake', async () => {
    const before = seen.length;
    const foreignOrders = await identityOf(w.foreignOrders);
    // It trusts the mesh CA for the server, but presents a foreign client certificate.
    const t = mtlsHttpTransport({ url, identity: foreignOrders, targetService: 'ledger', ca: orders.tlsMaterial().ca });
    await assert.rejects(t.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } }));
    assert.equal(seen.length, before);
  });

  it('refuses a server whose certificate is not from the mesh CA', async () => {
    const t = mtlsHttpTransport({ url: foreignUrl, identity: orders, targetService: 'ledger' });
    await assert.rejects(
      t.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } }),
      /self.signed|unable to verify|certificate/i,
    );
  });

  it('refuses a mesh server that is not the expected service', async () => {
    const t = mtlsHttpTransport({ url, identity: orders, targetService: 'payments' });
    await assert.rejects(
      t.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } }),
      /spiffe:\/\/shop\/svc\/payments/,
    );
  });
});
