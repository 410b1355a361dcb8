/**
 * PolicyCache on the wire: a real dynalite on 127.0.0.1, the real @aws-sdk/client-dynamodb, and a
 * small HTTP proxy in front of dynalite that counts the Query requests the cache sends.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { effectivePolicy } from '../../functions/mesh/policy/effective-policy';
import { AUTHORIZATION_GRACE_MS, PolicyCache } from '../../functions/mesh/policy/policy-cache';
import type { InvalidItem } from '../../functions/mesh/policy/service-policy';
import { createPolicyTable } from '../../local/endpoint/dynamodb';
import { marshallItem } from '../../shared/attribute-value';
import { loopbackClientConfig } from '../support/loopback-client';

type Server = http.Server;
const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;

const TABLE = 'shop-policy';

const items = {
  service: { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live' },
  allowOrders: { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 800 },
  route: { pk: 'payments', sk: 'route', weights: { '1': 0.9, '2': 0.1 } },
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * Forwards everything to `target()`'s port and counts DynamoDB operations by X-Amz-Target. `idle()`
 * resolves once no request is open, so a test counts only after every read it caused has arrived.
 */
function countingProxy(target: () => number) {
  const counts = new Map<string, number>();
  const bodies: Record<string, unknown>[] = [];
  let open = 0;
  let wake: (() => void) | undefined;
  const done = () => {
    open--;
    if (open === 0) wake?.();
  };
  const server = http.createServer((req, res) => {
    open++;
    res.on('close', done);
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '?';
    counts.set(op, (counts.get(op) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        bodies.push(JSON.parse(body.toString()));
      } catch {
        bodies.push({});
      }
      const up = http.request(
        { host: '127.0.0.1', port: target(), method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        res.destroy(); // the table is gone: the client sees a dropped connection
      });
      up.end(body);
    });
  });
  const idle = () =>
    new Promise<void>((resolve) => {
      if (open === 0) resolve();
      else wake = resolve;
    });
  return { server, counts, bodies, idle };
}

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(loopbackClientConfig(endpoint));
}

async function put(c: DynamoDBClient, item: Record<string, unknown>): Promise<void> {
  await c.send(new PutItemCommand({ TableName: TABLE, Item: marshallItem(item) as never }));
}

