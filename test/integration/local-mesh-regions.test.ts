/**
 * The local mesh serves the account and regions the assembly's stacks name: a stack per region in one
 * app deploys each stack's function and secret into its own region; Lambda and Secrets Manager answer
 * per region (the SigV4 region of each request), workers run in their function's region, and ARNs of
 * another region or account are refused as Lambda refuses them (AWS API reference, "Invoke").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { regionsAssembly } from '../support/example-assembly';
import { zipFiles } from '../support/zip-writer';

const ACCOUNT = '111122223333';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('local mesh: a stack per region, one account', () => {
  let mesh: LocalMesh;
  const lambda = new Map<string, LambdaClient>();
  const sm = new Map<string, SecretsManagerClient>();
  const clients = (region: string) => {
    const config = { endpoint: mesh.url, region, credentials, maxAttempts: 1 };
    if (!lambda.has(region)) lambda.set(region, new LambdaClient(config));
    if (!sm.has(region)) sm.set(region, new SecretsManagerClient(config));
    return { lambda: lambda.get(region)!, sm: sm.get(region)! };
  };
  const invoke = async (region: string, FunctionName: string) => {
    const out = await clients(region).lambda.send(new InvokeCommand({ FunctionName }));
    return JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'));
  };

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [regionsAssembly()], port: 0, quiet: true });
  });
  after(async () => {
    for (const c of [...lambda.values(), ...sm.values()]) c.destroy();
    await mesh?.stop();
  });

  it('serves the account and the regions the stacks name', () => {
    assert.equal(mesh.regions.accountId, ACCOUNT);
    assert.deepEqual(mesh.regions.regions(), ['us-east-1', 'eu-west-1']);
  });

  it('runs each region’s function in its region, under its region’s ARN', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const out = await invoke(region, 'where');
      assert.equal(out.region, region);
      assert.equal(out.arn, `arn:aws:lambda:${region}:${ACCOUNT}:function:where`);
      assert.match(out.secret, new RegExp(`^arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:regions/greeting-`));
      const listed = await clients(region).lambda.send(new ListFunctionsCommand({}));
      assert.deepEqual(
        listed.Functions?.map((f) => f.FunctionArn),
        [`arn:aws:lambda:${region}:${ACCOUNT}:function:where`],
      );
    }
    // A region the stacks never named answers as an empty AWS region does.
    assert.deepEqual((await clients('ap-south-1').lambda.send(new ListFunctionsCommand({}))).Functions, []);
  });

  it('keeps each region’s secrets apart, and reads a secret ARN in its own region', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const list = await clients(region).sm.send(new ListSecretsCommand({}));
      assert.deepEqual(
        list.SecretList?.map((s) => s.Name),
        ['regions/greeting'],
      );
      const v = await clients(region).sm.send(new GetSecretValueCommand({ SecretId: 'regions/greeting' }));
      assert.equal(v.SecretString, `hello from ${region}`);
    }
    const euArn = (await invoke('eu-west-1', 'where')).secret as string;
    const viaArn = await clients('us-east-1').sm.send(new GetSecretValueCommand({ SecretId: euArn }));
    assert.equal(viaArn.SecretString, 'hello from eu-west-1');
  });

  // AWS API reference, "UpdateFunctionCode": the new package runs once the update is Successful.
  it('runs code installed with UpdateFunctionCode in one region, the other region untouched', async () => {
    const { lambda: eu } = clients('eu-west-1');
    const zip = zipFiles({ 'index.js': 'exports.handler = async () => ({ updated: process.env.AWS_REGION });\n' });
    const out = await eu.send(new UpdateFunctionCodeCommand({ FunctionName: 'where', ZipFile: zip }));
    assert.equal(out.LastUpdateStatus, 'InProgress');
    const waited = await waitUntilFunctionUpdatedV2(
      { client: eu, maxWaitTime: 60, minDelay: 1 },
      { FunctionName: 'where' },
    );
    assert.equal(waited.state, 'SUCCESS');
    assert.deepEqual(await invoke('eu-west-1', 'where'), { updated: 'eu-west-1' });
    assert.equal((await invoke('us-east-1', 'where')).region, 'us-east-1');
  });

  it('refuses a function ARN of another region (404) or another account (403)', async () => {
    await assert.rejects(
      clients('us-east-1').lambda.send(
        new InvokeCommand({ FunctionName: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:where` }),
      ),
      {
        name: 'ResourceNotFoundException',
        message: "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
      },
    );
    await assert.rejects(
      clients('us-east-1').lambda.send(
        new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:where' }),
      ),
      { name: 'AccessDeniedException' },
    );
  });
});
