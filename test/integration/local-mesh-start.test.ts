/**
 * `npm start` as a user runs it (scripts/start.js), on the fixture app's assemblies: it serves, prints
 * how to talk to it, and on Ctrl-C (SIGINT) stops every worker and server and exits 0.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { clientConfig, fixtureAssemblies } from '../support/example-assembly';
import { processAlive } from '../support/process-alive';
import { spawnStart } from '../support/start-process';

describe('npm start', () => {
  it('serves the assemblies, prints how to reach it, and leaves no process after SIGINT', async () => {
    // Prepare
    const { release1, release2 } = fixtureAssemblies();
    const start = spawnStart(['--assembly', release1, '--assembly', release2, '--port', '0', '--no-traffic']);
    const { child, exited } = start;
    try {
      const url = await start.url();
      const out = start.out();
      assert.match(out, /aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ lambda invoke --function-name /);
      assert.match(out, /npx mesh status --endpoint-url /);
      assert.match(out, /dashboard: http:\/\/127\.0\.0\.1:\d+\/_mesh\//);

      // Act: make a worker, find its pid through the mesh's status route, then Ctrl-C.
      const lambda = new LambdaClient(clientConfig(url));
      const r = await lambda.send(new InvokeCommand({ FunctionName: 'fixture-echo', Payload: Buffer.from('{"x":1}') }));
      lambda.destroy();
      assert.equal(Buffer.from(r.Payload!).toString(), '{"x":1}');
      const status = (await (await fetch(`${url}/_mesh/local`)).json()) as { workers: { pid: number }[] };
      const pids = status.workers.map((w) => w.pid);
      assert.ok(pids.length >= 1);
      child.kill('SIGINT');

      // Assess
      assert.equal(await exited, 0, start.err());
      assert.match(start.err(), /stopped; no processes left behind/);
      for (const pid of pids) assert.equal(processAlive(pid), false, `worker ${pid} survived npm start's exit`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
