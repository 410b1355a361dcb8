/**
 * A local CodeDeploy on the local endpoint, over a test registry, for the attacks on deployments: the
 * engine shifting the registry's aliases as the local mesh wires it, one application `shop-mesh` with
 * a group `payments`, and SDK clients for CodeDeploy and Lambda on 127.0.0.1.
 */
import { CodeDeployClient, CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { registryAliasShift } from '../../local/codedeploy/alias-shift';
import { handleCodeDeploy } from '../../local/codedeploy/codedeploy-api';
import { type CodeDeployDeps, CodeDeployEngine } from '../../local/codedeploy/codedeploy-engine';
import { startEndpoint } from '../../local/endpoint';
import type { JsonService } from '../../local/endpoint/server';
import { TestInvoker, type TestRegistry } from '../integration/local-endpoint-fixture';
import { loopbackClientConfig } from '../support/loopback-client';

const WHERE = { region: 'us-east-1', accountId: '000000000000' };

export async function startLocalCodeDeploy(
  registry: TestRegistry,
  group: { configName: string; autoRollbackEvents: string[] },
  deps: Pick<CodeDeployDeps, 'invokeHook'>,
  /** Sees each CodeDeploy operation before the endpoint answers it; what it throws is the answer. */
  intercept: (op: string) => void = () => undefined,
) {
  const invoker = new TestInvoker(registry);
  const engine = new CodeDeployEngine({ ...registryAliasShift(registry), ...deps, alarmState: () => undefined });
  engine.putApplication('shop-mesh');
  engine.putDeploymentGroup({
    applicationName: 'shop-mesh',
    name: 'payments',
    alarms: [],
    alarmsEnabled: false,
    ignorePollAlarmFailure: false,
    ...group,
  });
  const cd: JsonService = {
    protocol: 'awsJson1_1',
    handle: (op, input, region) => {
      intercept(op);
      return handleCodeDeploy(engine, op, input, { ...WHERE, region });
    },
  };
  const endpoint = await startEndpoint({ port: 0, registry, invoker, jsonServices: { codedeploy: cd } });
  const codeDeploy = new CodeDeployClient(loopbackClientConfig(endpoint.url));
  const lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  return {
    engine,
    invoker,
    url: endpoint.url,
    region: WHERE.region,
    codeDeploy,
    lambda,
    /** CreateDeployment of the group `payments` with this AppSpec; the deployment's id. */
    create: async (content: string) => {
      const { deploymentId } = await codeDeploy.send(
        new CreateDeploymentCommand({
          applicationName: 'shop-mesh',
          deploymentGroupName: 'payments',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
        }),
      );
      return deploymentId!;
    },
    close: async () => {
      await engine.close();
      codeDeploy.destroy();
      lambda.destroy();
      await endpoint.close();
    },
  };
}
