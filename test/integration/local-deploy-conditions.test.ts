/**
 * The local mesh deploys a synthesized CDK app with a CfnParameter default, CfnConditions, CfnMappings
 * and conditioned resources (test/support/conditions-app) as CloudFormation would in the mesh's region
 * (us-east-1): what a false condition leaves out does not exist, Fn::If picks, AWS::NoValue removes a
 * variable, Fn::FindInMap reads the mapping. Seen through the real AWS SDK on the local endpoint; and
 * a redeploy whose condition turns false deletes what it had created.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetFunctionConfigurationCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import { SecretStore } from '../../local/endpoint/secret-store';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { clientConfig, conditionsAssembly } from '../support/example-assembly';

describe('a CDK app with conditions, mappings and a parameter, on the local mesh', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let sqs: SQSClient;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [conditionsAssembly()], port: 0, quiet: true });
    lambda = new LambdaClient(clientConfig(mesh.url));
    sqs = new SQSClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    sqs?.destroy();
    await mesh?.stop();
  });

  it('gives the function the environment its Fn::If, AWS::NoValue and Fn::FindInMap resolve to', async () => {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'cnd-report' }));
    assert.deepEqual(config.Environment?.Variables, {
      STAGE: 'dev',
      TIER: 'primary',
      REGION_KIND: 'elsewhere',
      WEBSITE_ENDPOINT: 's3-website-us-east-1.amazonaws.com',
    });
  });

  it('creates no function and no queue whose condition is false, and those whose condition is true', async () => {
    const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
    const names = Functions.map((f) => f.FunctionName);
    assert.ok(names.includes('cnd-report'), names.join(', '));
    assert.ok(!names.includes('cnd-eu-only'), names.join(', '));
    const home = await sqs.send(new GetQueueUrlCommand({ QueueName: 'cnd-home-audit' }));
    assert.match(home.QueueUrl ?? '', /cnd-home-audit$/);
    await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'cnd-eu-audit' })), (e: Error) => {
      assert.match(e.name, /QueueDoesNotExist/);
      return true;
    });
  });
});

describe('a redeploy whose condition turns false', () => {
  /** A one-stack assembly whose secret exists only when the Stage parameter's default is `stage`. */
  const assembly = (stage: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'conditions-redeploy-'));
    const artifacts = { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts }));
    const template = {
      Parameters: { Stage: { Type: 'String', Default: stage } },
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
      Resources: {
        Audit: { Type: 'AWS::SecretsManager::Secret', Condition: 'IsProd', Properties: { Name: 'audit-key' } },
      },
    };
    writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
    return dir;
  };

  it('deletes the resource it had created, as CloudFormation deletes it', async () => {
    const [prod, dev] = [assembly('prod'), assembly('dev')];
    const work = mkdtempSync(join(tmpdir(), 'conditions-redeploy-work-'));
    try {
      const secrets = new SecretStore();
      const targets = { registry: new FunctionRegistry(), secrets, workDir: work, log: () => undefined };
      const state = newDeploymentState();
      await applyAssembly(prod, targets, state);
      assert.equal(secrets.has('audit-key'), true);
      const report = await applyAssembly(dev, targets, state);
      assert.deepEqual(report.deleted, ['S/Audit']);
      assert.equal(secrets.has('audit-key'), false);
    } finally {
      for (const d of [prod, dev, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
