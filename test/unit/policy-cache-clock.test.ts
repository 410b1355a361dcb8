/**
 * The policy cache's clock (functions/mesh/policy/policy-cache.ts), with an injected clock and a table
 * client that answers in memory: a copy is revalidated from the moment it is ttlMs old (not a
 * millisecond later), and after a failed table read the cache waits one TTL before trying again,
 * whether it holds a last good copy or nothing. Then what it reads from its environment, and what it
 * tells its listeners and its log: a failure streak once, a malformed item once per copy.
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PolicyCache, type PolicyTableClient } from '../../functions/mesh/policy/policy-cache';
import { DEFAULTS } from '../../shared/policy';
import { clockedPolicyCache } from '../support/clocked-policy-cache';

const T0 = 1_700_000_000_000;
const TTL = 5_000;

/** A policy table of one service; `down` makes every read fail. */
class MemoryTable implements PolicyTableClient {
  down = false;
  readonly items = [
    { pk: { S: 'payments' }, sk: { S: 'service' }, functionName: { S: 'shop-payments' } },
    { pk: { S: 'payments' }, sk: { S: 'allow#orders' }, source: { S: 'orders' } },
  ];
  /** Partition keys read, in order. */
  readonly asked: string[] = [];
  /** Resolves once `n` Queries have been asked (a background read goes out after its version read). */
  async queried(n: number): Promise<void> {
    for (let turns = 0; this.asked.length < n; turns++) {
      if (turns > 1_000) throw new Error(`expected ${n} Queries, saw ${this.asked.length}`);
      await new Promise((r) => setImmediate(r));
    }
  }
  /** Set to hold reads until `release` is called. */
  gate: Promise<void> | undefined;
  async send(command: unknown): Promise<unknown> {
    const input = (command as { input: { ExpressionAttributeValues?: { ':pk': { S: string } } } }).input;
    if (!input.ExpressionAttributeValues) {
      // The policy version's GetItem: a table no writer of this release has touched.
      if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
      return {};
    }
    const pk = input.ExpressionAttributeValues[':pk'].S;
    this.asked.push(pk);
    await this.gate;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
    return { Items: this.items.filter((i) => i.pk.S === pk) };
  }
}

function cache(table: MemoryTable, clock: { now: number }) {
  return clockedPolicyCache(table, clock, TTL);
}

describe('policy cache clock', () => {
  it('revalidates a copy from the moment it is ttlMs old', async () => {
    const clock = { now: T0 };
    const c = cache(new MemoryTable(), clock);
    assert.equal((await c.get('payments')).origin, 'table');
    assert.equal(c.tableReads, 1);
    clock.now = T0 + TTL - 1;
    await c.get('payments');
    await c.settled();
    assert.equal(c.tableReads, 1, 'still fresh one millisecond before the TTL');
    clock.now = T0 + TTL;
    await c.get('payments');
    await c.refresh('payments'); // joins the background read (it starts after the version read)
    assert.equal(c.tableReads, 2, 'stale at exactly the TTL: one background read, joined');
  });

  it('after a failed read with nothing known, answers "nothing" for one TTL, then reads again', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    table.down = true;
    const c = cache(table, clock);
    assert.equal((await c.get('payments')).origin, 'none');
    assert.equal(c.tableReads, 1);
    clock.now = T0 + TTL - 1;
    assert.equal((await c.get('payments')).origin, 'none');
    assert.equal(c.tableReads, 1, 'no read of a broken table on every call');
    table.down = false;
    clock.now = T0 + TTL;
    assert.equal((await c.get('payments')).origin, 'table', 'one TTL later it reads, and recovers');
    assert.equal(c.tableReads, 2);
  });

  it('after a failed revalidation, keeps the last good copy and waits one TTL before the next read', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const c = cache(table, clock);
    const good = await c.get('payments');
    table.down = true;
    clock.now = T0 + TTL;
    assert.equal(await c.get('payments'), good, 'the stale copy answers at once');
    await c.refresh('payments');
    assert.equal(c.tableReads, 2);
    const failedAt = clock.now;
    clock.now = failedAt + TTL - 1;
    assert.equal(await c.get('payments'), good);
    assert.equal(c.tableReads, 2, 'backs off after the failure although the copy is stale');
    clock.now = failedAt + TTL;
    await c.get('payments');
    assert.equal(c.tableReads, 3, 'and tries again one TTL after it');
  });
});

