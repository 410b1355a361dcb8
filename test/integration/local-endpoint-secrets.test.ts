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
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  paginateListSecrets,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type Endpoint, SecretStore, startEndpoint } from '../../local/endpoint';
import { loopbackClientConfig } from '../support/loopback-client';
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
    sm = new SecretsManagerClient(loopbackClientConfig(endpoint.url));
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

  const rotated = async (secretId: string, before: Date | undefined) => {
    for (let i = 0; i < 500; i++) {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
      if (d.LastRotatedDate && d.LastRotatedDate !== before && d.LastRotatedDate.getTime() !== before?.getTime())
        return d;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`${secretId} did not rotate`);
  };

  // AWS API reference, "RotateSecret" and "PutSecretValue" (staging labels): a finished rotation leaves
  // AWSCURRENT alone on the new version, so a later PutSecretValue leaves no AWSPENDING behind and the
  // next RotateSecret is not refused as "a previous rotation isn't complete".
  it('leaves no AWSPENDING after a rotation, so a PutSecretValue and another rotation go through', async () => {
    const first = await sm.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    const rotatedVersion = Object.entries(first.VersionIdsToStages!).find(([, s]) => s.includes('AWSCURRENT'))![0];
    assert.deepEqual(first.VersionIdsToStages?.[rotatedVersion], ['AWSCURRENT']);
    await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'manual' }));
    const afterPut = await sm.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    assert.deepEqual(afterPut.VersionIdsToStages?.[rotatedVersion], ['AWSPREVIOUS']);
    const again = await sm.send(new RotateSecretCommand({ SecretId: 'rotating' }));
    assert.ok(again.VersionId);
    await rotated('rotating', first.LastRotatedDate);
    const now = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
    assert.equal(now.SecretString, 'manual+rotated');
    assert.deepEqual(now.VersionStages, ['AWSCURRENT']);
    assert.deepEqual(rotationErrors, []);
  });

  // Recorded AWS responses: an invalid name is ValidationException, not "can't find the secret".
  it('answers an invalid secret name with ValidationException, whatever the operation', async () => {
    const message =
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
    for (const command of [
      new GetSecretValueCommand({ SecretId: 'Inv Name' }),
      new DescribeSecretCommand({ SecretId: ' Inv*Name? ' }),
      new PutSecretValueCommand({ SecretId: 'Inv Name', SecretString: 'x' }),
      new UpdateSecretCommand({ SecretId: 'Inv Name', Description: 'd' }),
      new ListSecretVersionIdsCommand({ SecretId: 'Inv Name' }),
      new CreateSecretCommand({ Name: 'Inv Name', SecretString: 'x' }),
    ]) {
      await assert.rejects(
        sm.send(command as never),
        { name: 'ValidationException', message },
        command.constructor.name,
      );
    }
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: 'valid-but-absent' })), {
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  // AWS API reference, "UpdateSecret": a description alone makes no version; a value makes a new
  // AWSCURRENT version (the old one becomes AWSPREVIOUS).
  it('updates a secret’s description and value (UpdateSecret)', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'updatable', SecretString: 'v1' }));
    const described = await sm.send(new UpdateSecretCommand({ SecretId: 'updatable', Description: 'MyDescription' }));
    assert.deepEqual([described.Name, described.VersionId], ['updatable', undefined]);
    const valued = await sm.send(new UpdateSecretCommand({ SecretId: 'updatable', SecretString: 'v2' }));
    assert.ok(valued.VersionId);
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'updatable' }));
    assert.equal(d.Description, 'MyDescription');
    assert.deepEqual(d.VersionIdsToStages, {
      [created.VersionId!]: ['AWSPREVIOUS'],
      [valued.VersionId!]: ['AWSCURRENT'],
    });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'updatable' }))).SecretString, 'v2');
  });

  // AWS API reference, "ListSecretVersionIds": versions with a label; deprecated ones on request.
  it('lists a secret’s versions (ListSecretVersionIds)', async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: 'updatable', SecretString: 'v3' }));
    const out = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'updatable' }));
    assert.equal(out.Name, 'updatable');
    assert.deepEqual(
      out.Versions?.map((v) => v.VersionStages),
      [['AWSPREVIOUS'], ['AWSCURRENT']],
    );
    for (const v of out.Versions ?? []) {
      assert.ok(v.CreatedDate instanceof Date);
      assert.deepEqual(v.KmsKeyIds, ['DefaultEncryptionKey']);
    }
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'updatable', IncludeDeprecated: true }));
    assert.equal(all.Versions?.length, 3);
    await assert.rejects(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'absent' })), {
      name: 'ResourceNotFoundException',
    });
  });

  // The SDK's paginator over ListSecrets (NextToken / MaxResults).
  it('pages ListSecrets with the SDK paginator', async () => {
    const names: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 2 }, {})) {
      assert.ok((page.SecretList ?? []).length <= 2);
      names.push(...(page.SecretList ?? []).map((x) => x.Name!));
    }
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('rotating') && names.includes('updatable') && names.includes('demo/orders/identity'));
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