describe('PolicyCache against dynalite', () => {
  let db: Server;
  let dbPort: number;
  let proxy: ReturnType<typeof countingProxy>;
  let endpoint: string;
  let admin: DynamoDBClient;
  let tmp: string;
  let clock: number;
  const now = () => clock;
  const queries = () => proxy.counts.get('Query') ?? 0;
  /** Every read `c` started has been answered and has reached the proxy's count. */
  const settle = async (c: PolicyCache) => {
    await c.settled();
    await new Promise((r) => setImmediate(r));
    await proxy.idle();
  };

  before(async () => {
    db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    dbPort = await listen(db);
    proxy = countingProxy(() => dbPort);
    endpoint = `http://127.0.0.1:${await listen(proxy.server)}`;
    admin = client(`http://127.0.0.1:${dbPort}`);
    await createPolicyTable(`http://127.0.0.1:${dbPort}`, TABLE);
    tmp = mkdtempSync(join(tmpdir(), 'policy-cache-'));
  });

  after(async () => {
    admin.destroy();
    await close(proxy.server);
    await close(db);
    rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(async () => {
    clock = 1_700_000_000_000;
    proxy.counts.clear();
    proxy.bodies.length = 0;
    for (const it of Object.values(items)) await put(admin, it);
    await admin.send(
      new DeleteItemCommand({ TableName: TABLE, Key: marshallItem({ pk: 'payments', sk: 'deny#orders' }) as never }),
    );
  });

  function cache(extra: Partial<ConstructorParameters<typeof PolicyCache>[0]> = {}) {
    const lines: string[] = [];
    const invalid: InvalidItem[] = [];
    const tableErrors: unknown[] = [];
    const c = new PolicyCache({
      tableName: TABLE,
      snapshotPath: null,
      ttlMs: 5_000,
      now,
      client: client(endpoint),
      log: (l) => lines.push(l),
      onInvalidItem: (i) => invalid.push(i),
      onTableError: (e) => tableErrors.push(e),
      env: {},
      ...extra,
    });
    return { c, lines, invalid, tableErrors };
  }

  it('serves a fresh deploy-time snapshot with zero table reads', async () => {
    // Prepare: generated a second ago
    const path = join(tmp, 'policy.json');
    writeFileSync(
      path,
      JSON.stringify({ mesh: 'shop', generatedAt: new Date(clock - 1_000).toISOString(), items: Object.values(items) }),
    );
    const { c } = cache({ snapshotPath: path });
    // Act
    const p = await c.get('payments');
    clock += 3_999;
    const again = await c.get('payments');
    await settle(c);
    // Assess
    assert.equal(p.origin, 'snapshot');
    assert.equal(again, p);
    assert.equal(c.authorize(p, 'orders').allowed, true);
    assert.equal(queries(), 0);
  });

  it('counts the snapshot as old as its generation time: an old one is not trusted, a deny in the table wins', async () => {
    // Prepare: a snapshot generated a minute ago allows orders; the table has denied orders since.
    const path = join(tmp, 'policy-old.json');
    writeFileSync(
      path,
      JSON.stringify({
        mesh: 'shop',
        generatedAt: new Date(clock - 60_000).toISOString(),
        items: Object.values(items),
      }),
    );
    await put(admin, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
    const { c } = cache({ snapshotPath: path });
    // Act: a new sandbox's first call
    const p = await c.get('payments');
    // Assess
    assert.equal(p.origin, 'table', 'the table was read before the first decision');
    const res = c.authorize(p, 'orders');
    assert.equal(!res.allowed && res.reason, 'denied');
  });

  it('reads the table for a service the snapshot does not hold, and revalidates snapshot copies after the TTL', async () => {
    // Prepare
    const path = join(tmp, 'policy-other.json');
    writeFileSync(
      path,
      JSON.stringify({
        mesh: 'shop',
        generatedAt: new Date(clock).toISOString(),
        items: [{ ...items.service, pk: 'orders', functionName: 'shop-orders' }],
      }),
    );
    const { c } = cache({ snapshotPath: path });
    // Act
    const orders = await c.get('orders');
    const payments = await c.get('payments');
    // Assess
    assert.equal(orders.origin, 'snapshot');
    assert.equal(payments.origin, 'table');
    assert.equal(queries(), 1);
    clock += 5_000;
    assert.equal(await c.get('orders'), orders, 'stale snapshot copy served at once');
    assert.equal((await c.refresh('orders')).origin, 'table');
  });

  it('reports a missing snapshot file once and reads the table instead', async () => {
    const { c, lines } = cache({ snapshotPath: join(tmp, 'nope.json') });
    assert.equal((await c.get('payments')).origin, 'table');
    await c.get('orders');
    const warns = lines.filter((l) => l.includes('no snapshot'));
    assert.equal(warns.length, 1);
    assert.match(JSON.parse(warns[0]).error, /nope\.json cannot be read \(ENOENT\)/);
  });

  it('reads a service with one consistent Query and keeps it for the TTL', async () => {
    const { c } = cache();
    const p = await c.get('payments');
    assert.equal(p.origin, 'table');
    assert.equal(p.allows.get('orders')?.timeoutMs, 800);
    assert.equal(queries(), 1);
    const query = proxy.bodies.find((body) => 'KeyConditionExpression' in body);
    assert.equal(query?.ConsistentRead, true, 'an eventually consistent read may miss a deny');
    clock += 4_999;
    assert.equal(await c.get('payments'), p);
    await settle(c); // a read started in the background would be counted here
    assert.equal(queries(), 1, 'no read within the TTL');
  });

  it('follows LastEvaluatedKey across pages', async () => {
    const { c } = cache({ pageLimit: 1 });
    const p = await c.get('payments');
    assert.equal(p.items.size, 3);
    assert.ok(queries() >= 3, `${queries()} queries for 3 items at 1 per page`);
  });

  it('after the TTL returns the stale copy at once and picks up a changed item in the background', async () => {
    // Prepare
    const { c } = cache();
    const first = await c.get('payments');
    await put(admin, { ...items.route, weights: { '1': 0.5, '2': 0.5 } });
    clock += 5_000;
    // Act
    const stale = await Promise.all([c.get('payments'), c.get('payments'), c.get('payments')]);
    const fresh = await c.refresh('payments'); // joins the refresh already in flight
    // Assess
    await settle(c);
    assert.ok(
      stale.every((p) => p === first),
      'stale copy served while revalidating',
    );
    assert.deepEqual(fresh.route?.weights, { '1': 0.5, '2': 0.5 });
    assert.equal(c.peek('payments'), fresh);
    assert.equal(queries(), 2, 'one background refresh for three stale reads');
  });

  it('sees a new deny after the TTL (deny wins over the allow)', async () => {
    const { c } = cache();
    assert.equal(effectivePolicy(await c.get('payments'), 'orders').allowed, true);
    await put(admin, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
    clock += 5_000;
    await c.get('payments');
    const res = effectivePolicy(await c.refresh('payments'), 'orders');
    assert.equal(!res.allowed && res.reason, 'denied');
  });

  it('re-reads a copy idle past TTL + 1 s before handing it out: the first call after an idle period sees the deny', async () => {
    // Prepare: a warm copy, then a deny, then the sandbox sits idle
    const { c } = cache();
    assert.equal(c.authorize(await c.get('payments'), 'orders').allowed, true);
    await put(admin, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
    clock += c.ttlMs + AUTHORIZATION_GRACE_MS + 1;
    // Act: one call, no refresh asked for
    const res = c.authorize(await c.get('payments'), 'orders');
    // Assess
    assert.equal(!res.allowed && res.reason, 'denied');
    assert.equal(c.maxAuthorizationAgeMs, 6_000);
  });

  it('authorizes the call that waited for a read, however long the table took to answer', async () => {
    // Prepare: a table that answers 7 s (past TTL + 1 s) after the read was sent
    const real = client(endpoint);
    const slow = {
      send: async (command: unknown) => {
        clock += 7_000;
        return real.send(command as never);
      },
    };
    const { c } = cache({ client: slow });
    // Act
    const at = c.now();
    const p = await c.get('payments');
    // Assess: the copy is older than the bound by now, but younger than the call that waited for it
    assert.ok(c.now() - p.loadedAt > c.maxAuthorizationAgeMs);
    assert.equal(c.authorize(p, 'orders', at).allowed, true);
    assert.equal(c.authorize(p, 'orders').allowed, false, 'a later call may not reuse it');
    real.destroy();
  });

  it('does not hand a call a read that was sent too long before it: joins it, then reads again', async () => {
    // Prepare: a warm copy; the next read answers from before a deny, and only 7 s later
    const real = client(endpoint);
    let gate: (() => void) | undefined;
    let slowNext = false;
    const table = {
      send: async (command: unknown) => {
        if (!slowNext) return real.send(command as never);
        slowNext = false;
        const answer = await real.send(command as never); // the table as it was when the read arrived
        clock += 7_000;
        await new Promise<void>((r) => (gate = r));
        return answer;
      },
    };
    const { c } = cache({ client: table });
    await c.get('payments');
    clock += 5_500; // past the TTL: the next call revalidates in the background
    slowNext = true;
    await c.get('payments');
    while (!gate) await new Promise((r) => setImmediate(r));
    await put(admin, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
    // Act: a call that starts now, 7 s after the read in flight was sent
    const at = c.now();
    const pending = c.get('payments');
    gate();
    const p = await pending;
    // Assess: decided on a read sent after the call started, which sees the deny
    assert.ok(p.loadedAt >= at);
    const res = c.authorize(p, 'orders', at);
    assert.equal(!res.allowed && res.reason, 'denied');
    real.destroy();
  });

  it('fails authorization closed on a copy past the bound when the table cannot be read, and keeps routing', async () => {
    // Prepare: a good copy, then the table goes away and the copy ages past TTL + 1 s
    const { c } = cache();
    await c.get('payments');
    const realPort = dbPort;
    const gone = http.createServer();
    dbPort = await listen(gone);
    await close(gone);
    try {
      clock += 7_000;
      // Act
      const p = await c.get('payments');
      // Assess: routing keeps the last good items, authorization refuses to decide on them
      assert.deepEqual(p.route?.weights, { '1': 0.9, '2': 0.1 });
      const res = c.authorize(p, 'orders');
      assert.equal(!res.allowed && res.reason, 'stale-policy');
      assert.equal(effectivePolicy(p, 'orders').allowed, true, 'the copy itself still allows orders');
    } finally {
      dbPort = realPort;
    }
    // The table is back: after the back-off the next call reads it and authorizes again.
    clock += 5_000;
    assert.equal(c.authorize(await c.get('payments'), 'orders').allowed, true);
  });

  it('keeps the last good copy of an item that becomes malformed, and reports it once', async () => {
    // Prepare
    const { c, lines, invalid } = cache();
    await c.get('payments');
    await put(admin, { ...items.route, weights: { '1': 0.5, '2': 1.5 } });
    // Act
    clock += 5_000;
    const p = await c.refresh('payments');
    clock += 5_000;
    await c.refresh('payments');
    // Assess
    assert.deepEqual(p.route?.weights, { '1': 0.9, '2': 0.1 }, 'the last good route stays');
    assert.equal(p.allows.get('orders')?.timeoutMs, 800, 'the other items are read as usual');
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0].keptLastGood, true);
    const warns = lines.filter((l) => l.includes('malformed'));
    assert.equal(warns.length, 1);
    assert.match(warns[0], /weights\.2 = 1\.5 must be between 0 and 1/);
    assert.equal(JSON.parse(warns[0]).level, 'warn');
  });

  it('keeps the last good copy when the table is unreachable, and reports the error', async () => {
    // Prepare: load from the table, then take the table away
    const { c, lines, tableErrors } = cache();
    const good = await c.get('payments');
    const realPort = dbPort;
    const gone = http.createServer();
    dbPort = await listen(gone);
    await close(gone); // a closed port: connections are refused
    try {
      // Act
      clock += 5_000;
      const served = await c.get('payments');
      const afterRefresh = await c.refresh('payments');
      // Assess
      assert.equal(served, good);
      assert.equal(afterRefresh, good);
      assert.equal(effectivePolicy(afterRefresh, 'orders').allowed, true);
      assert.equal(tableErrors.length, 1);
      assert.equal(lines.filter((l) => l.includes('table read failed')).length, 1);
      // backs off: no new read for a TTL after the failure
      await settle(c);
      const before = queries();
      clock += 1_000;
      await c.get('payments');
      await settle(c); // a read started in the background would be counted here
      assert.equal(queries(), before, 'backs off');
    } finally {
      dbPort = realPort;
    }
    // the table comes back: the next refresh after the back-off reads it again
    clock += 5_000;
    await c.get('payments');
    const back = await c.refresh('payments');
    assert.equal(back.origin, 'table');
    assert.notEqual(back, good);
  });

  it('fails closed when nothing is known and the table is unreachable', async () => {
    const gone = http.createServer();
    const port = await listen(gone);
    await close(gone);
    const { c, tableErrors } = cache({ client: client(`http://127.0.0.1:${port}`) });
    const p = await c.get('payments');
    assert.equal(p.origin, 'none');
    const res = effectivePolicy(p, 'orders');
    assert.equal(!res.allowed && res.reason, 'unknown-service');
    assert.equal(tableErrors.length, 1);
  });

  it('creates its own client on first need, with the endpoint from AWS_ENDPOINT_URL_DYNAMODB', async () => {
    // Prepare: credentials and region come from the environment, as in Lambda
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    const c = new PolicyCache({
      now,
      log: () => undefined,
      env: { MESH_POLICY_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    assert.equal(queries(), 0);
    // Act
    const p = await c.get('payments');
    // Assess
    assert.equal(p.origin, 'table');
    assert.equal(queries(), 1);
    assert.equal(c.ttlMs, 5_000);
  });

  it('reads the table name and TTL from the environment, and reports a bad TTL', () => {
    const lines: string[] = [];
    const c = new PolicyCache({
      env: { MESH_POLICY_TABLE: 't', MESH_POLICY_TTL_MS: 'soon' },
      log: (l) => lines.push(l),
    });
    assert.equal(c.tableName, 't');
    assert.equal(c.ttlMs, 5_000);
    assert.match(JSON.parse(lines[0]).msg, /MESH_POLICY_TTL_MS = "soon" must be a number/);
    assert.equal(new PolicyCache({ env: { MESH_POLICY_TTL_MS: '250' } }).ttlMs, 250);
  });
});