describe('policy cache under throttling', () => {
  it('keeps the last good copy, counts the throttled read, and backs off less than a TTL with jitter', async () => {
    // Prepare: a table that answers, then throttles every read
    const clock = { now: T0 };
    const table = new MemoryTable();
    const throttled: string[] = [];
    const c = new PolicyCache({
      tableName: 'shop-policy',
      snapshotPath: null,
      ttlMs: TTL,
      now: () => clock.now,
      client: {
        send: async (command: unknown) => {
          if (table.down) {
            throw Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
          }
          return table.send(command);
        },
      },
      random: () => 0.5,
      onThrottled: (service) => throttled.push(service),
      log: () => undefined,
    });
    const good = await c.get('payments');
    table.down = true;
    // Act: the copy is past TTL + 1 s, so the call waits for a read, which is throttled
    clock.now = T0 + TTL + 2_000;
    const kept = await c.get('payments');
    // Assess
    assert.equal(kept, good, 'the last good copy stays');
    assert.ok(c.throttledReads >= 1);
    assert.deepEqual([...new Set(throttled)], ['payments']);
    assert.equal(c.authorize(kept, 'orders').allowed, false, 'past TTL + 1 s it authorizes nobody');
    const reads = c.tableReads;
    clock.now += 200; // 250 ms first backoff, half of it jittered: 187.5 ms here
    await c.get('payments');
    await c.settled();
    assert.equal(c.tableReads, reads + 1, 'tried again after the jittered backoff, well before a TTL');
  });
});

/** A cache over `table` that keeps its log lines (parsed) and listener calls. */
function watched(table: MemoryTable, clock: { now: number }, extra: Record<string, unknown> = {}) {
  const lines: Record<string, unknown>[] = [];
  const tableErrors: [string, string][] = [];
  const invalid: unknown[] = [];
  const c = new PolicyCache({
    tableName: 'shop-policy',
    snapshotPath: null,
    ttlMs: TTL,
    now: () => clock.now,
    client: table,
    log: (line) => lines.push(JSON.parse(line)),
    onTableError: (err, service) => tableErrors.push([(err as Error).name, service]),
    onInvalidItem: (inv) => invalid.push(inv),
    ...extra,
  });
  return { c, lines, tableErrors, invalid };
}

describe('policy cache settings', () => {
  it('reads its table, TTL and shared-breaker switch from the environment', () => {
    const c = new PolicyCache({
      env: { MESH_POLICY_TABLE: 'shop-policy', MESH_POLICY_TTL_MS: '250', MESH_SHARED_BREAKERS: 'true' },
      log: () => undefined,
    });
    assert.equal(c.tableName, 'shop-policy');
    assert.equal(c.ttlMs, 250);
    assert.equal(c.sharedBreakers, true);
    assert.equal(c.maxAuthorizationAgeMs, 1_250);
    const off = new PolicyCache({ env: { MESH_POLICY_TABLE: '', MESH_SHARED_BREAKERS: 'yes' }, log: () => undefined });
    assert.equal(off.tableName, undefined, 'an empty name is no table');
    assert.equal(off.sharedBreakers, false, "only 'true' turns shared breakers on");
    assert.equal(off.maxAuthorizationAgeMs, Infinity, 'without a table nothing goes stale');
  });

  it('takes a TTL of 0, and reports a TTL that is not a number of ms >= 0 and uses the default', () => {
    const lines: string[] = [];
    const ttl = (v: string | undefined) =>
      new PolicyCache({ env: { MESH_POLICY_TTL_MS: v }, log: (l) => lines.push(l) }).ttlMs;
    assert.equal(ttl('0'), 0);
    assert.equal(ttl(undefined), DEFAULTS.policyTtlMs);
    assert.equal(ttl(''), DEFAULTS.policyTtlMs);
    assert.equal(lines.length, 0, 'unset or empty is not an error');
    assert.equal(ttl('-1'), DEFAULTS.policyTtlMs);
    assert.equal(ttl('soon'), DEFAULTS.policyTtlMs);
    assert.equal(ttl('Infinity'), DEFAULTS.policyTtlMs);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      ['"-1"', '"soon"', '"Infinity"'].map((v) => ({
        level: 'warn',
        msg: `mesh policy: MESH_POLICY_TTL_MS = ${v} must be a number of ms >= 0; using ${DEFAULTS.policyTtlMs}`,
      })),
    );
  });

  it('without a table, answers "nothing" for good and never reads', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const c = new PolicyCache({ snapshotPath: null, now: () => clock.now, client: table, log: () => undefined });
    const none = await c.get('payments');
    assert.equal(none.origin, 'none');
    clock.now = T0 + 10 * DEFAULTS.policyTtlMs;
    assert.equal(await c.get('payments'), none);
    assert.equal(await c.refresh('payments'), none);
    assert.deepEqual(table.asked, []);
  });

  it('reads the breaker partition too when shared breakers are on', async () => {
    const table = new MemoryTable();
    const { c } = watched(table, { now: T0 }, { sharedBreakers: true });
    await c.get('payments');
    assert.deepEqual(table.asked.sort(), ['breaker#payments', 'payments']);
    assert.equal(c.tableReads, 2);
  });
});

