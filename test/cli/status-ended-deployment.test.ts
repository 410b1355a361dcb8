/**
 * `mesh status` after a gated deployment ended without going live: the operator paged for it sees,
 * with no CodeDeploy console, which deployment it was, the versions, when it ended and CodeDeploy's
 * reason, and that live is back on the stable version. The deployment fails fast here (a deploy freeze
 * fails its pre-traffic check), so no traffic or alarm period is needed; the local mesh's CodeDeploy
 * answers through the real SDK as for a deployment its alarms stopped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { clientConfig, localExampleAssemblies } from '../support/example-assembly';
import { eventually, runMesh } from '../support/mesh-cli';

const { assemblies, skip } = localExampleAssemblies();

describe('mesh status names the last deployment that did not go live, and why', { skip }, () => {
  let mesh: LocalMesh;
  let codeDeploy: CodeDeployClient;
  let deploymentId = '';

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [assemblies!.release1], port: 0, quiet: true });
    codeDeploy = new CodeDeployClient(clientConfig(mesh.url));
  });

  after(async () => {
    codeDeploy?.destroy();
    await mesh?.stop();
  });

  it('says nothing of deployments while none has ended badly', async () => {
    const r = await runMesh(mesh.url, ['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /DID NOT GO LIVE/);
    assert.deepEqual(JSON.parse((await runMesh(mesh.url, ['status', '--json'])).stdout).endedDeployments, []);
  });

  it('after a failed deployment: its id, versions, CodeDeploy reason and where live is now', async () => {
    const freeze = await runMesh(mesh.url, ['policy', 'deny', 'mesh-deploy-check', 'payments', '--reason', 'freeze']);
    assert.equal(freeze.code, 0, freeze.stderr);
    const [gated] = (await mesh.apply(assemblies!.release2)).deployments;
    assert.ok(gated);
    deploymentId = gated.deploymentId;
    const status = async () =>
      (await codeDeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status ?? '';
    await eventually('the deployment fails its pre-traffic check', async () => (await status()) === 'Failed');

    const r = await runMesh(mesh.url, ['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nDEPLOYMENTS THAT DID NOT GO LIVE \(the last hour\)\n/);
    assert.match(
      r.stdout,
      new RegExp(`\\n  payments  ${deploymentId}  v1 -> v2  Failed at \\d\\d:\\d\\d:\\d\\d UTC \\(\\d+s ago\\)\\n`),
    );
    assert.match(r.stdout, /\n {4}HOOK_EXECUTION_FAILURE: .*mesh deploy check of payments v2 failed: policy: /);
    assert.match(r.stdout, /\n {4}rolled back by d-[A-Z0-9]+: live now 100% v1\n/);

    const json = JSON.parse((await runMesh(mesh.url, ['status', '--json'])).stdout);
    const [ended] = json.endedDeployments;
    assert.deepEqual(
      [ended.id, ended.service, ended.status, ended.from, ended.to, ended.errorCode],
      [deploymentId, 'payments', 'Failed', '1', '2', 'HOOK_EXECUTION_FAILURE'],
    );
    assert.match(ended.endedAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(ended.rolledBackBy, /^d-[A-Z0-9]+$/);
  });
});
