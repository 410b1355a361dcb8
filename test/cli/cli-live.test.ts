/**
 * The `mesh` CLI's live views end to end: `node cli/bin/mesh.js` as a child process against the
 * local Lambda API and dynalite (test/support/cli-mesh-fixture.ts). `mesh status --watch` appends its
 * frames when piped, redraws them in place on a terminal (a pseudo-terminal from util-linux `script`),
 * shows a change made between two frames, and exits 0 on Ctrl-C.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { type CliMeshFixture, startCliMesh } from '../support/cli-mesh-fixture';
import { meshArgs, type Run, run } from '../support/mesh-cli';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const ESC = '\x1b';

async function mesh(fx: CliMeshFixture, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, await meshArgs(args), { ...fx.env, ...extraEnv });
}

/** `mesh <args>` running in the background, its stdout collected as it comes. */
async function meshLive(fx: CliMeshFixture, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, await meshArgs(args), { env: fx.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Waits (bounded) until stdout holds what `probe` looks for. */
  const until = async (what: string, probe: (out: string) => boolean, ms = 30_000) => {
    for (const end = Date.now() + ms; !probe(stdout); await new Promise((r) => setTimeout(r, 50)))
      if (Date.now() > end) assert.fail(`${what}; stdout so far:\n${stdout}\nstderr:\n${stderr}`);
  };
  return { child, exit, until, out: () => stdout, err: () => stderr };
}

/** A POSIX shell word. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('mesh live views', () => {
  let fx: CliMeshFixture;
  let lambda: LambdaClient;

  before(async () => {
    fx = await startCliMesh([
      { mesh: 'demo', service: 'orders', versions: ['1'], live: { version: '1' } },
      { mesh: 'demo', service: 'payments', versions: ['1', '2'], live: { version: '1', weights: { '2': 0.1 } } },
    ]);
    lambda = new LambdaClient({ region: 'us-east-1', endpoint: fx.lambdaUrl, credentials: creds });
  });

  after(async () => {
    lambda?.destroy();
    await fx?.stop();
  });

  test('status --watch, piped: frames appended under a time-stamped separator, no terminal codes', async () => {
    const r = await mesh(fx, ['status', '--watch', '--count', '2', '--interval', '50ms']);
    assert.equal(r.code, 0, r.stderr);
    const separators = r.stdout.match(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z {2}\(every 50ms, Ctrl-C to stop\)$/gm) ?? [];
    assert.equal(separators.length, 2, r.stdout);
    assert.equal(r.stdout.match(/^payments\s+demo-payments\s+1,2\s+90% v1 \/ 10% v2\s+v2$/gm)?.length, 2);
    assert.ok(!r.stdout.includes(ESC), 'no escape codes in a pipe');
  });

  test('status --watch --json: one status object per line', async () => {
    const r = await mesh(fx, ['status', '--watch', '--count', '2', '--interval', '50ms', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    for (const l of lines)
      assert.deepEqual(
        JSON.parse(l)
          .services.map((s: { service: string }) => s.service)
          .sort(),
        ['orders', 'payments'],
      );
  });

  test('status: --interval and --count only with --watch', async () => {
    const r = await mesh(fx, ['status', '--interval', '5s']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--interval and --count only apply with --watch/);
  });

  test('status --watch shows a shift made between two frames, and Ctrl-C ends it with exit code 0', async () => {
    const live = await meshLive(fx, ['status', '--watch', '--interval', '300ms']);
    try {
      await live.until('the first frame', (o) => /90% v1 \/ 10% v2/.test(o));
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'demo-payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
        }),
      );
      await live.until('a frame with the shift', (o) => /^payments\s+demo-payments\s+1,2\s+75% v1 \/ 25% v2/m.test(o));
      const sent = Date.now();
      live.child.kill('SIGINT');
      assert.equal(await live.exit, 0, live.err());
      assert.ok(Date.now() - sent < 5_000, 'Ctrl-C does not wait for the next refresh');
      assert.equal(live.err(), '');
    } finally {
      live.child.kill();
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'demo-payments',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
        }),
      );
    }
  });

  test('status --watch on a terminal: each frame redrawn in place, never a blank screen between frames', async () => {
    const command = [process.execPath, ...(await meshArgs(['status', '--watch', '--count', '3', '--interval', '50ms']))]
      .map(shellQuote)
      .join(' ');
    // util-linux script: runs the command on a pseudo-terminal and copies what it printed to stdout.
    const r = await run('script', ['-qfec', command, '/dev/null'], fx.env);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.equal(out.split(`${ESC}[2J`).length - 1, 1, 'the screen is cleared once, before the first frame');
    assert.equal(out.split(`${ESC}[H`).length - 1, 3, 'each frame starts at the top left');
    assert.equal(out.split(`${ESC}[J`).length - 1, 3, 'each frame clears what the last one left below it');
    // Every line of a frame clears the rest of the old line it overwrote.
    const frame = out.slice(out.lastIndexOf(`${ESC}[H`));
    const payments = frame.split('\n').find((l) => l.startsWith('payments'));
    assert.match(payments ?? '', new RegExp(`^payments\\s+demo-payments\\s+1,2\\s+90% v1 / 10% v2\\s+v2${ESC}\\[K`));
  });
});
