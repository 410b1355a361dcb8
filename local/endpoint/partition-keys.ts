/**
 * Each table's partition key (and each index's), as DescribeTable tells it: IAM's `dynamodb:LeadingKeys`
 * is the value of that attribute in a request. Read once per table over the endpoint's own wire (signed
 * with a key no sandbox holds, so it is not evaluated) and kept: a table's key schema never changes.
 */
import { localDynamoClient } from './dynamodb';

type Client = ReturnType<typeof localDynamoClient>;

export class PartitionKeys {
  private readonly clients = new Map<string, Client>();
  private readonly known = new Map<string, Promise<Map<string, string> | undefined>>();

  constructor(private readonly endpoint: () => string) {}

  /** The partition key of `table` (or of its index `index`) in `region`; undefined when there is no such table. */
  async of(region: string, table: string, index?: string): Promise<string | undefined> {
    const key = `${region}\0${table}`;
    let schema = this.known.get(key);
    if (!schema) {
      schema = this.describe(region, table);
      this.known.set(key, schema);
      // A table that is not there yet may be created later: ask again then.
      void schema.then((s) => s === undefined && this.known.delete(key));
    }
    return (await schema)?.get(index ?? '');
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /** The hash key of the table ('' in the map) and of each of its indexes. */
  private async describe(region: string, table: string): Promise<Map<string, string> | undefined> {
    let client = this.clients.get(region);
    if (!client) {
      client = localDynamoClient(this.endpoint(), region);
      this.clients.set(region, client);
    }
    const { DescribeTableCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      const hashOf = (schema?: { AttributeName?: string; KeyType?: string }[]) =>
        schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
      const keys = new Map<string, string>();
      const own = hashOf(Table?.KeySchema);
      if (own) keys.set('', own);
      for (const i of [...(Table?.GlobalSecondaryIndexes ?? []), ...(Table?.LocalSecondaryIndexes ?? [])]) {
        const hash = hashOf(i.KeySchema);
        if (i.IndexName && hash) keys.set(i.IndexName, hash);
      }
      return keys;
    } catch {
      return undefined;
    }
  }
}
