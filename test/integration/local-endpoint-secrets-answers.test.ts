/**
 * Secrets Manager's answers field for field, as AWS writes them, through the real
 * @aws-sdk/client-secrets-manager: DescribeSecret and ListSecrets leave out what a secret does not have
 * (RotationEnabled before rotation was ever turned on, the stage map of a secret without a value), and
 * refusals read word for word as AWS's.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type Endpoint, SecretStore } from '../../local/endpoint';
import { startSecretsEndpoint, type TestRegistry } from './local-endpoint-fixture';

/** The fields an SDK output carries, sorted, without the SDK's own metadata. */
function fields(output: object): string[] {
  return Object.keys(output)
    .filter((k) => k !== '$metadata')
    .sort();
}

describe('local endpoint: Secrets Manager answers as AWS writes them', () => {
  let endpoint: Endpoint;
  let sm: SecretsManagerClient;
  let registry: TestRegistry;

  before(async () => {
    ({ endpoint, sm, registry } = await startSecretsEndpoint(new SecretStore()));
    registry.add('rotator', () => null);
  });
  after(async () => {
    sm.destroy();
    await endpoint.close();
  });

  it('DescribeSecret of a secret never rotated: no RotationEnabled', async () => {
    // Prepare
    await sm.send(new CreateSecretCommand({ Name: 'plain', SecretString: 'v' }));

    // Act
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'plain' }));
    const list = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['plain'] }] }));

    // Assess
    assert.deepEqual(fields(d), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
    assert.deepEqual(fields(list.SecretList?.[0] ?? {}), [
      'ARN',
      'CreatedDate',
      'LastChangedDate',
      'Name',
      'SecretVersionsToStages',
    ]);
  });

  it('DescribeSecret of a secret created without a value: no stage map', async () => {
    // Prepare
    await sm.send(new CreateSecretCommand({ Name: 'empty' }));

    // Act
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'empty' }));

    // Assess
    assert.deepEqual(fields(d), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);
  });

  it('RotationEnabled is true once rotation is on, false once cancelled', async () => {
    // Prepare
    await sm.send(new CreateSecretCommand({ Name: 'rotated', SecretString: 'v' }));

    // Act
    await sm.send(
      new RotateSecretCommand({
        SecretId: 'rotated',
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotator',
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    const on = await sm.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    await sm.send(new CancelRotateSecretCommand({ SecretId: 'rotated' }));
    const off = await sm.send(new DescribeSecretCommand({ SecretId: 'rotated' }));

    // Assess
    assert.equal(on.RotationEnabled, true);
    assert.equal(off.RotationEnabled, false);
    // Never rotated: the schedule counts from the creation. Rotation off: neither date (API reference,
    // DescribeSecret: null for a secret whose rotation is off).
    assert.equal(on.NextRotationDate?.getTime(), on.CreatedDate!.getTime() + 30 * 86_400_000);
    assert.equal(off.NextRotationDate, undefined);
    assert.equal(off.LastRotatedDate, undefined);
  });

  it('refuses in AWS’s words: no rotation function, a stage not on the version named', async () => {
    // Prepare
    const created = await sm.send(new CreateSecretCommand({ Name: 'refusals', SecretString: 'v' }));

    // Act
    const noFunction = sm.send(new RotateSecretCommand({ SecretId: 'refusals' }));
    const mismatch = sm.send(
      new GetSecretValueCommand({ SecretId: 'refusals', VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' }),
    );

    // Assess
    await assert.rejects(noFunction, {
      name: 'InvalidRequestException',
      message: 'No Lambda rotation function ARN is associated with this secret.',
    });
    await assert.rejects(mismatch, {
      name: 'InvalidRequestException',
      message: 'You provided a VersionStage that is not associated to the provided VersionId.',
    });
  });
});
