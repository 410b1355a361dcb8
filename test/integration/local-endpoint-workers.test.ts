/**
 * The endpoint with the real registry and worker invoker: code running in a worker process reaches
 * Lambda, Secrets Manager and DynamoDB through AWS_ENDPOINT_URL with the plain AWS SDK,
 * and the mesh metadata it sends in ClientContext arrives in the callee's context.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';
import { loopbackClientConfig } from '../support/loopback-client';

const CALLER = `
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');
exports.handler = async (event) => {
  const lambda = new LambdaClient({ endpoint: process.env.AWS_ENDPOINT_URL });
  const cc = Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'orders' } } })).toString('base64');
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'payments:live', Payload: JSON.stringify(event), ClientContext: cc }));
  const sm = new SecretsManagerClient({ endpoint: process.env.AWS_ENDPOINT_URL });
  const secret = await sm.send(new GetSecretValueCommand({ SecretId: 'demo/key' }));
  const db = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL });
  const item = await db.send(new GetItemCommand({ TableName: 'demo-policy', Key: { pk: { S: 'payments' }, sk: { S: 'allow#orders' } } }));
  return {
    callee: JSON.parse(Buffer.from(out.Payload).toString()),
    executedVersion: out.ExecutedVersion,
    secret: secret.SecretString,
    managedBy: item.Item && item.Item.managedBy.S,
  };
};`;

const PAYMENTS = `
exports.handler = async (event, context) => ({
  amount: event.amount,
  version: context.functionVersion,
  caller: context.clientContext && context.clientContext.custom && context.clientContext.custom.mesh && context.clientContext.custom.mesh.src,
});`;

describe('local endpoint with real workers', () => {
  let dir: string;
  let endpoint: Endpoint;
  let invoker: LocalInvoker;
  let lambda: LambdaClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-workers-'));
    const code = join(dir, 'code'); // beside the invoker's work dir, which copies it (as Lambda unpacks into /var/task)
    mkdirSync(code);
    for (const [name, source] of [
      ['orders', CALLER],
      ['payments', PAYMENTS],
    ]) {
      writeFileSync(join(code, `${name}.js`), source);
    }
    const registry = new FunctionRegistry();
    const spec = (name: string) => ({
      name,
      codeDir: code,
      handler: `${name}.handler`,
      runtime: 'nodejs20.x',
      timeout: 20,
      memorySize: 128,
      environment: { MESH_SERVICE: name },
      layerDirs: [],
      codeSha256: name,
    });
    registry.putFunction(spec('orders'));
    registry.putFunction(spec('payments'));
    registry.publishVersion('payments');
    registry.putAlias('payments', 'live', { FunctionVersion: '1' });
    invoker = new LocalInvoker({ registry, workDir: join(dir, 'opt') });
    endpoint = await startEndpoint({ port: 0, registry, invoker });
    invoker.setEndpointUrl(endpoint.url);
    endpoint.secrets.set('demo/key', { secretString: 's3cr3t' });
    await endpoint.dynamo.createPolicyTable('demo-policy');
    await endpoint.dynamo.seedItems('demo-policy', [{ pk: 'payments', sk: 'allow#orders', managedBy: 'deploy' }]);
    lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    await invoker.stop();
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a worker call Lambda, Secrets Manager and DynamoDB through the endpoint', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'orders', Payload: Buffer.from('{"amount":42}') }));
    const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
    assert.equal(out.FunctionError, undefined, JSON.stringify(body));
    assert.deepEqual(body, {
      callee: { amount: 42, version: '1', caller: 'orders' },
      executedVersion: '1',
      secret: 's3cr3t',
      managedBy: 'deploy',
    });
  });
});
