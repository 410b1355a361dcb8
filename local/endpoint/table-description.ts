/**
 * A TableDescription as DynamoDB writes it where dynalite's differs (recorded AWS responses:
 * LocalStack's test_dynamodb.py test_table_crud and test_gsi_with_billing_mode). Pure.
 * - TableId is a UUID; dynalite's last group has 8 hex digits where a UUID has 12.
 * - DescribeTable of an active table gives its warm throughput, and each global secondary index's:
 *   the provisioned units of a provisioned table, 12,000 reads and 4,000 writes per second on demand.
 * - DeleteTable's description leaves out the key schema, the attribute definitions and the creation time.
 */
import { createHash } from 'node:crypto';

type Description = Record<string, unknown>;

/** What DynamoDB reports as the warm throughput of an on-demand table or index (recorded). */
const ON_DEMAND_WARM = { ReadUnitsPerSecond: 12_000, WriteUnitsPerSecond: 4_000 };

/** Fields DeleteTable's description has not (recorded: test_table_crud, delete-table). */
const NOT_IN_DELETE = ['AttributeDefinitions', 'KeySchema', 'CreationDateTime'];

export function describedAsDynamoDB(operation: string, d: Description): Description {
  const out: Description = { ...d };
  if (typeof out.TableId === 'string') out.TableId = asUuid(out.TableId);
  if (operation === 'DescribeTable' && out.TableStatus === 'ACTIVE') {
    out.WarmThroughput = warmThroughput(out);
    if (Array.isArray(out.GlobalSecondaryIndexes)) {
      out.GlobalSecondaryIndexes = (out.GlobalSecondaryIndexes as Description[]).map((index) => ({
        ...index,
        WarmThroughput: warmThroughput(index),
      }));
    }
  }
  if (operation === 'DeleteTable') for (const key of NOT_IN_DELETE) delete out[key];
  return out;
}

function warmThroughput(d: Description): Description {
  const p = (d.ProvisionedThroughput ?? {}) as { ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  const provisioned = (p.ReadCapacityUnits ?? 0) > 0 || (p.WriteCapacityUnits ?? 0) > 0;
  const units = provisioned
    ? { ReadUnitsPerSecond: p.ReadCapacityUnits ?? 0, WriteUnitsPerSecond: p.WriteCapacityUnits ?? 0 }
    : ON_DEMAND_WARM;
  return {
    ReadUnitsPerSecond: units.ReadUnitsPerSecond,
    Status: 'ACTIVE',
    WriteUnitsPerSecond: units.WriteUnitsPerSecond,
  };
}

/**
 * dynalite's id made a UUID, the same one every time for the same table: its last group completed from
 * a hash of the id, its variant digit one of 8, 9, a, b. An id that is a UUID already stays as it is.
 */
export function asUuid(id: string): string {
  const groups = id.split('-');
  if (groups.length !== 5 || groups[4].length === 12) return id;
  const fill = createHash('sha256').update(id).digest('hex');
  const last = `${groups[4]}${fill}`.slice(0, 12);
  const variant = `${'89ab'[Number.parseInt(groups[3][0] ?? '0', 16) & 3]}${groups[3].slice(1)}`;
  return [groups[0], groups[1], groups[2], variant, last].join('-');
}
