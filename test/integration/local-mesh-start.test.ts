/**
 * `npm start` as a user runs it (scripts/start.js), on the fixture app's assemblies: it serves, prints
 * how to talk to it, and on Ctrl-C (SIGINT) stops every worker and server and exits 0.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { clientConfig, fixtureAssemblies } from '../support/example-assembly';

const ROOT = join(__dirname, '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('serves the assemblies, prints how to reach it, and leaves no process after SIGINT', async () => {
    // Prepare
    const { release1, release2 } = fixtureAssemblies();
    const child = spawn(
      process.execPath,
      ['scripts/start.js', '--assembly', release1, '--assembly', release2, '--port', '0', '--no-traffic'],
      {
        cwd: ROOT,
        env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /Lambda Mesh, local: (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`start exited early (${code}): ${err}`));
        });
      });
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
      assert.equal(await exited, 0, err);
      assert.match(err, /stopped; no processes left behind/);
      for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} survived npm start's exit`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