describe('policy cache freshness bounds', () => {
  it('serves a copy exactly maxAuthorizationAgeMs old at once, revalidating behind it', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const { c } = watched(table, clock);
    const first = await c.get('payments');
    table.gate = new Promise(() => undefined); // the revalidation never answers
    clock.now = T0 + c.maxAuthorizationAgeMs;
    assert.equal(await c.get('payments'), first);
    await table.queried(2); // the revalidation's Query follows its version read
    assert.equal(c.tableReads, 2);
  });

  /**
   * A revalidation sent at T0 + TTL that the table holds, then a call `past(c)` ms after it that joins
   * it; the read answers only then. The cache and what the call got.
   */
  async function joinHeldRevalidation(past: (c: ReturnType<typeof watched>['c']) => number) {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const { c } = watched(table, clock);
    await c.get('payments');
    let release: () => void = () => undefined;
    table.gate = new Promise<void>((r) => {
      release = r;
    });
    clock.now = T0 + TTL;
    await c.get('payments');
    await table.queried(2); // the revalidation's Query went out (after its version read), at T0 + TTL
    clock.now = T0 + TTL + past(c);
    const pending = c.get('payments');
    table.gate = undefined;
    release();
    return { c, got: await pending };
  }

  it('sends one more read when the read it joined went out too long before the call', async () => {
    const { c, got } = await joinHeldRevalidation((cache) => cache.maxAuthorizationAgeMs + 1);
    // The read sent at T0 + TTL is too old for this call; a fresh one was sent for it.
    assert.equal(c.tableReads, 3);
    assert.equal(got.loadedAt, T0 + TTL + c.maxAuthorizationAgeMs + 1);
  });

  it('a copy older than maxAuthorizationAgeMs waits for one read, sent for this call', async () => {
    const clock = { now: T0 };
    const { c } = watched(new MemoryTable(), clock);
    await c.get('payments');
    clock.now = T0 + c.maxAuthorizationAgeMs + 1;
    const got = await c.get('payments');
    assert.deepEqual([c.tableReads, got.loadedAt], [2, clock.now]);
  });

  it('a joined read sent exactly maxAuthorizationAgeMs before the call is new enough', async () => {
    const { c, got } = await joinHeldRevalidation((cache) => cache.maxAuthorizationAgeMs);
    assert.deepEqual([c.tableReads, got.loadedAt], [2, T0 + TTL]);
  });

  it('a table without a policy version is asked for it again only after a minute, not on every revalidation', async () => {
    const clock = { now: T0 };
    const { c } = watched(new MemoryTable(), clock);
    await c.get('payments');
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.deepEqual([c.versionReads, c.tableReads], [1, 2]);
  });

  it('a forced re-read leaves no read in flight: the next refresh reads again', async () => {
    const clock = { now: T0 };
    const { c } = watched(new MemoryTable(), clock);
    await c.get('payments');
    await c.reread('payments');
    assert.equal(c.tableReads, 2, 'queried although the copy is fresh');
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.equal(c.tableReads, 3);
  });

  it('settles once no read is in flight', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const { c } = watched(table, clock);
    let release: () => void = () => undefined;
    table.gate = new Promise<void>((r) => {
      release = r;
    });
    void c.get('payments');
    let settled = false;
    const done = c.settled().then(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'a read is in flight');
    release();
    await done;
    assert.equal(c.peek('payments')?.origin, 'table');
  });
});

