/**
 * Attack: a CreateDeployment whose AppSpec names what the alias does not hold, on the local endpoint
 * through the real SDK. The local CodeDeploy applied each step of the shift to the alias unchecked: an
 * AppSpec could point `live` at `$LATEST` (code no version was ever published for) or at a version that
 * does not exist, make an alias the function never had, or name a CurrentVersion the alias was not on,
 * so that the canary step put 90% of the traffic on that old version and a rollback left all of it
 * there. Lambda refuses each of those alias updates, and CodeDeploy fails such a deployment
 * (`INVALID_LAMBDA_FUNCTION`, `INVALID_LAMBDA_CONFIGURATION` in the CodeDeploy API Reference's
 * ErrorInformation codes). Now the deployment fails before any hook runs or any traffic moves, naming
 * the value, and the alias stays as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetDeploymentCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, ListAliasesCommand } from '@aws-sdk/client-lambda';
import { TestRegistry } from '../integration/local-endpoint-fixture';
import { startLocalCodeDeploy } from './local-codedeploy-fixture';

const FN = 'shop-payments';

function appSpec(props: { Name?: string; Alias?: string; CurrentVersion?: string; TargetVersion?: string }): string {
  const p = { Name: FN, Alias: 'live', CurrentVersion: '1', TargetVersion: '2', ...props };
  return JSON.stringify({
    version: 0.0,
    Resources: [{ payments: { Type: 'AWS::Lambda::Function', Properties: p } }],
  });
}

describe('attack: a deployment whose AppSpec names what the alias does not hold', () => {
  const registry = new TestRegistry();
  let local: Awaited<ReturnType<typeof startLocalCodeDeploy>>;

  before(async () => {
    for (const v of ['1', '2', '3']) {
      registry.add(FN, async () => ({ version: v }));
      registry.publishVersion(FN);
    }
    registry.setCode(FN, async () => ({ version: 'unpublished' }));
    registry.createAlias(FN, 'live', { FunctionVersion: '1' });
    // A 30-minute canary: a deployment that moves traffic stays at 10% until it is stopped.
    local = await startLocalCodeDeploy(
      registry,
      {
        configName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
        autoRollbackEvents: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
      { invokeHook: async () => assert.fail('no AppSpec here names a hook') },
    );
  });

  after(() => local.close());

  /** Deploys this AppSpec; returns the deployment once it moved traffic or ended, then stops it if it runs on. */
  async function deploy(content: string) {
    const { engine, codeDeploy, lambda } = local;
    const deploymentId = await local.create(content);
    await engine.untilTraffic(deploymentId);
    const { deploymentInfo } = await codeDeploy.send(new GetDeploymentCommand({ deploymentId }));
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: FN }));
    if (deploymentInfo?.status === 'InProgress') {
      await codeDeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: false }));
      await engine.untilDone(deploymentId);
    }
    // What a hostile run left is put back, so each case starts from `live` on version 1 alone.
    registry.putAlias(FN, 'live', { FunctionVersion: '1' });
    for (const a of aliases.Aliases ?? []) if (a.Name !== 'live') registry.deleteAlias(FN, a.Name!);
    return { deployment: deploymentInfo!, alias, aliases: (aliases.Aliases ?? []).map((a) => a.Name) };
  }

  const cases: { what: string; spec: Parameters<typeof appSpec>[0]; code: string; names: RegExp }[] = [
    {
      what: 'TargetVersion $LATEST: code no version was published for',
      spec: { TargetVersion: '$LATEST' },
      code: 'INVALID_LAMBDA_CONFIGURATION',
      names: /TargetVersion \$LATEST .*published versions of shop-payments: 1, 2, 3/,
    },
    {
      what: 'TargetVersion 99: a version never published',
      spec: { TargetVersion: '99' },
      code: 'INVALID_LAMBDA_CONFIGURATION',
      names: /TargetVersion 99 /,
    },
    {
      what: 'an alias the function does not have',
      spec: { Alias: 'shadow' },
      code: 'INVALID_LAMBDA_CONFIGURATION',
      names: /alias shop-payments:shadow does not exist/,
    },
    {
      what: 'a CurrentVersion the alias is not on (the canary would put 90% on it)',
      spec: { CurrentVersion: '3' },
      code: 'INVALID_LAMBDA_CONFIGURATION',
      names: /alias shop-payments:live points to version 1, not to the AppSpec's CurrentVersion 3/,
    },
    {
      what: 'the same version on both sides',
      spec: { TargetVersion: '1' },
      code: 'INVALID_LAMBDA_CONFIGURATION',
      names: /CurrentVersion and TargetVersion are both 1/,
    },
    {
      what: 'a function that does not exist',
      spec: { Name: 'shop-ghost' },
      code: 'INVALID_LAMBDA_FUNCTION',
      names: /function shop-ghost .*does not exist/,
    },
  ];

  for (const c of cases) {
    it(`${c.what}: the deployment fails naming it, and live stays on version 1 alone`, async () => {
      // Act
      const { deployment, alias, aliases } = await deploy(appSpec(c.spec));
      // Assess
      assert.deepEqual(
        { version: alias.FunctionVersion, routing: alias.RoutingConfig?.AdditionalVersionWeights },
        {
          version: '1',
          routing: undefined,
        },
      );
      assert.deepEqual(aliases, ['live'], 'no alias made');
      assert.equal(deployment.status, 'Failed');
      assert.equal(deployment.errorInformation?.code, c.code);
      assert.match(deployment.errorInformation?.message ?? '', c.names);
      assert.equal(deployment.rollbackInfo, undefined, 'nothing moved, nothing to roll back');
    });
  }

  it('a deployment of the alias as it is still moves traffic: 10% to version 2', async () => {
    const { deployment, alias } = await deploy(appSpec({}));
    assert.equal(deployment.status, 'InProgress');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { '2': 0.1 });
    assert.equal(alias.FunctionVersion, '1');
  });
});
