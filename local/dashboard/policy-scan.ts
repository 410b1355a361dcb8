/**
 * Reads a policy table's items for the dashboard over the wire, through the local endpoint's DynamoDB,
 * as `mesh status` reads them: one paginated, consistent Scan (the policy table is small).
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type AttributeValue as Av, unmarshallItem } from '../../shared/attribute-value';

/** Every item of a table, unmarshalled. */
export type PolicyScan = (table: string) => Promise<Record<string, unknown>[]>;

export function policyScan(client: () => DynamoDBClient): PolicyScan {
  return async (table) => {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client().send(
        new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) out.push(unmarshallItem(item as Record<string, Av>));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  };
}
