/**
 * `npm start` on the example app, as the demo runs: release 1 serves, traffic flows, then release 2 is
 * deployed under it and payments' failing canary goes out as a local CodeDeploy deployment, which its
 * alarms roll back with no command, at the demo's own speed (5x, given here so the test keeps it):
 * the alarms' periods are long enough to fill with the canary's share of traffic on a busy machine. What the dashboard
 * reads (`/_mesh/deployments`) and the log show the steps and the rollback; CodeDeploy on the wire
 * says the same.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentView } from '../../local/codedeploy/deployment-view';
import { clientConfig, localExampleAssemblies } from '../support/example-assembly';
import { spawnStart } from '../support/start-process';

const { assemblies, skip } = localExampleAssemblies();

describe('npm start deploys release 2 under traffic', { skip }, () => {
  it("rolls payments' failing canary back by its alarms, and shows the steps and the rollback", async () => {
    const { release1, release2 } = assemblies!;
    const start = spawnStart([
      '--assembly',
      release1,
      '--assembly',
      release2,
      '--port',
      '0',
      '--deployment-speed',
      '5',
    ]);
    const { child, exited } = start;
    const until = async (what: string, ok: () => boolean | Promise<boolean>, withinMs: number) => {
      const end = Date.now() + withinMs;
      while (!(await ok())) {
        if (child.exitCode !== null)
          assert.fail(`npm start exited (${child.exitCode}) waiting for ${what}:\n${start.err()}`);
        if (Date.now() > end) assert.fail(`no ${what} within ${withinMs / 1000} s:\n${start.err()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    try {
      const url = await start.url();
      assert.match(start.out(), /npx mesh rollback payments --endpoint-url /);
      // Every /_mesh/ route only reads, these two as the dashboard's own.
      for (const route of ['deployments', 'local']) {
        const post = await fetch(`${url}/_mesh/${route}`, { method: 'POST', body: '{}' });
        assert.equal(post.status, 405, `POST /_mesh/${route}`);
        assert.equal(post.headers.get('allow'), 'GET, HEAD');
      }

      // Release 2 goes out once traffic flows; at 5x the canary bakes 60 s, its alarms judge 12 s periods.
      await until(
        'release 2 deployment',
        () => /release 2: CodeDeploy deployment d-\w+ shifts/.test(start.err()),
        180_000,
      );
      const id = /release 2: CodeDeploy deployment (d-\w+) shifts shop-payments:live v1 -> v2/.exec(start.err())?.[1];
      assert.ok(id, start.err());
      let view: DeploymentView | undefined;
      await until(
        'end of the deployment',
        async () => {
          const body = (await (await fetch(`${url}/_mesh/deployments`)).json()) as {
            speed: number;
            deployments: DeploymentView[];
          };
          assert.equal(body.speed, 5);
          view = body.deployments.find((d) => d.id === id);
          return view !== undefined && view.status !== 'InProgress' && view.status !== 'Created';
        },
        180_000,
      );
      assert.equal(view!.status, 'Stopped');
      assert.equal(view!.rolledBack, true);
      assert.equal(view!.error?.code, 'ALARM_ACTIVE');
      const notes = view!.notes.map((n) => n.text);
      assert.match(notes.join('\n'), /BeforeAllowTraffic hook succeeded: mesh deploy check of payments v2 passed/);
      assert.ok(notes.includes('10% to v2, the rest on v1'), notes.join('\n'));
      assert.ok(!notes.includes('all traffic to v2'), 'rolled back before the canary baked');
      assert.match(notes.join('\n'), /alarm .*Deployment(SuccessRate|LambdaErrors|P99Latency)\w* in ALARM: stopping/);
      assert.ok(notes.includes('rolled back: all traffic on v1'), notes.join('\n'));
      assert.match(start.err(), new RegExp(`deployment ${id} \\(payments\\): rolled back: all traffic on v1`));
      // The dashboard renders this view in its deployments table.
      assert.match(await (await fetch(`${url}/_mesh/`)).text(), /<table id="deployments">/);

      const codeDeploy = new CodeDeployClient(clientConfig(url));
      const d = (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
      codeDeploy.destroy();
      assert.equal(d.status, 'Stopped');
      assert.ok(d.rollbackInfo?.rollbackDeploymentId);

      child.kill('SIGINT');
      assert.equal(await exited, 0, start.err());
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
