/**
 * Attack: one policy-table write redirects an edge. On the local mesh running the example app, a
 * writer with access to payments' partition (before breaker state had its own partition, any caller
 * of payments with shared breakers on) sets payments' `service` item to a listener of its own,
 * `url=http://127.0.0.1:<port>, auth=none` (and then `auth=iam`). Checkouts keep flowing past the
 * policy TTL. The listener must receive nothing, no payload and no identity token: HTTP targets come
 * from the deployment only, and the charges keep reaching payments by Invoke.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type AttributeValue, marshallItem, unmarshallItem } from '../../shared/attribute-value';
import { LIVE_ALIAS, MANAGED_BY, SORT_KEY, TABLE } from '../../shared/names';
import { DEFAULTS } from '../../shared/policy';
import {
  clientConfig,
  discoverMesh,
  localExampleAssemblies,
  startTestMesh,
  type TestMesh,
} from '../support/example-assembly';
import { eventually } from '../support/mesh-cli';

const { assemblies, skip } = localExampleAssemblies();

interface Captured {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

describe('attack: a policy-table write redirects an edge to a listener of the writer', { skip }, () => {
  let mesh: TestMesh;
  let lambda: LambdaClient;
  let db: DynamoDBClient;
  let listener: Server;
  let listenerUrl = '';
  const captured: Captured[] = [];
  let fn = new Map<string, string>();
  let table = '';

  before(async () => {
    listener = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        // Answer like a payments would, so a redirected checkout looks fine to its caller.
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"charged":true}');
      });
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;

    mesh = await startTestMesh([assemblies!.release1, assemblies!.release2]);
    lambda = new LambdaClient(clientConfig(mesh.url));
    db = new DynamoDBClient(clientConfig(mesh.url));
    ({ fn, table } = await discoverMesh(lambda));
  });

  after(async () => {
    lambda?.destroy();
    db?.destroy();
    await mesh?.stop();
    listener?.closeAllConnections();
    await new Promise<void>((r) => (listener ? listener.close(() => r()) : r()));
  });

  const checkout = async (i: number) => {
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: fn.get('frontend'),
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ action: 'checkout', sku: `sku-${i}`, quantity: 1 })),
      }),
    );
    return { ok: r.FunctionError === undefined, text: Buffer.from(r.Payload ?? []).toString('utf8') };
  };

  for (const auth of ['none', 'iam'] as const) {
    const what = `a service item with url=<listener>, auth=${auth}`;
    it(`${what}: the listener gets nothing, payments still gets the charges`, async () => {
      // Prepare: checkouts work (the first ones start every service's environment, and on busy cores a
      // cold payments can outlast orders' 2 s per-try timeout), and payments' service item as deployed.
      let c0 = { ok: false, text: '' };
      await eventually(
        () => `a checkout before the attack (the last answered ${c0.text})`,
        async () => {
          c0 = await checkout(0);
          return c0.ok;
        },
      );
      const key = { [TABLE.partitionKey]: { S: 'payments' }, [TABLE.sortKey]: { S: SORT_KEY.service } };
      const deployed = (await db.send(new GetItemCommand({ TableName: table, Key: key }))).Item;
      assert.ok(deployed, `payments has a service item in ${table}`);
      const item = unmarshallItem(deployed as Record<string, AttributeValue>);
      captured.length = 0;
      const since = mesh.local!.recentInvocations().length;

      // Act: one write, then checkouts for two policy TTLs and a bit (every sandbox has refreshed).
      await db.send(
        new PutItemCommand({
          TableName: table,
          Item: marshallItem({ ...item, url: listenerUrl, auth, managedBy: MANAGED_BY.operator }) as never,
        }),
      );
      const results: { ok: boolean; text: string }[] = [];
      const until = Date.now() + DEFAULTS.policyTtlMs * 2 + 2_000;
      for (let i = 1; Date.now() < until; i++) {
        results.push(await checkout(i));
        await new Promise((r) => setTimeout(r, 200));
      }
      await db.send(new PutItemCommand({ TableName: table, Item: deployed }));

      // Assess: nothing reached the listener, least of all a token; the charges went to payments.
      const tokens = captured.filter((c) => c.headers['x-mesh-token']).length;
      assert.equal(
        captured.length,
        0,
        `the listener got ${captured.length} requests (${tokens} with an identity token), ` +
          `e.g. ${JSON.stringify(captured[0]?.body)}`,
      );
      const late = results.slice(-5);
      assert.ok(
        late.some((r) => r.ok),
        `checkouts fail after the write: ${late.map((r) => r.text.slice(0, 120)).join(' | ')}`,
      );
      const charged = mesh
        .local!.recentInvocations()
        .slice(since)
        .filter((r) => r.functionName === fn.get('payments') && r.source === 'orders');
      const served = results.filter((r) => r.ok).length;
      assert.ok(
        charged.length >= served,
        `payments was invoked ${charged.length} times for ${served} checkouts served`,
      );
    });
  }
});
