/**
 * Each sandbox signs as its execution role's session (GIVEN a function with a role, WHEN the invoker
 * builds its environment, THEN): its key id maps back to the function and role, as Lambda names the
 * caller (`arn:aws:sts::<account>:assumed-role/<role>/<function>`); any other key maps to no sandbox.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { FunctionRegistry, type FunctionSpec } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';

const codeDir = mkdtempSync(join(tmpdir(), 'lambda-mesh-credentials-'));
after(() => rmSync(codeDir, { recursive: true, force: true }));

const spec = (name: string, role?: string): FunctionSpec => ({
  name,
  codeDir,
  handler: 'index.handler',
  runtime: 'nodejs20.x',
  timeout: 3,
  memorySize: 128,
  environment: {},
  layerDirs: [],
  codeSha256: 'c1',
  ...(role ? { role } : {}),
});

describe('sandbox credentials', () => {
  it("gives each function its role's session, and maps its key back to it", async () => {
    const credentials = new SandboxCredentials();
    const invoker = new LocalInvoker({ registry: new FunctionRegistry(), credentials, nodePath: [] });
    try {
      const role = 'arn:aws:iam::000000000000:role/OrdersServiceRole';
      const env = invoker.environment(spec('shop-orders', role), '1');
      assert.match(env.AWS_ACCESS_KEY_ID!, /^ASIA[A-Z2-7]{16}$/);
      assert.ok(env.AWS_SESSION_TOKEN && env.AWS_SECRET_ACCESS_KEY);
      assert.deepEqual(credentials.principalOf(env.AWS_ACCESS_KEY_ID), {
        functionName: 'shop-orders',
        roleName: 'OrdersServiceRole',
        roleArn: role,
        accountId: '000000000000',
        arn: 'arn:aws:sts::000000000000:assumed-role/OrdersServiceRole/shop-orders',
      });
      const other = invoker.environment(spec('shop-payments', role), '1');
      assert.notEqual(other.AWS_ACCESS_KEY_ID, env.AWS_ACCESS_KEY_ID, 'one key per function');
      assert.equal(credentials.principalOf('test'), undefined, "the operator's key is no sandbox's");
    } finally {
      await invoker.stop();
    }
  });

  it('a function without a role signs with the shared test key, which maps to no sandbox', async () => {
    const credentials = new SandboxCredentials();
    const invoker = new LocalInvoker({ registry: new FunctionRegistry(), credentials, nodePath: [] });
    try {
      assert.equal(invoker.environment(spec('bare'), '1').AWS_ACCESS_KEY_ID, 'test');
    } finally {
      await invoker.stop();
    }
  });
});