describe('policy cache reports', () => {
  it('tells its listener of every failed read, and logs a failure streak once', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const { c, lines, tableErrors } = watched(table, clock);
    table.down = true;
    await c.get('payments');
    clock.now = T0 + TTL;
    await c.get('payments');
    assert.deepEqual(tableErrors, [
      ['NetworkingError', 'payments'],
      ['NetworkingError', 'payments'],
    ]);
    assert.deepEqual(lines, [
      {
        level: 'warn',
        msg: 'mesh policy: table read failed; keeping the last good copy',
        service: 'payments',
        table: 'shop-policy',
        error: 'NetworkingError: connect ECONNREFUSED',
        kept: 'none',
      },
    ]);
    // Recovered, then failing again: a new streak, logged with the copy it keeps.
    table.down = false;
    clock.now = T0 + 2 * TTL;
    await c.get('payments');
    table.down = true;
    clock.now = T0 + 3 * TTL;
    await c.get('payments');
    await c.settled();
    clock.now = T0 + 4 * TTL;
    await c.get('payments');
    await c.settled();
    assert.equal(tableErrors.length, 4);
    assert.deepEqual(
      lines.map((l) => l.kept),
      ['none', 'table'],
    );
  });

  it('logs what was thrown when it is not an Error', async () => {
    const { c, lines } = watched(
      {
        send: async () => {
          throw 'socket closed';
        },
      } as unknown as MemoryTable,
      { now: T0 },
    );
    await c.get('payments');
    assert.equal(lines[0].error, 'socket closed');
  });

  it('keeps serving when a listener throws, and says so', async () => {
    const table = new MemoryTable();
    table.down = true;
    const lines: Record<string, unknown>[] = [];
    const c = new PolicyCache({
      tableName: 'shop-policy',
      snapshotPath: null,
      now: () => T0,
      client: table,
      log: (l) => lines.push(JSON.parse(l)),
      onTableError: () => {
        throw new Error('listener bug');
      },
    });
    assert.equal((await c.get('payments')).origin, 'none');
    assert.deepEqual(lines[0], {
      level: 'warn',
      msg: 'mesh policy: a policy cache listener threw',
      error: 'Error: listener bug',
    });
  });

  it('reports a malformed item once per copy: to its listener and its log, with what it kept', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    table.items.push({ pk: { S: 'payments' }, sk: { S: 'allow#frontend' }, source: { S: 'not a name!' } } as never);
    const { c, lines, invalid } = watched(table, clock);
    await c.get('payments');
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.equal(invalid.length, 1, 'the same bad item on the next read is not reported again');
    assert.equal((invalid[0] as { sk: string }).sk, 'allow#frontend');
    assert.equal(lines.length, 1);
    assert.equal(lines[0].msg, 'mesh policy: ignoring malformed item');
    assert.equal(lines[0].sk, 'allow#frontend');
    assert.equal(lines[0].kept, 'nothing');
    assert.equal(lines[0].service, 'payments');
    assert.match(String(lines[0].error), /source/);
  });

  it('reports an item that turns bad on a later read, beside one reported before', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    table.items.push({ pk: { S: 'payments' }, sk: { S: 'allow#frontend' }, source: { S: 'not a name!' } } as never);
    const { c, invalid } = watched(table, clock);
    await c.get('payments');
    table.items.push({ pk: { S: 'payments' }, sk: { S: 'allow#backend' }, source: { S: 'Not A Name' } } as never);
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.deepEqual(
      invalid.map((i) => (i as { sk: string }).sk),
      ['allow#frontend', 'allow#backend'],
    );
  });

  it('says it kept the last good version when an item turns bad', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const { c, lines, invalid } = watched(table, clock);
    await c.get('payments');
    table.items[1] = { pk: { S: 'payments' }, sk: { S: 'allow#orders' }, source: { S: 'not a name!' } };
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.equal(invalid.length, 1);
    assert.equal(lines[0].kept, 'last good version');
    assert.equal(c.peek('payments')?.allows.has('orders'), true);
  });

  it('tells apart bad items without a sort key by their error', async () => {
    const table = new MemoryTable();
    table.items.push({ pk: { S: 'payments' }, sk: { N: '1' } } as never, { pk: { S: 'payments' } } as never);
    const { c, invalid } = watched(table, { now: T0 });
    await c.get('payments');
    assert.equal(invalid.length, 2);
  });
});

