/**
 * An operator's policy item written straight into a running mesh's policy table, as `mesh policy set`
 * leaves one (managedBy operator): the wire tests change the policy under live traffic this way.
 */
import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { MANAGED_BY, TABLE } from '../../shared/names';

/** Puts the item `service`/`sortKey` with these attributes; returns its key, for the test's clean-up. */
export async function putOperatorItem(
  db: DynamoDBClient,
  table: string,
  service: string,
  sortKey: string,
  attributes: Record<string, AttributeValue>,
): Promise<Record<string, AttributeValue>> {
  const key = { [TABLE.partitionKey]: { S: service }, [TABLE.sortKey]: { S: sortKey } };
  await db.send(
    new PutItemCommand({
      TableName: table,
      Item: { ...key, managedBy: { S: MANAGED_BY.operator }, ...attributes },
    }),
  );
  return key;
}
