/**
 * Attack: a deployment of another version that names the mesh's pre-traffic hook in its AppSpec (a
 * CreateDeployment by hand, say of an old version known to be broken). The hook read the deployment's
 * group only, pinged the version its environment names (the one this deploy published, the only one
 * its role may invoke), found it healthy and reported Succeeded: CodeDeploy then shifted traffic to a
 * version the check never reached, under a verdict naming another. Now the hook reads the deployment's
 * target (ListDeploymentTargets, GetDeploymentTarget: LambdaTarget's function and target version) and
 * fails a deployment whose target is not the version it checks, before it invokes anything.
 *
 * Real parts: the local endpoint's CodeDeploy and Lambda through the SDK, the hook invoked as
 * CodeDeploy invokes it, the versions' invocations counted by the endpoint's invoker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { handler as deployHook } from '../../functions/control/deploy-hook';
import { AwsError } from '../../local/endpoint/errors';
import { PING_KEY } from '../../shared/deploy-check';
import { DEPLOYMENT } from '../../shared/names';
import { TestRegistry } from '../integration/local-endpoint-fixture';
import { startLocalCodeDeploy } from './local-codedeploy-fixture';

const FN = 'shop-payments';
const HOOK = 'shop-pre-traffic-hook';

/** A version that answers the mesh ping as healthy, as a wrapper would. */
const healthy = (version: string) => async () => ({
  [PING_KEY]: { v: 1, service: 'payments', version, ok: true, checks: [{ name: 'identity', ok: true, detail: '' }] },
});

describe('attack: a deployment of another version that names the pre-traffic hook', () => {
  const registry = new TestRegistry();
  const saved = { ...process.env };
  let local: Awaited<ReturnType<typeof startLocalCodeDeploy>>;
  /** Status reports still to refuse as throttled (each of the SDK's attempts counts one). */
  let throttledReports = 0;

  before(async () => {
    for (const v of ['1', '2', '3']) {
      registry.add(FN, healthy(v));
      registry.publishVersion(FN);
    }
    registry.createAlias(FN, 'live', { FunctionVersion: '1' });
    local = await startLocalCodeDeploy(
      registry,
      { configName: 'CodeDeployDefault.LambdaAllAtOnce', autoRollbackEvents: ['DEPLOYMENT_FAILURE'] },
      {
        // As CodeDeploy invokes the hook, asynchronously: Lambda runs it again, twice at most, when it throws.
        invokeHook: async (fn, event) => {
          assert.equal(fn, HOOK);
          for (let attempt = 1; ; attempt++) {
            try {
              return await deployHook(event);
            } catch (err) {
              if (attempt === 3) throw err;
            }
          }
        },
      },
      (op) => {
        if (op !== 'PutLifecycleEventHookExecutionStatus' || throttledReports === 0) return;
        throttledReports--;
        throw new AwsError('ThrottlingException', 400, 'Rate exceeded');
      },
    );
    // The hook's environment: this deploy published version 2 of payments.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: local.url,
      AWS_REGION: local.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      [DEPLOYMENT.checksEnv]: JSON.stringify({ payments: { functionName: FN, version: '2' } }),
    });
  });

  after(async () => {
    await local.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  /** Deploys `live` from version 1 to `to` with the hook in the AppSpec; the deployment once ended. */
  async function deploy(to: string) {
    registry.putAlias(FN, 'live', { FunctionVersion: '1' });
    local.invoker.calls.length = 0;
    const content = JSON.stringify({
      version: 0.0,
      Resources: [
        {
          payments: {
            Type: 'AWS::Lambda::Function',
            Properties: { Name: FN, Alias: 'live', CurrentVersion: '1', TargetVersion: to },
          },
        },
      ],
      Hooks: [{ BeforeAllowTraffic: HOOK }],
    });
    const deploymentId = await local.create(content);
    await local.engine.untilDone(deploymentId);
    const { deploymentInfo } = await local.codeDeploy.send(new GetDeploymentCommand({ deploymentId }));
    const alias = await local.lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    return { deployment: deploymentInfo!, live: alias.FunctionVersion };
  }

  const pinged = () => local.invoker.calls.map((c) => `${c.functionName}:${c.version}`);

  it('a deployment to version 3 fails its check, naming both versions; version 3 gets no traffic', async () => {
    // Act
    const { deployment, live } = await deploy('3');
    // Assess
    assert.equal(live, '1', 'the alias stays where it was');
    assert.equal(deployment.status, 'Failed');
    assert.equal(deployment.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
    assert.match(
      deployment.errorInformation?.message ?? '',
      /deployment d-\w+ shifts shop-payments to version 3, but the check of payments is of shop-payments v2/,
    );
    assert.deepEqual(pinged(), [], 'nothing invoked: the check did not vouch for a version it never reached');
  });

  it('the deployment this deploy made (to version 2) is checked and goes through', async () => {
    const { deployment, live } = await deploy('2');
    assert.equal(deployment.status, 'Succeeded', deployment.errorInformation?.message);
    assert.equal(live, '2');
    assert.deepEqual(pinged(), [`${FN}:2`]);
  });

  it('a hook run whose status report fails is run again by Lambda: it reports its verdict again, the synthetic request is not sent twice', async () => {
    // Prepare: the check sends a synthetic request after the ping; every attempt of the first status report is throttled
    const checks = { payments: { functionName: FN, version: '2', request: { order: 'synthetic-1' } } };
    process.env[DEPLOYMENT.checksEnv] = JSON.stringify(checks);
    throttledReports = 3;
    try {
      // Act
      const { deployment, live } = await deploy('2');
      // Assess
      assert.equal(throttledReports, 0, 'the first run of the hook failed to report');
      assert.equal(deployment.status, 'Succeeded', deployment.errorInformation?.message);
      assert.equal(live, '2');
      assert.deepEqual(pinged(), [`${FN}:2`, `${FN}:2`], 'one ping and one synthetic request, not two of each');
    } finally {
      throttledReports = 0;
      process.env[DEPLOYMENT.checksEnv] = JSON.stringify({ payments: { functionName: FN, version: '2' } });
    }
  });
});
