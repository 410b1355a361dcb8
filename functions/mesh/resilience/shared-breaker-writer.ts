/**
 * Writes the shared `breaker#<version>` item when this function's breaker for a target version opens,
 * so the other sandboxes calling that target eject the version too (they read it with the target's
 * policy). Fire-and-forget: one conditional PutItem that never overwrites a later opening; a failure
 * is logged and ignored (the local breaker already protects this sandbox). The DynamoDB client is
 * required on the first opening, never at init. Needs dynamodb:PutItem in the target's breaker
 * partition (`breaker#<target>`), which is all `MeshFunction` grants.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../../../shared/names';
import { sharedBreakerItem } from './shared-breaker';

export interface SharedBreakerWriterOptions {
  readonly tableName: string;
  /** A ready client (tests); default: created on first write, endpoint from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL. */
  readonly client?: Pick<DynamoDBClient, 'send'>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where a failed write is reported (one JSON line). */
  readonly log?: (line: string) => void;
}

export class SharedBreakerWriter {
  private client: Pick<DynamoDBClient, 'send'> | undefined;
  private Put: typeof import('@aws-sdk/client-dynamodb').PutItemCommand | undefined;
  /** Writes in flight (tests and shutdown may wait for them). */
  readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: SharedBreakerWriterOptions) {
    this.client = options.client;
  }

  /** Records that `target`'s `version` opened at `openedAt`; returns at once. */
  opened(target: string, version: string, openedAt: number, openMs: number): void {
    const p = this.put(target, version, openedAt, openMs)
      .catch((err: unknown) => {
        const e = err as { name?: string; message?: string };
        // A later opening already in the table is not a failure.
        if (e?.name === 'ConditionalCheckFailedException') return;
        (this.options.log ?? ((l) => process.stdout.write(`${l}\n`)))(
          JSON.stringify({
            level: 'WARN',
            msg: 'mesh: could not share an open breaker (ignored)',
            target,
            version,
            error: `${e?.name}: ${e?.message}`,
          }),
        );
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async put(target: string, version: string, openedAt: number, openMs: number): Promise<void> {
    if (!this.Put) {
      const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      this.Put = sdk.PutItemCommand;
      if (!this.client) {
        const env = this.options.env ?? process.env;
        const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined;
        this.client = new sdk.DynamoDBClient(endpoint ? { endpoint } : {});
      }
    }
    const item = sharedBreakerItem(target, version, openedAt, openMs);
    await this.client!.send(
      new this.Put({
        TableName: this.options.tableName,
        Item: {
          [TABLE.partitionKey]: { S: item.pk },
          [TABLE.sortKey]: { S: item.sk },
          version: { S: item.version },
          state: { S: item.state },
          openedAt: { N: String(item.openedAt) },
          [TABLE.ttlAttribute]: { N: String(item.ttl) },
        },
        // Never replace a later opening (another sandbox's, or an operator's edit).
        ConditionExpression: 'attribute_not_exists(#pk) OR #openedAt < :openedAt',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#openedAt': 'openedAt' },
        ExpressionAttributeValues: { ':openedAt': { N: String(item.openedAt) } },
      }),
    );
  }
}