describe('policy cache snapshot', () => {
  const items = [
    { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
    { pk: 'payments', sk: 'allow#orders', source: 'orders' },
  ];

  it('dates a snapshot copy by its generation; a missing or future time makes it the oldest', async () => {
    const at = (generatedAt: string | undefined) =>
      new PolicyCache({
        tableName: 'shop-policy',
        snapshot: { mesh: 'shop', generatedAt, items } as never,
        now: () => T0,
        client: new MemoryTable(),
        log: () => undefined,
      }).get('payments');
    assert.equal((await at(new Date(T0 - 500).toISOString())).loadedAt, T0 - 500);
    const now = await at(new Date(T0).toISOString());
    assert.deepEqual([now.origin, now.loadedAt], ['snapshot', T0], 'generated this very millisecond');
    // Too old for authorization: the table is read (it answers with a fresh copy).
    assert.equal((await at(new Date(T0 + 1).toISOString())).origin, 'table');
    assert.equal((await at(undefined)).origin, 'table');
    assert.equal((await at('yesterday')).origin, 'table');
  });

  it('without a table, a snapshot copy is as new as the moment it is used', async () => {
    const c = new PolicyCache({ snapshot: { mesh: 'shop', items } as never, now: () => T0, log: () => undefined });
    const p = await c.get('payments');
    assert.equal(p.origin, 'snapshot');
    assert.equal(p.loadedAt, T0);
  });

  it('reports a bad snapshot item to its listener', async () => {
    const invalid: unknown[] = [];
    const c = new PolicyCache({
      snapshot: { mesh: 'shop', items: [...items, { pk: 'payments', sk: 'allow#x', source: 'not a name!' }] } as never,
      now: () => T0,
      onInvalidItem: (inv) => invalid.push(inv),
      log: () => undefined,
    });
    await c.get('payments');
    assert.equal(invalid.length, 1);
  });

  it('loads the snapshot file once, from the option or else the environment, and warns once if it cannot', async () => {
    const missing = join(tmpdir(), `no-such-snapshot-${process.pid}.json`);
    const lines: Record<string, unknown>[] = [];
    const log = (l: string) => lines.push(JSON.parse(l));
    const fromEnv = new PolicyCache({ env: { MESH_POLICY_SNAPSHOT: missing }, now: () => T0, log });
    await fromEnv.get('payments');
    await fromEnv.get('orders');
    assert.equal(lines.length, 1, 'one warning for the whole cache');
    assert.equal(lines[0].msg, 'mesh policy: no snapshot and no policy table; every call is refused');
    const none = new PolicyCache({ env: { MESH_POLICY_SNAPSHOT: missing }, snapshotPath: null, now: () => T0, log });
    await none.get('payments');
    assert.equal(lines.length, 1, 'snapshotPath null: no snapshot, whatever the environment says');
    const file = join(tmpdir(), `snapshot-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ mesh: 'shop', items }));
    const given = new PolicyCache({ env: { MESH_POLICY_SNAPSHOT: missing }, snapshotPath: file, now: () => T0, log });
    assert.equal((await given.get('payments')).origin, 'snapshot');
    assert.equal(lines.length, 1);
  });

  it('with a table, a snapshot it cannot load is only a warning: the table is read instead', async () => {
    const lines: Record<string, unknown>[] = [];
    const c = new PolicyCache({
      env: {
        MESH_POLICY_SNAPSHOT: join(tmpdir(), `no-such-snapshot-${process.pid}.json`),
        MESH_POLICY_TABLE: 'shop-policy',
      },
      now: () => T0,
      client: new MemoryTable(),
      log: (l) => lines.push(JSON.parse(l)),
    });
    assert.equal((await c.get('payments')).origin, 'table');
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['mesh policy: no snapshot; the first call of each service reads the table'],
    );
  });
});
