/**
 * Secrets Manager on the local endpoint with the real @aws-sdk/client-secrets-manager: staging labels
 * (AWSCURRENT / AWSPREVIOUS / AWSPENDING), ClientRequestToken idempotency, the rotation finish step,
 * and AWS's errors.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type Endpoint, SecretStore, startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: Secrets Manager', () => {
  let endpoint: Endpoint;
  let sm: SecretsManagerClient;
  const store = new SecretStore();
  const registry = new TestRegistry();
  const rotationErrors: string[] = [];

  before(async () => {
    // Seeded the way the local mesh does it, before the endpoint starts.
    store.set('demo/orders/identity', { secretString: '{"cert":"seeded"}' });
    endpoint = await startEndpoint({
      port: 0,
      registry,
      invoker: new TestInvoker(registry),
      secrets: store,
      log: (l) => rotationErrors.push(l),
    });
    sm = new SecretsManagerClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    sm.destroy();
    await endpoint.close();
  });

  it('reads a seeded secret by name, ARN and partial ARN', async () => {
    const byName = await sm.send(new GetSecretValueCommand({ SecretId: 'demo/orders/identity' }));
    assert.equal(byName.SecretString, '{"cert":"seeded"}');
    assert.deepEqual(byName.VersionStages, ['AWSCURRENT']);
    assert.ok(byName.CreatedDate instanceof Date);
    assert.match(
      byName.ARN!,
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:demo\/orders\/identity-[A-Za-z0-9]{6}$/,
    );
    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: byName.ARN }));
    assert.equal(byArn.VersionId, byName.VersionId);
    const byPartial = await sm.send(new GetSecretValueCommand({ SecretId: byName.ARN!.slice(0, -7) }));
    assert.equal(byPartial.VersionId, byName.VersionId);
  });

  it('moves AWSCURRENT on put and leaves AWSPREVIOUS behind', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'db', SecretString: 'v1' }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: 'v2' }));
    assert.deepEqual(v2.VersionStages, ['AWSCURRENT']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString, 'v2');
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSPREVIOUS' }));
    assert.equal(previous.SecretString, 'v1');
    assert.equal(previous.VersionId, created.VersionId);
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: 'v3' }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    // v1 lost its last label and drops out of the map, as on AWS.
    assert.deepEqual(d.VersionIdsToStages, { [v2.VersionId!]: ['AWSPREVIOUS'], [v3.VersionId!]: ['AWSCURRENT'] });
  });

  it('runs a rotation: pending version, then finish moves AWSCURRENT', async () => {
    const token = randomUUID();
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'db',
        ClientRequestToken: token,
        SecretString: 'v4',
        VersionStages: ['AWSPENDING'],
      }),
    );
    assert.equal(pending.VersionId, token);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString, 'v3');
    assert.equal(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSPENDING' }))).SecretString,
      'v4',
    );

    const current = (await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).VersionId!;
    // Moving AWSCURRENT without naming where it sits now is refused, like AWS.
    await assert.rejects(
      sm.send(
        new UpdateSecretVersionStageCommand({ SecretId: 'db', VersionStage: 'AWSCURRENT', MoveToVersionId: token }),
      ),
      (e: Error) => e.name === 'InvalidParameterException' && e.message.includes('RemoveFromVersionId'),
    );
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'db',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: current,
      }),
    );
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: 'db', VersionStage: 'AWSPENDING', RemoveFromVersionId: token }),
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    assert.deepEqual(d.VersionIdsToStages, { [current]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSPENDING' })), {
      name: 'ResourceNotFoundException',
    });
  });

  it('treats a repeated ClientRequestToken as a no-op, and a changed value under it as an error', async () => {
    const token = randomUUID();
    const first = await sm.send(
      new PutSecretValueCommand({ SecretId: 'db', ClientRequestToken: token, SecretString: 'v5' }),
    );
    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: 'db', ClientRequestToken: token, SecretString: 'v5' }),
    );
    assert.equal(again.VersionId, first.VersionId);
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSPREVIOUS' }));
    assert.equal(prev.SecretString, 'v4', 'the retry did not move labels again');
    await assert.rejects(
      sm.send(new PutSecretValueCommand({ SecretId: 'db', ClientRequestToken: token, SecretString: 'other' })),
      {
        name: 'ResourceExistsException',
      },
    );
  });

  it('keeps binary secrets as bytes', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    assert.deepEqual(Buffer.from(got.SecretBinary!), Buffer.from(bytes));
    assert.equal(got.SecretString, undefined);
  });

  it('lists secrets with their versions, paginated', async () => {
    const page1 = await sm.send(new ListSecretsCommand({ MaxResults: 2 }));
    assert.equal(page1.SecretList?.length, 2);
    assert.ok(page1.NextToken);
    const page2 = await sm.send(new ListSecretsCommand({ MaxResults: 2, NextToken: page1.NextToken }));
    const names = [...page1.SecretList!, ...page2.SecretList!].map((s) => s.Name);
    assert.deepEqual(names, ['bin', 'db', 'demo/orders/identity']);
    assert.equal(page2.NextToken, undefined);
    assert.ok(page1.SecretList![1].SecretVersionsToStages);
  });

  it('answers AWS’s errors: missing secret, duplicate name, unsupported operation', async () => {
    await assert.rejects(
      sm.send(new GetSecretValueCommand({ SecretId: 'nope' })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'ResourceNotFoundException' &&
        e.message === "Secrets Manager can't find the specified secret." &&
        e.$metadata.httpStatusCode === 400,
    );
    await assert.rejects(sm.send(new CreateSecretCommand({ Name: 'db', SecretString: 'x' })), {
      name: 'ResourceExistsException',
    });
    await assert.rejects(sm.send(new GetRandomPasswordCommand({})), {
      name: 'UnknownOperationException',
      message: 'lambda-mesh local endpoint does not support SecretsManager.GetRandomPassword',
    });
  });

  it('rotates through the rotation function’s four steps (AWS’s rotation template flow)', async () => {
    const steps: string[] = [];
    // The rotation template's logic, talking to the endpoint with the real SDK like a deployed function.
    registry.add('rotator', async (event) => {
      const {
        Step,
        SecretId,
        ClientRequestToken: token,
      } = event as { Step: string; SecretId: string; ClientRequestToken: string };
      steps.push(Step);
      const meta = await sm.send(new DescribeSecretCommand({ SecretId }));
      assert.ok(meta.RotationEnabled);
      assert.ok(
        meta.VersionIdsToStages?.[token]?.includes('AWSPENDING'),
        'RotateSecret opened the version with AWSPENDING',
      );
      if (Step === 'createSecret') {
        await assert.rejects(
          sm.send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' })),
          { name: 'ResourceNotFoundException' },
        );
        const current = await sm.send(new GetSecretValueCommand({ SecretId }));
        await sm.send(
          new PutSecretValueCommand({
            SecretId,
            ClientRequestToken: token,
            SecretString: `${current.SecretString}+rotated`,
            VersionStages: ['AWSPENDING'],
          }),
        );
      } else if (Step === 'finishSecret') {
        const current = Object.entries(meta.VersionIdsToStages!).find(([, stages]) =>
          stages.includes('AWSCURRENT'),
        )![0];
        await sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: token,
            RemoveFromVersionId: current,
          }),
        );
      }
      return null;
    });
    await sm.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'key-1' }));
    const r = await sm.send(
      new RotateSecretCommand({
        SecretId: 'rotating',
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotator',
        RotationRules: { AutomaticallyAfterDays: 7 },
      }),
    );
    assert.ok(r.VersionId);
    for (
      let i = 0;
      i < 200 && !(await sm.send(new DescribeSecretCommand({ SecretId: 'rotating' }))).LastRotatedDate;
      i++
    ) {
      await new Promise((res) => setTimeout(res, 10));
    }
    assert.deepEqual(steps, ['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    const now = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
    assert.equal(now.SecretString, 'key-1+rotated');
    assert.equal(now.VersionId, r.VersionId);
    assert.equal(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }))).SecretString,
      'key-1',
    );
    assert.deepEqual(rotationErrors, []);
  });

  it('refuses RotateSecret without a rotation function, or one that does not exist', async () => {
    await assert.rejects(sm.send(new RotateSecretCommand({ SecretId: 'db' })), { name: 'InvalidRequestException' });
    await assert.rejects(
      sm.send(
        new RotateSecretCommand({
          SecretId: 'db',
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:nope',
        }),
      ),
      {
        name: 'AccessDeniedException',
      },
    );
  });

  it('caps a secret value at 64 KB', async () => {
    await assert.rejects(sm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: 'x'.repeat(65_537) })), {
      name: 'ValidationException',
    });
  });
});
