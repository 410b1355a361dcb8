/**
 * The endpoint over the real deployment registry (local/registry/function-registry.ts): the Lambda
 * API the mesh CLI and the runtime use — publish, alias weights, per-request routing with Math.random —
 * driven by the real SDK. The invoker here only reports which version it was asked to run.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  GetAliasCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { type Endpoint, type EndpointInvoker, startEndpoint } from '../../local/endpoint';
import { FunctionRegistry, type FunctionSpec } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';

const spec = (name: string, codeSha256: string): FunctionSpec => ({
  name,
  codeDir: '/nonexistent',
  handler: 'index.handler',
  runtime: 'nodejs20.x',
  timeout: 3,
  memorySize: 128,
  environment: { MESH_NAME: 'demo', MESH_SERVICE: name },
  layerDirs: [],
  codeSha256,
});

describe('local endpoint over the deployment registry', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  const registry = new FunctionRegistry();
  const invoker: EndpointInvoker = {
    async invoke(req) {
      return { payload: JSON.stringify({ ran: req.version }), executedVersion: req.version };
    },
  };

  before(async () => {
    registry.putFunction(spec('payments', 'code-1'));
    endpoint = await startEndpoint({ port: 0, registry, invoker });
    lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    await endpoint.close();
  });

  it('publishes versions as deployments change the code, and routes a live alias by its weights', async () => {
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'payments' }))).Version, '1');
    // Unchanged code: AWS returns the latest version instead of a new one.
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'payments' }))).Version, '1');
    registry.putFunction(spec('payments', 'code-2'));
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'payments' }))).Version, '2');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'payments' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );

    const alias = await lambda.send(
      new CreateAliasCommand({ FunctionName: 'payments', Name: 'live', FunctionVersion: '1' }),
    );
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:payments',
        Name: 'live',
        RevisionId: alias.RevisionId,
        RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } },
      }),
    );
    const seen: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'payments', Qualifier: 'live' }));
      seen[out.ExecutedVersion!] = (seen[out.ExecutedVersion!] ?? 0) + 1;
    }
    // Math.random here: Binomial(400, 0.5) has sd 10, so 150..250 (5 sd) fails only when the split is broken.
    assert.equal(seen['1'] + seen['2'], 400);
    assert.ok(seen['2'] > 150 && seen['2'] < 250, `version 2 ran ${seen['2']} of 400 times`);

    // Promote: all traffic to 2, weights cleared.
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'payments',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    const promoted = await lambda.send(new GetAliasCommand({ FunctionName: 'payments', Name: 'live' }));
    assert.equal(promoted.FunctionVersion, '2');
    assert.equal(promoted.RoutingConfig, undefined);
    for (let i = 0; i < 20; i++) {
      assert.equal((await lambda.send(new InvokeCommand({ FunctionName: 'payments:live' }))).ExecutedVersion, '2');
    }
  });

  it('refuses routing AWS refuses, before the registry sees it', async () => {
    await assert.rejects(
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { 1: 0.3, 3: 0.1 } },
        }),
      ),
      { name: 'InvalidParameterValueException' },
    );
    await assert.rejects(
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { 3: 0.1 } },
        }),
      ),
      // AWS API reference, "UpdateAlias": a version that was never published is not found (404).
      { name: 'ResourceNotFoundException' },
    );
    assert.equal(
      (await lambda.send(new GetAliasCommand({ FunctionName: 'payments', Name: 'live' }))).RoutingConfig,
      undefined,
    );
  });

  it('lists functions with the mesh env vars tools discover them by', async () => {
    const out = await lambda.send(new ListFunctionsCommand({}));
    assert.deepEqual(
      out.Functions?.map((f) => [f.FunctionName, f.Environment?.Variables?.MESH_SERVICE]),
      [['payments', 'payments']],
    );
  });
});
