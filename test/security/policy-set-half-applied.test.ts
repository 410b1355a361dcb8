/**
 * Attack: a `mesh policy set` file that changes more items than one DynamoDB transaction holds (100
 * actions, "TransactWriteItems", Amazon DynamoDB API Reference), with the table failing part-way (a
 * throttle that outlasts the SDK's retries, a dropped connection, the operator's Ctrl-C). The table must
 * end wholly before or wholly after the change, and the operator must learn which. Real `mesh` CLI,
 * real SDK, the local endpoint's DynamoDB (which takes transactions) behind a proxy that refuses every
 * write after the 50th.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPolicyTable, seedItems } from '../../local/endpoint/dynamodb';
import { type CliMeshFixture, startCliMesh, storedPolicyItems } from '../support/cli-mesh-fixture';
import { meshArgs, run } from '../support/mesh-cli';
import { startRecordingProxy } from '../support/recording-proxy';

const WRITES = /\.(TransactWriteItems|PutItem|DeleteItem|UpdateItem|BatchWriteItem)$/;

/** Forwards to `target`; answers every write after the first `allowed` with a ValidationException. */
async function failingProxy(target: string, allowed: number) {
  const writes: string[] = [];
  const proxy = await startRecordingProxy(target, (req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '');
    if (!WRITES.test(op)) return false;
    writes.push(op.split('.')[1]!);
    if (writes.length <= allowed) return false;
    req.resume();
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'injected' }));
    return true;
  });
  return { ...proxy, writes };
}

describe('attack: a policy set larger than one transaction, failing part-way', () => {
  let fx: CliMeshFixture;
  let dir: string;
  const seeded = [{ pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' }];
  /** 120 new callers of payments: 120 puts, more than one transaction's 100 actions. */
  const file = Array.from({ length: 120 }, (_, i) => ({ sk: `allow#caller-${i}`, source: `caller-${i}` }));

  const scan = async () => (await storedPolicyItems(fx.lambdaUrl, fx.table)).map((i) => String(i.sk));

  before(async () => {
    fx = await startCliMesh([{ mesh: 'demo', service: 'payments', versions: ['1'], live: { version: '1' } }], {
      items: seeded,
    });
    await createPolicyTable(fx.lambdaUrl, fx.table);
    await seedItems(fx.lambdaUrl, fx.table, seeded);
    dir = mkdtempSync(join(tmpdir(), 'policy-set-big-'));
    writeFileSync(join(dir, 'callers.json'), JSON.stringify(file));
  });
  after(async () => {
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the table ends wholly before the change, and the operator is told nothing was written and why', async () => {
    const proxy = await failingProxy(fx.lambdaUrl, 50);
    const prior = await scan();
    try {
      const r = await run(
        process.execPath,
        await meshArgs(['policy', 'set', 'payments', '--file', join(dir, 'callers.json')]),
        { ...fx.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url },
      );
      const items = await scan();
      assert.deepEqual(
        items,
        prior,
        `the table as before, not ${items.filter((sk) => sk.startsWith('allow#caller-')).length} of the file's 120 items`,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /120 items/, 'names how many');
      assert.match(r.stderr, /100/, 'names the limit');
      assert.match(r.stderr, /split/, 'says the fix');
      assert.match(r.stderr, /nothing was written/);
      assert.deepEqual(proxy.writes, [], 'refused before any write');
    } finally {
      await proxy.close();
    }
  });

  test('a file of 100 changes still goes in one transaction', async () => {
    writeFileSync(join(dir, 'hundred.json'), JSON.stringify(file.slice(0, 100)));
    const proxy = await failingProxy(fx.lambdaUrl, Number.POSITIVE_INFINITY);
    try {
      const r = await run(
        process.execPath,
        await meshArgs(['policy', 'set', 'payments', '--file', join(dir, 'hundred.json')]),
        { ...fx.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(proxy.writes, ['TransactWriteItems', 'TransactWriteItems'], 'the plan, then the version');
      assert.equal((await scan()).filter((sk) => sk.startsWith('allow#caller-')).length, 100);
    } finally {
      await proxy.close();
    }
  });
});
