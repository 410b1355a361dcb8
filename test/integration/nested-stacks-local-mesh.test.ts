/**
 * The local mesh runs a mesh whose functions sit in nested stacks (test/support/nested-app): `front`
 * in the mesh's stack, `orders` and `search` in two nested stacks, synthesized with bundling. Calls go
 * across the stacks through the mesh, a queue carries a message from one nested stack to the other,
 * and an operator's deny between the nested stacks holds within the policy TTL (1 s) + 1 s, until an
 * allow brings the edge back. Driven through the AWS SDK and the `mesh` CLI on the wire.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readCloudAssembly } from '../../local/assembly/cloud-assembly';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { LIVE_ALIAS } from '../../shared/names';
import { clientConfig, nestedFixtureAssembly } from '../support/example-assembly';
import { eventually, runMesh } from '../support/mesh-cli';
import { tempDir } from '../support/temp-dir';

/** The fixture's policy TTL, and the bound an operator's change must reach every function within. */
const TTL_MS = 1_000;
const BOUND_MS = TTL_MS + 1_000;

interface Answer {
  readonly at: string;
  readonly from?: string;
  readonly refused?: string;
  readonly next?: Answer;
  readonly sent?: { messageId?: string };
}

describe('the local mesh runs mesh functions of nested stacks', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  const logs: { fn: string; line: string }[] = [];

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [nestedFixtureAssembly()],
      port: 0,
      quiet: true,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  /** `front`'s answer to `ask`, from outside the mesh. */
  const ask = async (ask: object): Promise<Answer> => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'nst-front', Qualifier: LIVE_ALIAS, Payload: JSON.stringify(ask) }),
    );
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(out.FunctionError, undefined, text);
    return JSON.parse(text) as Answer;
  };
  const cli = async (...args: string[]) => {
    const r = await runMesh(mesh.url, args);
    assert.equal(r.code, 0, r.stderr);
  };

  it('calls from the mesh stack into a nested stack and across to the other, each caller verified', async () => {
    const answer = await ask({ hops: ['orders', 'search'] });
    assert.deepEqual(answer, {
      at: 'front',
      from: 'external',
      next: { at: 'orders', from: 'front', next: { at: 'search', from: 'orders' } },
    });
    // The callee counts the edge between the nested stacks, as the dashboard and `mesh stat` show it.
    const counted = () =>
      mesh.store
        .stats({ windowMs: 600_000 })
        .edges.some((e) => e.source === 'orders' && e.destination === 'search' && e.reporter === 'destination');
    await eventually('orders -> search counted', counted);
  });

  it('carries a message from one nested stack to the other through a queue of the mesh stack', async () => {
    const answer = await ask({ hops: ['orders'], send: 'jobs', body: { job: 'j-1' } });
    assert.ok(answer.next?.sent?.messageId, JSON.stringify(answer));
    await eventually('search received the job from orders', () =>
      logs.some(
        (l) =>
          l.fn === 'nst-search' && l.line.includes('received {"at":"search","from":"orders","body":{"job":"j-1"}}'),
      ),
    );
  });

  it('an operator deny across nested stacks holds within TTL + 1 s, and an allow brings the edge back', async () => {
    const orders = async () => (await ask({ hops: ['orders', 'search'] })).next;
    const served = { at: 'orders', from: 'front', next: { at: 'search', from: 'orders' } };
    assert.deepEqual(await orders(), served, 'allowed before the deny');

    await cli('policy', 'deny', 'orders', 'search', '--reason', 'incident');
    await sleep(BOUND_MS);
    assert.deepEqual(await orders(), { at: 'orders', from: 'front', refused: 'MeshDeniedError' });

    await cli('policy', 'allow', 'orders', 'search');
    await sleep(BOUND_MS);
    assert.deepEqual(await orders(), served, 'allowed again');
  });
});

describe('a nested stack whose template is missing', () => {
  it('is refused, naming the file', () => {
    const dir = tempDir('nested-missing-');
    cpSync(nestedFixtureAssembly(), dir, { recursive: true });
    const file = readdirSync(dir).find((f) => f.startsWith('NestedMeshCatalog') && f.endsWith('.nested.template.json'));
    assert.ok(file, 'the Catalog stack has a template file');
    rmSync(join(dir, file));
    assert.throws(() => readCloudAssembly(dir), {
      name: 'AssemblyScopeError',
      message: `the nested stack NestedMesh/Catalog: its template ${join(dir, file)} does not exist: synthesize the app again (npx cdk synth)`,
    });
  });
});
