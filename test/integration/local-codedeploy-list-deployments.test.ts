/**
 * ListDeployments through the real SDK as the CodeDeploy API Reference describes it: a create time
 * range, statuses, the application and group named together, and pages with a nextToken.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CodeDeployClient,
  type DeploymentStatus,
  ListDeploymentsCommand,
  type ListDeploymentsCommandInput,
  paginateListDeployments,
} from '@aws-sdk/client-codedeploy';
import { handleCodeDeploy } from '../../local/codedeploy/codedeploy-api';
import { CodeDeployEngine } from '../../local/codedeploy/codedeploy-engine';
import { DEPLOYMENTS_PER_PAGE } from '../../local/codedeploy/deployment-list';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 1, 3, 4, 0);

describe('ListDeployments through the SDK', () => {
  let endpoint: Endpoint;
  let codeDeploy: CodeDeployClient;
  let clock = T0;
  const engine = new CodeDeployEngine({
    setAlias: () => {},
    invokeHook: async () => ({}),
    alarmState: () => undefined,
    now: () => clock,
    sleep: async () => {},
  });
  const ids: string[] = [];

  /** One all-at-once deployment of the group at `at`, run to its end. */
  async function deployAt(at: number, group = 'payments'): Promise<string> {
    clock = at;
    const appSpec = {
      functionName: `shop-${group}`,
      alias: 'live',
      currentVersion: '1',
      targetVersion: '2',
      hooks: {},
    };
    const d = engine.create({ applicationName: 'shop-mesh', groupName: group, appSpec });
    await engine.untilDone(d.id);
    return d.id;
  }

  before(async () => {
    engine.putApplication('shop-mesh');
    for (const name of ['payments', 'orders']) {
      engine.putDeploymentGroup({
        applicationName: 'shop-mesh',
        name,
        configName: 'CodeDeployDefault.LambdaAllAtOnce',
        alarms: [],
        alarmsEnabled: false,
        ignorePollAlarmFailure: false,
        autoRollbackEvents: [],
      });
    }
    for (let i = 0; i < 3; i++) ids.push(await deployAt(T0 + i * HOUR));
    await deployAt(T0 + 10 * HOUR, 'orders');
    const registry = new TestRegistry();
    endpoint = await startEndpoint({
      port: 0,
      registry,
      invoker: new TestInvoker(registry),
      jsonServices: {
        codedeploy: {
          protocol: 'awsJson1_1',
          handle: (op, input, region) => handleCodeDeploy(engine, op, input, { region, accountId: '000000000000' }),
        },
      },
    });
    codeDeploy = new CodeDeployClient(loopbackClientConfig(endpoint.url));
  });

  after(async () => {
    await engine.close();
    codeDeploy.destroy();
    await endpoint.close();
  });

  const group = { applicationName: 'shop-mesh', deploymentGroupName: 'payments' };
  const list = async (input: ListDeploymentsCommandInput) =>
    (await codeDeploy.send(new ListDeploymentsCommand(input))).deployments;

  it('createTimeRange keeps the deployments created within it, both ends included, either end optional', async () => {
    const [first, second, third] = ids;
    const at = (h: number) => new Date(T0 + h * HOUR);
    assert.deepEqual(await list({ ...group, createTimeRange: { start: at(1), end: at(2) } }), [third, second]);
    assert.deepEqual(await list({ ...group, createTimeRange: { start: at(1.5) } }), [third]);
    assert.deepEqual(await list({ ...group, createTimeRange: { end: at(0.5) } }), [first]);
    assert.deepEqual(await list({ ...group, createTimeRange: { start: at(5), end: at(6) } }), []);
    const reversed = await rejection(() => list({ ...group, createTimeRange: { start: at(2), end: at(1) } }));
    assert.equal(reversed.name, 'InvalidTimeRangeException');
    assert.match(reversed.message, /starts \(2026-02-03T06:00:00.000Z\) after it ends \(2026-02-03T05:00:00.000Z\)/);
  });

  it('names the application and the group together or not at all; statuses must be deployment statuses', async () => {
    assert.equal((await list({}))?.length, 4, 'no names: every deployment');
    assert.deepEqual(await list({ ...group, includeOnlyStatuses: ['Succeeded'] }), [...ids].reverse());
    assert.deepEqual(await list({ ...group, includeOnlyStatuses: ['Stopped', 'Queued'] }), []);
    const alone = await rejection(() => list({ applicationName: 'shop-mesh' }));
    assert.equal(alone.name, 'DeploymentGroupNameRequiredException');
    const groupAlone = await rejection(() => list({ deploymentGroupName: 'payments' }));
    assert.equal(groupAlone.name, 'ApplicationNameRequiredException');
    const status = await rejection(() => list({ ...group, includeOnlyStatuses: ['Succeded' as DeploymentStatus] }));
    assert.equal(status.name, 'InvalidDeploymentStatusException');
    assert.match(status.message, /"Succeded", which is no deployment status/);
    assert.deepEqual(await list({ ...group, externalId: 'stack-1' }), [], 'no local deployment has an external id');
  });

  it(`pages past ${DEPLOYMENTS_PER_PAGE} deployments with a nextToken the paginator follows; refuses a made-up token`, async () => {
    for (let i = 0; i < DEPLOYMENTS_PER_PAGE; i++) await deployAt(T0 + 20 * HOUR + i * 60_000, 'orders');
    const first = await codeDeploy.send(
      new ListDeploymentsCommand({ applicationName: 'shop-mesh', deploymentGroupName: 'orders' }),
    );
    assert.equal(first.deployments?.length, DEPLOYMENTS_PER_PAGE);
    assert.ok(first.nextToken);
    const pages = [];
    for await (const page of paginateListDeployments(
      { client: codeDeploy },
      { applicationName: 'shop-mesh', deploymentGroupName: 'orders' },
    )) {
      pages.push(page.deployments ?? []);
    }
    assert.deepEqual(
      pages.map((p) => p.length),
      [DEPLOYMENTS_PER_PAGE, 1],
    );
    assert.equal(new Set(pages.flat()).size, DEPLOYMENTS_PER_PAGE + 1);
    const bad = await rejection(() => list({ ...group, nextToken: 'not-a-token' }));
    assert.equal(bad.name, 'InvalidNextTokenException');
  });
});
