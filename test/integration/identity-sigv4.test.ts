/**
 * SigV4 transport for Function URLs (AWS_IAM), checked by a loopback server that recomputes the
 * signature with @smithy/signature-v4 from what arrived on the wire (test/support/sigv4-check.ts:
 * method, path, query, the signed headers, the body bytes, x-amz-date), like the Lambda URL front end.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { regionOfFunctionUrl, sigv4HttpTransport } from '../../functions/mesh/transport/sigv4-http';
import { META_HEADER } from '../../shared/names';
import { checkSigV4 } from '../support/sigv4-check';

const KEYS = { accessKeyId: 'AKIDMESHTEST', secretAccessKey: 'mesh-secret-key' };

/** Server-side verification, as the Lambda URL front end does it: `ok` or what failed. */
async function verifySigV4(req: IncomingMessage, body: Buffer): Promise<string> {
  const check = await checkSigV4(req, body, KEYS);
  return check.ok ? 'ok' : check.why!;
}

describe('SigV4 HTTP transport', () => {
  let server: Server;
  let url: string;
  const seen: { verdict: string; source?: string; signedHeaders?: string }[] = [];
  let tamper = false;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        let body = Buffer.concat(chunks);
        if (tamper) body = Buffer.concat([body, Buffer.from(' ')]); // as if a proxy changed the bytes
        const verdict = await verifySigV4(req, body);
        seen.push({
          verdict,
          source: req.headers[META_HEADER.source] as string,
          signedHeaders: /SignedHeaders=([^,]+)/.exec(req.headers.authorization ?? '')?.[1],
        });
        res.writeHead(verdict === 'ok' ? 200 : 403).end(JSON.stringify({ verdict }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const creds =
    (secretAccessKey = 'mesh-secret-key') =>
    async () => ({ accessKeyId: 'AKIDMESHTEST', secretAccessKey });

  it('signs body, path, query and mesh headers so the server verifies the signature', async () => {
    const t = sigv4HttpTransport({ url, region: 'eu-west-1', credentials: creds() });
    const res = await t.send({
      payload: Buffer.from('{"amount":1}'),
      path: 'charge?x=1&a=b',
      metadata: { v: 1, src: 'orders', tok: 'm1.a.b.c', att: 2 },
    });
    assert.equal(res.statusCode, 200, Buffer.from(res.payload).toString());
    assert.equal(seen.at(-1)!.source, 'orders');
    assert.match(seen.at(-1)!.signedHeaders!, new RegExp(META_HEADER.token));
  });

  it('reads credentials (with session token) from the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDMESHTEST',
      AWS_SECRET_ACCESS_KEY: 'mesh-secret-key',
      AWS_SESSION_TOKEN: 'session-1',
    });
    try {
      const t = sigv4HttpTransport({ url, region: 'us-east-1' });
      const res = await t.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } });
      assert.equal(res.statusCode, 200);
      assert.match(seen.at(-1)!.signedHeaders!, /x-amz-security-token/);
    } finally {
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('the server refuses a wrong key and changed bytes (the check can fail)', async () => {
    const wrong = sigv4HttpTransport({ url, region: 'us-east-1', credentials: creds('not-the-key') });
    assert.equal((await wrong.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } })).statusCode, 403);
    assert.equal(seen.at(-1)!.verdict, 'signature-mismatch');
    tamper = true;
    try {
      const t = sigv4HttpTransport({ url, region: 'us-east-1', credentials: creds() });
      assert.equal((await t.send({ payload: Buffer.from('{}'), metadata: { v: 1, src: 'orders' } })).statusCode, 403);
      assert.match(seen.at(-1)!.verdict, /mismatch/);
    } finally {
      tamper = false;
    }
  });

  it('takes the region from a Function URL host and refuses plain http off loopback', () => {
    assert.equal(regionOfFunctionUrl(new URL('https://abc123.lambda-url.ap-south-1.on.aws/')), 'ap-south-1');
    assert.throws(() => sigv4HttpTransport({ url: 'http://example.com/', region: 'us-east-1' }), /must be https/);
  });
});
