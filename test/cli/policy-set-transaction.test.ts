/**
 * `mesh policy set` writes a plan in one TransactWriteItems call where the table takes transactions —
 * the local endpoint, as DynamoDB ("TransactWriteItems", AWS API reference) — and falls back to the
 * validated writes one by one where it refuses them (a bare dynalite). Both observed on the wire, through
 * a proxy that records each request's X-Amz-Target, with the real `mesh` CLI and the real SDK.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPolicyTable, seedItems } from '../../local/endpoint/dynamodb';
import { POLICY_VERSION } from '../../shared/names';
import { type CliMeshFixture, startCliMesh, storedPolicyItems } from '../support/cli-mesh-fixture';
import { meshArgs, type Run, run } from '../support/mesh-cli';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy';

const WRITES = /\.(TransactWriteItems|PutItem|DeleteItem|UpdateItem|BatchWriteItem)$/;

async function mesh(env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  return run(process.execPath, await meshArgs(args), env);
}

describe('mesh policy set: one transaction, or one by one where transactions are refused', () => {
  let fx: CliMeshFixture;
  let dir: string;
  const proxies: RecordingProxy[] = [];
  const items = [
    { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
    { pk: 'payments', sk: 'fault', managedBy: 'operator', abort: { percent: 5 } },
  ];
  const plan = [
    { sk: 'traffic', timeoutMs: 1500, retries: { maxAttempts: 2 } },
    { sk: 'route', weights: { '1': 0.5, '2': 0.5 } },
  ];

  const scan = (endpoint: string) => storedPolicyItems(endpoint, fx.table);

  before(async () => {
    fx = await startCliMesh([{ mesh: 'demo', service: 'payments', versions: ['1', '2'], live: { version: '1' } }], {
      items,
    });
    // The same table in the local endpoint's own DynamoDB, which takes transactions.
    await createPolicyTable(fx.lambdaUrl, fx.table);
    await seedItems(fx.lambdaUrl, fx.table, items);
    dir = mkdtempSync(join(tmpdir(), 'policy-set-'));
    writeFileSync(join(dir, 'payments.json'), JSON.stringify(plan));
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const setThrough = async (dynamoUrl: string) => {
    const proxy = await startRecordingProxy(dynamoUrl);
    proxies.push(proxy);
    const r = await mesh({ ...fx.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url }, [
      'policy',
      'set',
      'payments',
      '--file',
      join(dir, 'payments.json'),
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    return proxy.targets.filter((t) => WRITES.test(t)).map((t) => t.split('.')[1]);
  };

  test('against the local endpoint: the whole plan in one TransactWriteItems', async () => {
    const writes = await setThrough(fx.lambdaUrl);
    // The plan, then the policy version bumped in all its shards (a second transaction).
    assert.deepEqual(writes, ['TransactWriteItems', 'TransactWriteItems']);
    const after = await scan(fx.lambdaUrl);
    assert.deepEqual(
      after.map((i) => i.sk),
      ['allow#orders', 'fault', 'route', 'traffic'],
    );
    assert.equal(after.find((i) => i.sk === 'traffic')?.managedBy, 'operator');
    assert.deepEqual(after.find((i) => i.sk === 'route')?.weights, { '1': 0.5, '2': 0.5 });
  });

  test('against a table that refuses transactions: the validated writes one by one', async () => {
    const writes = await setThrough(fx.dynamoUrl);
    // The version bump falls back the same way: one UpdateItem per shard.
    assert.deepEqual(writes, [
      'TransactWriteItems',
      'PutItem',
      'PutItem',
      'TransactWriteItems',
      ...Array.from({ length: POLICY_VERSION.shards }, () => 'UpdateItem'),
    ]);
    assert.deepEqual(
      (await scan(fx.dynamoUrl)).map((i) => i.sk),
      ['allow#orders', 'fault', 'route', 'traffic'],
    );
  });
});
