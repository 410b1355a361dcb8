/**
 * A deploy too big for the version item (shared/change-items.ts): the seeder writes its 40 changed items'
 * values to the change items and bumps with a stub; caches that held the old copy take the change from
 * one change item each, with no Query of the changed partition, and honour it within TTL + 1 s. With the
 * change item reads throttled, or the change items gone, they try a second shard, then query and still converge. The local endpoint's DynamoDB (dynalite with its
 * transactions) on 127.0.0.1, the real SDK client, and a proxy in front of it counting reads by
 * operation and partition (the scale simulation's meter, bench/support/read-counter.ts).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { close, listen, type ReadCounter, readCounter } from '../../bench/support/read-counter';
import { type MeshPolicyEvent, seed } from '../../functions/control/policy-seeder';
import type { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { createPolicyTable, serveDynamo } from '../../local/endpoint/dynamodb';
import { CHANGE_ITEM_TTL_S } from '../../shared/change-items';
import { POLICY_VERSION } from '../../shared/names';
import { policyFleet } from '../support/policy-fleet';

const TABLE = 'deploy-policy';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const svc = (pk: string) => ({ pk, sk: 'service', functionName: `shop-${pk}`, alias: 'live', managedBy: 'deploy' });
const allow = (pk: string, source: string) => ({ pk, sk: `allow#${source}`, source, managedBy: 'deploy' });
const base = [svc('payments'), svc('orders'), allow('payments', 'orders'), allow('payments', 'audit')];
/** The next release's items: audit's allow dropped, 39 new callers allowed: 40 changed items. */
const release = [...base.filter((i) => i.sk !== 'allow#audit')].concat(
  Array.from({ length: 39 }, (_, i) => allow('payments', `caller-${i}`)),
);
const changePrefix = POLICY_VERSION.changesPartition(0).slice(0, -1);

