/**
 * A policy write expects each item as the command read it (cli/policy-guard.ts). Two operators who
 * planned against the same table, or an operator and a deploy, must not overwrite each other unseen:
 * the later write is refused with the items that changed, and nothing of its transaction is written.
 * The local endpoint's DynamoDB (with its transactions) and a bare dynalite (without them) on
 * 127.0.0.1, through the real SDK client.
 */
import assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { PolicyConflictError } from '../../cli/errors';
import { planDelete, planDeny, planSet, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { createPolicyTable, seedItems, serveDynamo } from '../../local/endpoint/dynamodb';
import { marshallItem } from '../../shared/attribute-value';

const TABLE = 'shop-policy';
const stampOf = (who: string) => ({ updatedAt: `2026-01-01T00:00:0${who.length}.000Z`, updatedBy: who });
const ITEMS = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
  { pk: 'payments', sk: 'traffic', timeoutMs: 1000, managedBy: 'operator', ...stampOf('ann') },
];
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

/** A policy table at `url`, seeded anew under its own name; the clients the CLI's store takes. */
async function freshTable(url: string, name: string) {
  await createPolicyTable(url, name);
  await seedItems(url, name, ITEMS);
  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const clients = { dynamo: async () => client } as unknown as AwsClients;
  const read = async () => (await scanPolicy(clients, name)) as RawItem[];
  return { client, clients, read };
}

/** Runs `write`, expecting a PolicyConflictError; returns it. */
async function conflictOf(write: Promise<void>): Promise<PolicyConflictError> {
  const err = await write.then(
    () => assert.fail('the write went through'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PolicyConflictError, String(err));
  return err;
}

describe('policy writes: an item changed since it was read is not overwritten', () => {
  let endpoint: Awaited<ReturnType<typeof serveDynamo>>;
  let bare: Server;
  let bareUrl: string;
  const opened: DynamoDBClient[] = [];
  let n = 0;
  const table = async (url: string) => {
    const t = await freshTable(url, `${TABLE}-${n++}`);
    opened.push(t.client);
    return { ...t, name: `${TABLE}-${n - 1}` };
  };

  before(async () => {
    endpoint = await serveDynamo();
    const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
    bare = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
    bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of opened) c.destroy();
    await endpoint.close();
    await new Promise((r) => bare.close(r));
  });

  it('two operators deny the same edge from one read: the second is refused, the first stays', async () => {
    const { clients, read, name } = await table(endpoint.url);
    const basis = await read();
    await applyPlan(clients, name, planDeny(basis, 'orders', 'payments', stampOf('ann'), 'one'), basis);
    const err = await conflictOf(
      applyPlan(clients, name, planDeny(basis, 'orders', 'payments', stampOf('bob'), 'two'), basis),
    );
    assert.deepEqual(err.changed, ['payments/deny#orders']);
    assert.match(err.message, /nothing of this change was written\. Run the command again/);
    const deny = (await read()).find((i) => i.sk === 'deny#orders');
    assert.equal(deny?.reason, 'one');
  });

  it('a set of two items, one changed by another operator meanwhile: neither is written', async () => {
    const { clients, read, name } = await table(endpoint.url);
    const basis = await read();
    // Another operator changes traffic after this command read it (a new stamp).
    const other = basis.find((i) => i.sk === 'traffic')!;
    const changed = { ...other, timeoutMs: 2000, ...stampOf('carol') };
    const set = (items: unknown[], stamp = stampOf('bob')) =>
      planSet('payments', items, basis, stamp, 'policy.json', { functionName: 'shop-payments', versions: ['1'] });
    await applyPlan(clients, name, set([changed], stampOf('carol')), basis);
    const err = await conflictOf(
      applyPlan(
        clients,
        name,
        set([
          { sk: 'traffic', timeoutMs: 1500 },
          { sk: 'fault', abort: { percent: 5 } },
        ]),
        basis,
      ),
    );
    assert.deepEqual(err.changed, ['payments/traffic']);
    const now = await read();
    assert.equal(now.find((i) => i.sk === 'traffic')?.timeoutMs, 2000);
    assert.equal(
      now.find((i) => i.sk === 'fault'),
      undefined,
    );
  });

  it('a deploy that rewrote an operator item (no stamp) meanwhile: the delete is refused', async () => {
    const { client, clients, read, name } = await table(endpoint.url);
    const basis = await read();
    const deployed = { pk: 'payments', sk: 'traffic', timeoutMs: 1000, managedBy: 'deploy' };
    await client.send(new PutItemCommand({ TableName: name, Item: marshallItem(deployed) as never }));
    const err = await conflictOf(applyPlan(clients, name, planDelete(basis, 'payments', 'traffic', true), basis));
    assert.deepEqual(err.changed, ['payments/traffic']);
    assert.equal((await read()).find((i) => i.sk === 'traffic')?.managedBy, 'deploy');
  });

  it('an unchanged item is written as planned', async () => {
    const { clients, read, name } = await table(endpoint.url);
    const basis = await read();
    await applyPlan(clients, name, planDelete(basis, 'payments', 'traffic', true), basis);
    assert.equal(
      (await read()).find((i) => i.sk === 'traffic'),
      undefined,
    );
  });

  it('without transactions (a bare dynalite): the writes before the conflict are named as written', async () => {
    const { clients, read, name } = await table(bareUrl);
    const basis = await read();
    const other = basis.find((i) => i.sk === 'traffic')!;
    const set = (items: unknown[], stamp = stampOf('bob')) =>
      planSet('payments', items, basis, stamp, 'policy.json', { functionName: 'shop-payments', versions: ['1'] });
    await applyPlan(clients, name, set([{ ...other, timeoutMs: 2000 }], stampOf('carol')), basis);
    const err = await conflictOf(
      applyPlan(
        clients,
        name,
        set([
          { sk: 'fault', abort: { percent: 5 } },
          { sk: 'traffic', timeoutMs: 1500 },
        ]),
        basis,
      ),
    );
    assert.deepEqual(err.changed, ['payments/traffic']);
    assert.deepEqual(err.written, ['payments/fault']);
    assert.match(err.message, /only payments\/fault was written/);
    assert.equal((await read()).find((i) => i.sk === 'traffic')?.timeoutMs, 2000);
  });
});
