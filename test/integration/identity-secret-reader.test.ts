/**
 * The identity secret read on the wire (functions/mesh/identity/secret-reader.ts): GetSecretValue as
 * Secrets Manager takes it (awsJson1_1, signed with the session token), and its errors by their AWS
 * names. A loopback server stands in for Secrets Manager and checks every signature as AWS does.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { secretsManagerReader } from '../../functions/mesh/identity/secret-reader';
import { checkSigV4, type SignatureCheck } from '../support/sigv4-check';

const CREDS = { accessKeyId: 'AKIDSM', secretAccessKey: 'sm-secret' };

describe('identity secret read on the wire', () => {
  const seen: { target?: string; type?: string; body: unknown; signature: SignatureCheck }[] = [];
  let throttleNext = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = JSON.parse(raw.toString()) as { SecretId: string };
    const signature = await checkSigV4(req, raw, CREDS);
    seen.push({
      target: req.headers['x-amz-target'] as string,
      type: req.headers['content-type'],
      body,
      signature,
    });
    const send = (status: number, json: unknown) =>
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
    if (!signature.ok) return send(400, { __type: 'InvalidSignatureException', message: signature.why });
    if (throttleNext > 0) {
      throttleNext--;
      return send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
    if (body.SecretId !== 'shop/identity/orders') {
      return send(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    send(200, { ARN: 'arn:x', Name: body.SecretId, SecretString: '{"v":1}', VersionId: 'v1' });
  });
  let env: NodeJS.ProcessEnv;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    env = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: 'sm-session',
    };
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reads the SecretString with a signed GetSecretValue, retrying a throttled attempt', async () => {
    seen.length = 0;
    throttleNext = 1;
    const value = await secretsManagerReader('shop/identity/orders', env)();
    assert.equal(value, '{"v":1}');
    assert.equal(seen.length, 2, 'one throttled attempt, one read');
    for (const s of seen) {
      assert.equal(s.target, 'secretsmanager.GetSecretValue');
      assert.equal(s.type, 'application/x-amz-json-1.1');
      assert.deepEqual(s.body, { SecretId: 'shop/identity/orders' });
      assert.deepEqual(s.signature, {
        ok: true,
        sessionToken: 'sm-session',
        region: 'eu-west-1',
        service: 'secretsmanager',
      });
    }
  });

  it('reports a missing secret by its AWS name and message, without retrying', async () => {
    seen.length = 0;
    const err = (await secretsManagerReader('shop/identity/nobody', env)().catch((e) => e)) as Error;
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.message, "Secrets Manager can't find the specified secret.");
    assert.equal(seen.length, 1);
  });
});
