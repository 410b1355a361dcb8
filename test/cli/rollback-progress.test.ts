/**
 * `mesh rollback` of a gated deployment asks CodeDeploy to stop it and then waits, up to 30 s on AWS,
 * for CodeDeploy to move `live` back. It says so on stderr as soon as it starts waiting, so an operator
 * does not take the silence for a hang and press Ctrl-C halfway; stdout keeps the one result line that
 * scripts read. The deployment runs at CodeDeploy's own pace on the local mesh, so it is still in
 * progress when rollback runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { exampleRelease2, localExampleAssemblies } from '../support/example-assembly';
import { runMesh } from '../support/mesh-cli';

const { assemblies, skip } = localExampleAssemblies();

describe('mesh rollback of a gated deployment says what it waits for', { skip }, () => {
  let mesh: LocalMesh;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [assemblies!.release1], port: 0, quiet: true });
  });

  after(async () => {
    await mesh?.stop();
  });

  it('names the deployment and the wait on stderr, the result alone on stdout', async () => {
    const [gated] = (await mesh.apply(exampleRelease2({ paymentsFailureRate: '0' }))).deployments;
    assert.ok(gated);
    const r = await runMesh(mesh.url, ['rollback', 'payments']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `payments: asked CodeDeploy to stop ${gated.deploymentId} (v1 -> v2); waiting for it to move live back (up to 30 s)\n`,
    );
    assert.equal(
      r.stdout,
      `payments: stopped CodeDeploy deployment ${gated.deploymentId} (v1 -> v2); Stopped, live back on v1\n`,
    );
  });
});
