/**
 * Where the wire path does not go, the runtime's three AWS operations go through the AWS SDK (docs/aws-wire.md):
 * here credentials that come from a container credentials endpoint, not from the environment. A
 * loopback server hands out those credentials as the Lambda container endpoint does; another stands in
 * for Lambda, Secrets Manager and DynamoDB and checks that each request is signed with them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { secretsManagerReader } from '../../functions/mesh/identity/secret-reader';
import { PolicyTableQuery } from '../../functions/mesh/policy/policy-table-query';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { checkSigV4 } from '../support/sigv4-check';

const CONTAINER_CREDS = { accessKeyId: 'ASIACONTAINER', secretAccessKey: 'container-secret' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('the SDK path, for credentials from a container endpoint', () => {
  const signed: { ok: boolean; service?: string; token?: string }[] = [];
  const creds = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        AccessKeyId: CONTAINER_CREDS.accessKeyId,
        SecretAccessKey: CONTAINER_CREDS.secretAccessKey,
        Token: 'container-token',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
  });
  const aws = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const check = await checkSigV4(req, Buffer.concat(chunks), CONTAINER_CREDS);
    signed.push({ ok: check.ok, service: check.service, token: check.sessionToken });
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = (body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (target === 'secretsmanager.GetSecretValue') return json({ SecretString: 'the-secret' });
    if (target === 'DynamoDB_20120810.Query') return json({ Items: [{ pk: { S: 'payments' } }], Count: 1 });
    json({ paid: true }, { 'x-amz-executed-version': '4' });
  });
  let env: Record<string, string>;
  const saved = { ...process.env };
  before(async () => {
    env = {
      AWS_ENDPOINT_URL: await listen(aws),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${await listen(creds)}/creds`,
      AWS_REGION: 'eu-west-1',
    };
    // The SDK's credential providers read the process's environment.
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete process.env[k];
    Object.assign(process.env, env);
  });
  after(async () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await close(aws);
    await close(creds);
  });

  it('Invoke, GetSecretValue and Query go through the SDK, signed with the container credentials', async () => {
    // Act
    const transport = new LambdaInvokeTransport({ env });
    const invoked = await transport.invoke({
      functionName: 'shop-payments',
      qualifier: 'live',
      payload: Buffer.from('{}'),
      clientContext: Buffer.from('{}').toString('base64'),
      signal: new AbortController().signal,
    });
    const secret = await secretsManagerReader('shop/identity/orders', env)();
    const items = await new PolicyTableQuery({ env }).query({
      TableName: 'shop-policy',
      KeyConditionExpression: '#pk = :pk',
    });
    // Assess
    assert.equal(transport.path, 'sdk');
    assert.equal(invoked.executedVersion, '4');
    assert.deepEqual(JSON.parse(Buffer.from(invoked.payload).toString()), { paid: true });
    assert.equal(secret, 'the-secret');
    assert.deepEqual(items.Items, [{ pk: { S: 'payments' } }]);
    assert.deepEqual(
      signed.map((s) => [s.ok, s.service, s.token]),
      [
        [true, 'lambda', 'container-token'],
        [true, 'secretsmanager', 'container-token'],
        [true, 'dynamodb', 'container-token'],
      ],
    );
  });
});
