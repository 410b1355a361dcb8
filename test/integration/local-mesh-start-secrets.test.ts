/**
 * Applying an assembly over secrets that already exist: a secret with no current value (created
 * without one, as a rotation placeholder leaves it) is given the template's value instead of being
 * created again (which the store refuses with ResourceExistsException). A rotation schedule Secrets
 * Manager refuses fails the deployment naming the schedule, the secret and the rotation function.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import { SecretStore } from '../../local/endpoint/secret-store';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { oneStackAssembly } from '../support/one-stack-assembly';
import { startSecretsEndpoint } from './local-endpoint-fixture';

function assembly(secretString: string): string {
  return oneStackAssembly('deploy-secrets', {
    Sec: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/secret', SecretString: secretString } },
  });
}

describe('deployment of secrets', () => {
  it('puts the value into an existing secret that has no current value, and updates a changed literal', async () => {
    const secrets = new SecretStore();
    secrets.create({ name: 'app/secret' }); // exists, no AWSCURRENT value
    assert.throws(() => secrets.get('app/secret'));
    const work = mkdtempSync(join(tmpdir(), 'deploy-secrets-work-'));
    const dirs = [assembly('v1'), assembly('v2')];
    try {
      const targets = { registry: new FunctionRegistry(), secrets, workDir: work, log: () => undefined };
      const state = newDeploymentState();
      const r1 = await applyAssembly(dirs[0]!, targets, state);
      assert.deepEqual(r1.secrets, ['app/secret']);
      assert.equal(secrets.get('app/secret').secretString, 'v1');
      await applyAssembly(dirs[1]!, targets, state);
      assert.equal(secrets.get('app/secret').secretString, 'v2');
    } finally {
      for (const d of [...dirs, work]) rmSync(d, { recursive: true, force: true });
    }
  });

  it('fails on a rotation schedule whose function is not there, naming the schedule, secret and function', async () => {
    const secrets = new SecretStore();
    const { endpoint, sm, registry } = await startSecretsEndpoint(secrets);
    const missing = 'arn:aws:lambda:us-east-1:000000000000:function:no-such-rotator';
    const dir = oneStackAssembly('deploy-rotation', {
      Sec: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/rotated', SecretString: 'v1' } },
      Schedule: {
        Type: 'AWS::SecretsManager::RotationSchedule',
        Properties: {
          SecretId: 'app/rotated',
          RotationLambdaARN: missing,
          RotationRules: { AutomaticallyAfterDays: 7 },
        },
      },
    });
    const work = mkdtempSync(join(tmpdir(), 'deploy-rotation-work-'));
    try {
      const rotate = async (i: { secretId: string; rotationLambdaArn: string }) => {
        await sm.send(new RotateSecretCommand({ SecretId: i.secretId, RotationLambdaARN: i.rotationLambdaArn }));
      };
      const targets = { registry, secrets, workDir: work, log: () => undefined, rotate };
      await assert.rejects(applyAssembly(dir, targets, newDeploymentState()), {
        message: `rotation schedule S/Schedule (secret app/rotated, rotation function ${missing}): Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.`,
      });
    } finally {
      sm.destroy();
      await endpoint.close();
      for (const d of [dir, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
