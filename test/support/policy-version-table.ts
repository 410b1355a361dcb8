/**
 * A policy table in memory for the policy cache's unit tests: payments' items, the policy version in
 * every shard (payments' bucket at the mark given, every other bucket at 0), change items in the shards
 * given. Records what was read, answers the partitions named in `throttling` with throttling, and holds
 * the reads of a partition open on request (`hold`).
 */
import type { PolicyTableClient } from '../../functions/mesh/policy/policy-cache';
import { type AttributeValue, marshallItem } from '../../shared/attribute-value';
import { changeItemKey } from '../../shared/change-items';
import { POLICY_VERSION } from '../../shared/names';
import type { ChangeEntry } from '../../shared/policy-changes';
import { bucketOf, versionKey } from '../../shared/policy-version';

/** The version attribute of payments' bucket. */
export const PAYMENTS_COUNTER = POLICY_VERSION.counter(bucketOf('payments'));
/** The change items' reference of the deploy `deploy` writes. */
export const DEPLOY_REF = '200.0';
/** The deploy: audit's allow removed from payments. */
export const DEPLOY: ChangeEntry = {
  mark: 200,
  prev: { [PAYMENTS_COUNTER]: 100 },
  changes: [{ pk: 'payments', sk: 'allow#audit' }],
};

export class PolicyVersionTable implements PolicyTableClient {
  readonly items = new Map<string, Record<string, AttributeValue>>();
  /** Partition keys read, in order: GetItem and Query. */
  readonly gets: string[] = [];
  readonly queries: string[] = [];
  /** Partitions whose reads are answered with throttling, and the name of the error. */
  readonly throttling = new Set<string>();
  throttlingError = 'ProvisionedThroughputExceededException';
  /** Partitions whose reads wait for a release, each with the gate they wait on. */
  private readonly held = new Map<string, Promise<void>>();

  constructor() {
    for (const sk of ['service', 'allow#orders', 'allow#audit']) {
      this.put({ pk: 'payments', sk, ...(sk.startsWith('allow#') ? { source: sk.slice(6) } : { functionName: 'f' }) });
    }
    this.version(100, []);
  }

  put(item: Record<string, unknown>): void {
    const m = marshallItem(item);
    this.items.set(`${m.pk!.S}|${m.sk!.S}`, m);
  }

  /** Every version shard at `mark` for the buckets of `counters` (payments' by default), with `changes`. */
  version(mark: number, changes: unknown[], counters: readonly string[] = [PAYMENTS_COUNTER]): void {
    const marks = Object.fromEntries(counters.map((c) => [c, mark]));
    for (let shard = 0; shard < POLICY_VERSION.shards; shard++) {
      const { pk, sk } = versionKey(shard);
      this.put({ pk: pk.S, sk: sk.S, generation: mark, ...marks, changes });
    }
  }

  /** No version item: a table no writer of this release has touched. */
  noVersion(): void {
    for (let shard = 0; shard < POLICY_VERSION.shards; shard++) {
      const { pk, sk } = versionKey(shard);
      this.items.delete(`${pk.S}|${sk.S}`);
    }
  }

  /** The deploy, as the seeder bumps it: audit's allow gone, change items in `shards` (the rest lag). */
  deploy(shards: readonly number[], entry: Record<string, unknown> = { ...DEPLOY }): void {
    this.items.delete('payments|allow#audit');
    for (const shard of shards) {
      const { pk, sk } = changeItemKey(shard, DEPLOY_REF);
      this.put({ pk: pk.S, sk: sk.S, ...entry });
    }
    this.version(200, [{ mark: 200, prev: DEPLOY.prev, changeItems: DEPLOY_REF }]);
  }

  /**
   * Reads of partition `pk` from now on wait until the function returned is called, then answer what the
   * table held when they were sent: a read in flight while other writes and reads land.
   */
  hold(pk: string): () => void {
    let release!: () => void;
    this.held.set(pk, new Promise<void>((r) => (release = r)));
    return () => {
      this.held.delete(pk);
      release();
    };
  }

  async send(command: unknown): Promise<unknown> {
    const input = (command as { input: { Key?: Record<string, { S: string }> } }).input;
    const key = input.Key;
    const query = (input as { ExpressionAttributeValues?: { ':pk': { S: string } } }).ExpressionAttributeValues;
    const pk = key ? key.pk!.S : query![':pk'].S;
    (key ? this.gets : this.queries).push(pk);
    if (this.throttling.has(pk)) throw Object.assign(new Error('slow down'), { name: this.throttlingError });
    const answer = key
      ? { Item: this.items.get(`${pk}|${key.sk!.S}`) }
      : { Items: [...this.items.values()].filter((i) => i.pk!.S === pk) };
    await this.held.get(pk);
    return answer;
  }

  /** The change shards read, in order. */
  changeShardsRead(): number[] {
    const prefix = POLICY_VERSION.changesPartition(0).slice(0, -1);
    return this.gets.filter((pk) => pk.startsWith(prefix)).map((pk) => Number(pk.slice(prefix.length)));
  }
}
