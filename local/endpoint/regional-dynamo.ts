/**
 * DynamoDB per region, as AWS keeps it: a table lives in one region, and a request reaches the tables
 * of the region its SigV4 credential scope names (unsigned: the endpoint's home region). Each region
 * gets its own embedded store on first use, so two regions' stacks may both create `shop-policy`
 * and each region's functions read their own. A proxy target keeps one backend: the DynamoDB behind
 * it reads the region from the same signature.
 */
import { type DynamoBackend, type DynamoOptions, startDynamo } from './dynamodb';
import type { TableStreams } from './table-streams';

export class RegionalDynamo {
  private readonly byRegion = new Map<string, DynamoBackend>();
  private proxy: DynamoBackend | undefined;

  constructor(
    private readonly options: DynamoOptions,
    /** Where a request signed for no region is served. */
    readonly home: string,
    /** Tables' streams: each region's store records the writes to its own watched tables. */
    private readonly streams?: TableStreams,
  ) {}

  /** The store of `region` (the home region when undefined), started on first use. */
  in(region: string | undefined): DynamoBackend {
    if (this.options.endpoint) {
      this.proxy ??= startDynamo(this.options);
      return this.proxy;
    }
    const key = region ?? this.home;
    let backend = this.byRegion.get(key);
    if (!backend) {
      backend = startDynamo({ ...this.options, streams: this.streams?.in(key) });
      this.byRegion.set(key, backend);
    }
    return backend;
  }

  /** Regions with a store, in the order they were first used. */
  regions(): string[] {
    return [...this.byRegion.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.byRegion.values(), ...(this.proxy ? [this.proxy] : [])];
    this.byRegion.clear();
    this.proxy = undefined;
    await Promise.all(all.map((b) => b.close()));
  }
}
