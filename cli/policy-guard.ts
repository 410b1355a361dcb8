/**
 * What a policy write expects of its item: the state the command read and planned against. Two
 * operators (or an operator and a deploy) that read the same item and write it one after the other
 * would otherwise both be told their change was applied, and the first change would be gone unseen;
 * with the guard the second write is refused, as `kubectl apply` refuses a stale resourceVersion.
 *
 * The item as read is pinned by its string and boolean attributes: the CLI's `updatedAt` stamp
 * (a new one on every CLI write), `managedBy`, sources, reasons, names. Numbers and nested maps are
 * not compared: a number's text can change in a read and write back ("1.50" is read as 1.5), and
 * DynamoDB Local emulators differ in how they compare maps. An absent item must still be absent.
 */
import { TABLE } from '../shared/names';
import type { PolicyKey, RawItem } from './policy-plan';

/** The condition of one write, in the fields DynamoDB's Put, Delete and their transaction actions take. */
export interface WriteGuard {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, { S: string } | { BOOL: boolean }>;
}

/** The guard of a write to `key`, given the items the command read (`basis`). */
export function writeGuard(key: PolicyKey, basis: readonly RawItem[]): WriteGuard {
  const read = basis.find((i) => i[TABLE.partitionKey] === key.pk && i[TABLE.sortKey] === key.sk);
  if (!read)
    return {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
    };
  const names: Record<string, string> = { '#pk': TABLE.partitionKey };
  const values: Record<string, { S: string } | { BOOL: boolean }> = {};
  const terms = ['attribute_exists(#pk)'];
  const pinned = Object.entries(read).filter(
    ([name, value]) =>
      name !== TABLE.partitionKey &&
      name !== TABLE.sortKey &&
      (typeof value === 'string' || typeof value === 'boolean'),
  );
  pinned.forEach(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:v${i}`] = typeof value === 'string' ? { S: value } : { BOOL: value as boolean };
    terms.push(`#a${i} = :v${i}`);
  });
  // A stamp the command did not see means another CLI write came in between.
  if (read.updatedAt === undefined) {
    names['#stamp'] = 'updatedAt';
    terms.push('attribute_not_exists(#stamp)');
  }
  return {
    ConditionExpression: terms.join(' AND '),
    ExpressionAttributeNames: names,
    ...(pinned.length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}
