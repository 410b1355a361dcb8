/**
 * IAM's role policy reads on the local endpoint, through the real @aws-sdk/client-iam (query protocol,
 * XML answers): what a deployment declared is read back as IAM would answer it; a missing role or
 * policy is IAM's NoSuchEntity; an operation IAM has and the endpoint does not speak names itself.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { type Endpoint, RolePolicies, startEndpoint } from '../../local/endpoint';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';

describe('local endpoint: IAM role policies', () => {
  let ep: Endpoint;
  let iam: IAMClient;
  const store = new RolePolicies();
  const doc = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:1:function:a:*' },
    ],
  };

  before(async () => {
    store.put('orders-role', 'DefaultPolicy', doc);
    store.addRole('bare-role');
    ep = await startEndpoint({
      port: 0,
      host: '127.0.0.1',
      registry: new FunctionRegistry(),
      invoker: { invoke: async () => Promise.reject(new Error('no functions here')) },
      iam: store,
      log: () => undefined,
    });
    iam = new IAMClient(loopbackClientConfig(ep.url));
  });
  after(async () => {
    iam?.destroy();
    await ep?.close();
  });

  it('lists a role’s inline policies and returns each document as IAM does (URL-encoded)', async () => {
    const names = await iam.send(new ListRolePoliciesCommand({ RoleName: 'orders-role' }));
    assert.deepEqual(names.PolicyNames, ['DefaultPolicy']);
    assert.equal(names.IsTruncated, false);
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'orders-role', PolicyName: 'DefaultPolicy' }));
    assert.equal(got.RoleName, 'orders-role');
    assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), doc);
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'bare-role' }))).PolicyNames, []);
  });

  it('answers NoSuchEntity for a role or policy that is not there, and names an operation it does not speak', async () => {
    await assert.rejects(iam.send(new ListRolePoliciesCommand({ RoleName: 'nope' })), (e: Error) => {
      assert.equal(e.name, 'NoSuchEntityException');
      assert.match(e.message, /The role with name nope cannot be found/);
      return true;
    });
    await assert.rejects(
      iam.send(new GetRolePolicyCommand({ RoleName: 'orders-role', PolicyName: 'Other' })),
      (e: Error) => e.name === 'NoSuchEntityException' && /Other cannot be found/.test(e.message),
    );
    await assert.rejects(iam.send(new ListRolesCommand({})), (e: Error) => /iam\.ListRoles/.test(e.message));
  });
});
