/**
 * Secrets Manager rotation and deletion on the local endpoint behave as AWS's: RotateSecret answers
 * before the rotation runs (held here until the test releases it); a failed rotation leaves the labels
 * where they were (AWSPENDING on a version that is not current), the next RotateSecret is refused and
 * that rotation retried; RotateImmediately=false only runs testSecret on a version that then goes;
 * DeleteSecret keeps the name in a recovery window unless forced. Real SDK on the wire.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type Endpoint, SecretStore } from '../../local/endpoint';
import { startSecretsEndpoint, TestRegistry } from './local-endpoint-fixture';

const ROTATOR = 'arn:aws:lambda:us-east-1:000000000000:function:rotator';

describe('local endpoint: asynchronous rotation, failed rotations, deletion', () => {
  const held: (() => Promise<void>)[] = [];
  const store = new SecretStore({ rotationScheduler: (run) => held.push(run) });
  const registry = new TestRegistry();
  const steps: string[] = [];
  let failCreate = 0;
  let endpoint: Endpoint;
  let sm: SecretsManagerClient;
  const releaseAll = async () => {
    while (held.length > 0) await held.shift()!();
  };
  const stages = async (id: string) =>
    (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};

  before(async () => {
    ({ endpoint, sm } = await startSecretsEndpoint(store, registry));
    // A minimal rotation function: createSecret puts `<current>+r`, finishSecret moves AWSCURRENT.
    registry.add('rotator', async (event) => {
      const { Step, SecretId, ClientRequestToken: token } = event as Record<string, string>;
      steps.push(`${Step} ${token!.slice(0, 8)}`);
      if (Step === 'createSecret') {
        if (failCreate > 0) {
          failCreate--;
          throw new Error('createSecret failed on purpose');
        }
        const current = await sm.send(new GetSecretValueCommand({ SecretId }));
        await sm.send(
          new PutSecretValueCommand({
            SecretId,
            ClientRequestToken: token,
            SecretString: `${current.SecretString}+r`,
            VersionStages: ['AWSPENDING'],
          }),
        );
      } else if (Step === 'finishSecret') {
        const now = Object.entries(await stages(SecretId!)).find(([, s]) => s.includes('AWSCURRENT'))![0];
        await sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: token,
            RemoveFromVersionId: now,
          }),
        );
      }
      return null;
    });
  });
  after(async () => {
    sm.destroy();
    await endpoint.close();
  });

  it('answers RotateSecret before the rotation runs; the rotation runs when released', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'k', SecretString: 'v1' }));
    const { VersionId } = await sm.send(new RotateSecretCommand({ SecretId: 'k', RotationLambdaARN: ROTATOR }));
    assert.deepEqual(steps, [], 'nothing ran yet');
    assert.deepEqual((await stages('k'))[VersionId!], ['AWSPENDING'], 'the new version is open, empty');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'k' }))).SecretString, 'v1');
    await releaseAll();
    assert.equal(steps.length, 4);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'k' }))).SecretString, 'v1+r');
  });

  it('a failed rotation leaves AWSPENDING on the empty version; the next RotateSecret is refused and retries it', async () => {
    steps.length = 0;
    failCreate = 1;
    const first = await sm.send(new RotateSecretCommand({ SecretId: 'k' }));
    await releaseAll();
    assert.deepEqual(steps, [`createSecret ${first.VersionId!.slice(0, 8)}`]);
    assert.deepEqual((await stages('k'))[first.VersionId!], ['AWSPENDING'], 'labels stay as the failure left them');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'k' }))).SecretString, 'v1+r', 'current intact');

    await assert.rejects(sm.send(new RotateSecretCommand({ SecretId: 'k' })), {
      name: 'InvalidRequestException',
      message: /A previous rotation isn't complete. That rotation will be reattempted./,
    });
    await releaseAll();
    assert.deepEqual(
      steps.slice(1).map((s) => s.split(' ')[1]),
      Array(4).fill(first.VersionId!.slice(0, 8)),
      'the unfinished rotation ran again, with its own token',
    );
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'k' }))).SecretString, 'v1+r+r');
  });

  it('RotateImmediately=false runs testSecret alone on a new AWSPENDING version, which then goes', async () => {
    steps.length = 0;
    const before = await stages('k');
    const r = await sm.send(
      new RotateSecretCommand({
        SecretId: 'k',
        RotateImmediately: false,
        RotationRules: { AutomaticallyAfterDays: 1 },
      }),
    );
    assert.equal(r.VersionId, undefined);
    await releaseAll();
    assert.deepEqual(
      steps.map((s) => s.split(' ')[0]),
      ['testSecret'],
    );
    // AWSPENDING (which a finished rotation may leave on the current version) moved to the test's version
    // and went with it; nothing else changed.
    const withoutPending = (m: Record<string, string[]>) =>
      Object.fromEntries(
        Object.entries(m)
          .map(([v, l]) => [v, l.filter((x) => x !== 'AWSPENDING')] as const)
          .filter(([, l]) => l.length > 0),
      );
    assert.deepEqual(await stages('k'), withoutPending(before), 'no version and no AWSPENDING left behind');
  });

  it('RotateSecret refuses a schedule it cannot run, naming it, before anything changes', async () => {
    steps.length = 0;
    const describe = async () => {
      const { $metadata, ...d } = await sm.send(new DescribeSecretCommand({ SecretId: 'k' }));
      return d;
    };
    const before = await describe();
    await assert.rejects(
      sm.send(new RotateSecretCommand({ SecretId: 'k', RotationRules: { ScheduleExpression: 'rate(2 hours)' } })),
      { name: 'InvalidParameterException', message: /ScheduleExpression "rate\(2 hours\)" is not a rotation schedule/ },
    );
    await releaseAll();
    assert.deepEqual(steps, [], 'no rotation started');
    assert.deepEqual(await describe(), before);
  });

  it('DescribeSecret gives NextRotationDate: the last rotation plus the schedule', async () => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'k' }));
    assert.deepEqual(d.RotationRules, { AutomaticallyAfterDays: 1 });
    assert.ok(d.LastRotatedDate instanceof Date);
    assert.equal(d.NextRotationDate?.getTime(), d.LastRotatedDate.getTime() + 86_400_000);
  });

  it('DeleteSecret keeps the name in a recovery window; forcing frees it at once', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'x' }));
    const d = await sm.send(new DeleteSecretCommand({ SecretId: 'gone' }));
    assert.ok(d.DeletionDate instanceof Date);
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: 'gone' })), {
      name: 'InvalidRequestException',
      message: /marked for deletion/,
    });
    assert.ok((await sm.send(new DescribeSecretCommand({ SecretId: 'gone' }))).DeletedDate instanceof Date);
    assert.ok(!(await sm.send(new ListSecretsCommand({}))).SecretList!.some((s) => s.Name === 'gone'));
    assert.ok(
      (await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList!.some(
        (s) => s.Name === 'gone',
      ),
    );
    await assert.rejects(sm.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'y' })), {
      name: 'InvalidRequestException',
      message: /already scheduled for deletion/,
    });
    // Deleting it again without forcing is refused in the words of the other calls a deleted secret refuses
    // (test_secretsmanager: test_tag_untag_resource_on_deleted_secret), its deletion date unchanged.
    await assert.rejects(sm.send(new DeleteSecretCommand({ SecretId: 'gone', RecoveryWindowInDays: 7 })), {
      name: 'InvalidRequestException',
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
    const again = await sm.send(new DescribeSecretCommand({ SecretId: 'gone' }));
    assert.equal(again.DeletedDate?.getTime(), d.DeletionDate!.getTime() - 30 * 86_400_000);
    await sm.send(new RestoreSecretCommand({ SecretId: 'gone' }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'gone' }))).SecretString, 'x');

    await sm.send(new DeleteSecretCommand({ SecretId: 'gone', ForceDeleteWithoutRecovery: true }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'gone', ForceDeleteWithoutRecovery: true })); // not an error
    await sm.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'y' }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'gone' }))).SecretString, 'y');
  });
});