describe('policy version: a deploy’s changes in sharded change items', () => {
  let dynamo: Awaited<ReturnType<typeof serveDynamo>>;
  let admin: DynamoDBClient;
  let reader: DynamoDBClient;
  let proxy: ReadCounter;
  const clock = { t: 1_700_000_000_000 };
  let items = base;

  before(async () => {
    dynamo = await serveDynamo();
    admin = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    proxy = readCounter(Number(new URL(dynamo.url).port), () => clock.t);
    const port = await listen(proxy.server);
    reader = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials });
    await createPolicyTable(dynamo.url, TABLE);
    await deploy(base, 'Create');
  });

  after(async () => {
    reader.destroy();
    admin.destroy();
    await close(proxy.server);
    await dynamo.close();
  });

  /** The seeder, as CloudFormation runs it for a release: writes, then one bump. */
  async function deploy(next: typeof base, type: 'Create' | 'Update' = 'Update'): Promise<void> {
    const event: MeshPolicyEvent = {
      RequestType: type,
      ResourceProperties: { TableName: TABLE, Items: JSON.stringify(next) },
      ...(type === 'Update' ? { OldResourceProperties: { TableName: TABLE, Items: JSON.stringify(items) } } : {}),
    };
    await seed(admin, event, () => undefined);
    items = next;
  }

  const changeItems = async () =>
    ((await admin.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).filter((i) =>
      i.pk?.S?.startsWith(changePrefix),
    );
  const fleet = policyFleet({ table: TABLE, client: { send: (c) => reader.send(c as never) }, clock });
  const { seenWithin, within } = fleet;
  /** Caches warmed on the copy before the deploy, then counted from the deploy on. */
  const warm = async (n: number): Promise<PolicyCache[]> => {
    const caches = await fleet.warm(n);
    await proxy.idle();
    proxy.watch('payments', clock.t);
    proxy.reset();
    return caches;
  };

  it('caches take the deploy from one change item each, and query payments not once', async () => {
    const caches = await warm(6);
    const deployedAt = Date.now() / 1000;
    await deploy(release);
    const written = await changeItems();
    assert.equal(written.length, POLICY_VERSION.changeShards, 'one change item per change shard');
    assert.equal(new Set(written.map((i) => i.sk?.S)).size, 1, 'all of the one bump');
    const expires = Number(written[0]!.ttl?.N) - CHANGE_ITEM_TTL_S;
    assert.ok(expires >= deployedAt && expires <= Date.now() / 1000 + 1, 'expiring a day after the deploy');

    const refused = await seenWithin(caches, 'audit', false);
    assert.ok(within(refused), `every cache refused audit within TTL + 1 s: ${refused.join(', ')} ms`);
    const allowed = await seenWithin(caches, 'caller-38', true);
    assert.ok(within(allowed), `every cache allowed the new caller: ${allowed.join(', ')} ms`);
    await proxy.idle();
    assert.equal(proxy.watched.queries, 0, 'no Query of payments');
    assert.equal(proxy.reads.Query, undefined, 'no Query at all');
    assert.deepEqual(
      caches.map((c) => c.changeItemReads),
      caches.map(() => 1),
      'one change item read per cache',
    );
    const shards = [...proxy.unitsByPartition.keys()].filter((pk) => pk.startsWith(changePrefix));
    assert.ok(shards.length > 1, `the reads spread over the shards: ${shards.join(', ')}`);
  });

  it('a change item read that is throttled is counted, and the cache queries payments instead', async () => {
    // The same caches' client, but every read of a change item answered with throttling.
    const throttling = policyFleet({
      table: TABLE,
      clock,
      client: {
        send: (c) => {
          const pk = (c as { input?: { Key?: { pk?: { S?: string } } } }).input?.Key?.pk?.S;
          if (pk?.startsWith(changePrefix))
            return Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
          return reader.send(c as never);
        },
      },
    });
    const caches = await throttling.warm(3);
    await proxy.idle();
    proxy.watch('payments', clock.t);
    await deploy(base); // back: audit allowed again, the 39 callers dropped
    const allowed = await throttling.seenWithin(caches, 'audit', true);
    assert.ok(throttling.within(allowed), `every cache allowed audit within TTL + 1 s: ${allowed.join(', ')} ms`);
    await proxy.idle();
    assert.equal(proxy.watched.queries, caches.length, 'each cache queried payments once');
    // Two shards tried, both throttled, before the Query.
    assert.deepEqual(
      caches.map((c) => [c.changeItemReads, c.throttledReads]),
      caches.map(() => [2, 2]),
    );
  });

  it('with the change items gone, caches query payments and still converge', async () => {
    const caches = await warm(4);
    await deploy(release);
    for (const item of await changeItems()) {
      await admin.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: item.pk!, sk: item.sk! } }));
    }
    // Only orders is called for three TTLs: payments' copy waits behind a change item that is not there.
    for (let waited = 0; waited < 3 * fleet.ttl; waited += 250) {
      for (const c of caches) await c.get('orders');
      await Promise.all(caches.map((c) => c.settled()));
      clock.t += 250;
    }
    await proxy.idle();
    assert.equal(proxy.watched.queries, 0, 'payments is not queried while it is not called');
    assert.deepEqual(
      caches.map((c) => c.changeItemReads),
      caches.map(() => 2),
      'a change item not found in two shards is not read again at every poll',
    );
    const refused = await seenWithin(caches, 'audit', false);
    assert.ok(within(refused), `every cache refused audit within TTL + 1 s: ${refused.join(', ')} ms`);
    const allowed = await seenWithin(caches, 'caller-38', true);
    assert.ok(within(allowed), `and allowed the new caller: ${allowed.join(', ')} ms`);
    await proxy.idle();
    assert.equal(proxy.watched.queries, caches.length, 'each cache queried payments once');
    assert.deepEqual(
      caches.map((c) => c.changeItemReads),
      caches.map(() => 2),
    );
  });
});
