/**
 * What DynamoDB answers that the embedded dynalite does not, built on dynalite's own operations so the
 * item semantics (conditions, update expressions, validation) stay dynalite's:
 * - TransactWriteItems / TransactGetItems (API reference pages of the same names): all or nothing.
 *   Each action is applied in order with `ReturnValues: ALL_OLD`; when a condition fails, the applied
 *   ones are undone from their old images and the answer is TransactionCanceledException with one
 *   CancellationReason per action. The caller holds the endpoint's DynamoDB lock, so nobody sees the
 *   intermediate state.
 * - ReturnValuesOnConditionCheckFailure on PutItem, UpdateItem, DeleteItem: a failed condition answers
 *   ConditionalCheckFailedException with the item as it is (`Item`).
 * - DeletionProtectionEnabled on CreateTable / UpdateTable / DescribeTable, and DeleteTable refused
 *   while it is on; those answers' descriptions in DynamoDB's shape (table-description.ts).
 * - DynamoDB's nesting limit on what an update leaves (dynamo-nesting.ts): an UpdateItem, alone or in a
 *   transaction, that would leave its item nested past it is undone and refused.
 */

import { copiesIntoItself, NESTING_MESSAGE, nestsTooDeep, updateMayDeepen } from './dynamo-nesting';
import { messageMember } from './error-message-member';
import { describedAsDynamoDB } from './table-description';

/** One in-process dynalite call: operation + JSON body -> status + JSON body. */
export type DynamoCall = (operation: string, body: Record<string, unknown>) => Promise<DynamoReply>;

export interface DynamoReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Item = Record<string, unknown>;
type Body = Record<string, unknown>;

const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
/** Request validation is the framework's, not DynamoDB's model's: its errors carry the framework's namespace. */
const VALIDATION_PREFIX = 'com.amazon.coral.validate#';
/** DynamoDB's cap on actions in one transaction. */
export const TRANSACTION_LIMIT = 100;

/** An error as DynamoDB writes it: the namespaced `__type`, the message under the member its model names. */
export function dynamoError(code: string, message: string, fields: Record<string, unknown> = {}): DynamoReply {
  const prefix = code === 'ValidationException' ? VALIDATION_PREFIX : ERROR_PREFIX;
  const body = { __type: `${prefix}${code}`, [messageMember('dynamodb', code)]: message, ...fields };
  return { status: 400, body };
}

function isError(reply: DynamoReply, code: string): boolean {
  return reply.status >= 400 && String(reply.body.__type ?? '').endsWith(`#${code}`);
}

/** `arn:aws:dynamodb:<region>:<acct>:table/<name>` -> `<name>`; a name stays as it is. */
export function tableNameOf(value: unknown): string {
  const s = String(value ?? '');
  const m = /^arn:aws[a-zA-Z-]*:dynamodb:[^:]*:[^:]*:table\/([^/]+)$/.exec(s);
  return m ? m[1] : s;
}

/** The key attribute names of a table (DescribeTable), cached for one request. */
export function keyNames(call: DynamoCall): (table: string) => Promise<string[] | DynamoReply> {
  const cache = new Map<string, string[]>();
  return async (table) => {
    const cached = cache.get(table);
    if (cached) return cached;
    const r = await call('DescribeTable', { TableName: table });
    if (r.status >= 400) return r;
    const schema = ((r.body.Table as Body | undefined)?.KeySchema ?? []) as { AttributeName: string }[];
    const names = schema.map((k) => k.AttributeName);
    cache.set(table, names);
    return names;
  };
}

export function pick(item: Item, names: readonly string[]): Item {
  return Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n]]));
}

const ACTIONS = ['ConditionCheck', 'Put', 'Delete', 'Update'] as const;
type ActionKind = (typeof ACTIONS)[number];

interface Action {
  readonly kind: ActionKind;
  readonly table: string;
  readonly key: Item;
  readonly request: Body;
  readonly returnOld: boolean;
}

/** Validates and resolves the actions of a TransactWriteItems request, or answers its error. */
async function writeActions(call: DynamoCall, body: Body): Promise<Action[] | DynamoReply> {
  const items = body.TransactItems;
  if (!Array.isArray(items) || items.length === 0) {
    return dynamoError(
      'ValidationException',
      "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
    );
  }
  if (items.length > TRANSACTION_LIMIT) {
    return dynamoError(
      'ValidationException',
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${TRANSACTION_LIMIT}`,
    );
  }
  const keysOf = keyNames(call);
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const entry of items as Body[]) {
    const kinds = ACTIONS.filter((k) => entry?.[k] !== undefined);
    if (kinds.length !== 1) {
      return dynamoError('ValidationException', 'TransactItems can only contain one of Check, Put, Update or Delete');
    }
    const kind = kinds[0];
    const request = { ...(entry[kind] as Body) };
    const table = tableNameOf(request.TableName);
    request.TableName = table;
    const names = await keysOf(table);
    if (!Array.isArray(names)) return transactionError(names);
    const key = kind === 'Put' ? pick((request.Item ?? {}) as Item, names) : ((request.Key ?? {}) as Item);
    const id = `${table}\0${JSON.stringify(pick(key, names))}`;
    if (seen.has(id)) {
      return dynamoError('ValidationException', 'Transaction request cannot include multiple operations on one item');
    }
    seen.add(id);
    const returnOld = request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
    delete request.ReturnValuesOnConditionCheckFailure;
    actions.push({ kind, table, key: pick(key, names), request, returnOld });
  }
  return actions;
}

/**
 * A transaction naming a table that is not there is answered without the table's name, unlike
 * DescribeTable ("Requested resource not found", recorded AWS responses).
 */
function transactionError(reply: DynamoReply): DynamoReply {
  return isError(reply, 'ResourceNotFoundException')
    ? dynamoError('ResourceNotFoundException', 'Requested resource not found')
    : reply;
}

/** The write that carries out an action and reports the old image (a check deletes under its condition). */
function writeOf(a: Action): { operation: string; body: Body } {
  const body = { ...a.request, ReturnValues: 'ALL_OLD' };
  switch (a.kind) {
    case 'Put':
      return { operation: 'PutItem', body };
    case 'Update':
      return { operation: 'UpdateItem', body };
    default:
      return { operation: 'DeleteItem', body };
  }
}

/** Puts an item back as it was before an action (or removes one the action created). */
async function undo(call: DynamoCall, a: Action, old: Item | undefined): Promise<void> {
  if (old) await call('PutItem', { TableName: a.table, Item: old });
  else if (a.kind !== 'ConditionCheck') await call('DeleteItem', { TableName: a.table, Key: a.key });
}

export async function transactWriteItems(call: DynamoCall, body: Body): Promise<DynamoReply> {
  const actions = await writeActions(call, body);
  if (!Array.isArray(actions)) return actions;
  if (actions.some((a) => a.kind === 'Update' && copiesIntoItself(a.request))) return SELF_COPY;
  const applied: { action: Action; old: Item | undefined }[] = [];
  const reasons: Body[] = [];
  let failed = false;
  const rollback = async () => {
    for (const { action, old } of applied.reverse()) await undo(call, action, old);
  };
  for (const [index, action] of actions.entries()) {
    const { operation, body: request } = writeOf(action);
    const reply = await call(operation, request);
    if (isError(reply, 'ConditionalCheckFailedException')) {
      failed = true;
      const current = action.returnOld ? await currentItem(call, action) : undefined;
      reasons.push({
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(current ? { Item: current } : {}),
      });
      continue;
    }
    if (reply.status >= 400) {
      await rollback();
      return reply;
    }
    const old = reply.body.Attributes as Item | undefined;
    applied.push({ action, old });
    if (action.kind === 'Update' && (await leftTooDeep(call, action))) {
      await rollback();
      return cancelledForNesting(actions.length, index);
    }
    // A check only looked: the item goes back at once.
    if (action.kind === 'ConditionCheck' && old) await call('PutItem', { TableName: action.table, Item: old });
    reasons.push({ Code: 'None' });
  }
  if (!failed) return { status: 200, body: {} };
  await rollback();
  const codes = reasons.map((r) => r.Code).join(', ');
  return dynamoError(
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
    { CancellationReasons: reasons },
  );
}

/**
 * An update that sets a path to a document holding it: DynamoDB copies the document there, dynalite
 * would put the document inside itself (dynamo-nesting.ts), so it is refused, by name, before it runs.
 */
const SELF_COPY = dynamoError(
  'ValidationException',
  'lambda-mesh local endpoint does not support an update that sets a path to a copy of a document holding it ' +
    '(SET d.a = d); read the document and set it as a value (SET d.a = :copy)',
);

/** Whether the item an update action left nests past DynamoDB's limit (dynamo-nesting.ts). */
async function leftTooDeep(call: DynamoCall, action: Action): Promise<boolean> {
  return updateMayDeepen(action.request) && nestsTooDeep(await currentItem(call, action));
}

/**
 * A transaction whose update would leave an item nested too deep: cancelled as a whole, that action's
 * reason a ValidationError (TransactWriteItems, AWS DynamoDB API Reference), the others' None.
 */
function cancelledForNesting(count: number, index: number): DynamoReply {
  const reasons = Array.from({ length: count }, (_, i) =>
    i === index ? { Code: 'ValidationError', Message: NESTING_MESSAGE } : { Code: 'None' },
  );
  const codes = reasons.map((r) => r.Code).join(', ');
  return dynamoError(
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
    { CancellationReasons: reasons },
  );
}

/**
 * An UpdateItem that may leave its item deeper than its request (a `SET`): the item is read before and
 * after, and put back as it was, the update refused with DynamoDB's ValidationException, when the update
 * left it nested past DynamoDB's limit. The caller holds the lock alone, so nobody sees it in between.
 */
export async function updateWithinNesting(call: DynamoCall, body: Body): Promise<DynamoReply> {
  const update = () =>
    body.ReturnValuesOnConditionCheckFailure === undefined
      ? call('UpdateItem', body)
      : writeReturningOnFailure(call, 'UpdateItem', body);
  if (!updateMayDeepen(body)) return update();
  if (copiesIntoItself(body)) return SELF_COPY;
  const target = { table: tableNameOf(body.TableName), key: (body.Key ?? {}) as Item };
  const before = await currentItem(call, target);
  const reply = await update();
  if (reply.status >= 400 || !nestsTooDeep(await currentItem(call, target))) return reply;
  if (before) await call('PutItem', { TableName: target.table, Item: before });
  else await call('DeleteItem', { TableName: target.table, Key: target.key });
  return dynamoError('ValidationException', NESTING_MESSAGE);
}

async function currentItem(call: DynamoCall, a: { table: string; key: Item }): Promise<Item | undefined> {
  const r = await call('GetItem', { TableName: a.table, Key: a.key, ConsistentRead: true });
  return r.status < 400 ? (r.body.Item as Item | undefined) : undefined;
}

export async function transactGetItems(call: DynamoCall, body: Body): Promise<DynamoReply> {
  const items = body.TransactItems;
  if (!Array.isArray(items) || items.length === 0 || items.length > TRANSACTION_LIMIT) {
    return dynamoError(
      'ValidationException',
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and ${TRANSACTION_LIMIT}`,
    );
  }
  const responses: Body[] = [];
  for (const entry of items as Body[]) {
    const get = (entry?.Get ?? {}) as Body;
    const reply = await call('GetItem', { ...get, TableName: tableNameOf(get.TableName), ConsistentRead: true });
    if (reply.status >= 400) return reply;
    responses.push(reply.body.Item ? { Item: reply.body.Item } : {});
  }
  return { status: 200, body: { Responses: responses } };
}

/**
 * PutItem / UpdateItem / DeleteItem with ReturnValuesOnConditionCheckFailure: dynalite gets the request
 * without it; a failed condition answers with the item as it is when the caller asked for ALL_OLD.
 */
export async function writeReturningOnFailure(call: DynamoCall, operation: string, body: Body): Promise<DynamoReply> {
  const mode = body.ReturnValuesOnConditionCheckFailure;
  const request = { ...body };
  delete request.ReturnValuesOnConditionCheckFailure;
  if (mode !== undefined && mode !== 'ALL_OLD' && mode !== 'NONE') {
    return dynamoError(
      'ValidationException',
      `1 validation error detected: Value '${String(mode)}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
    );
  }
  const reply = await call(operation, request);
  if (mode !== 'ALL_OLD' || !isError(reply, 'ConditionalCheckFailedException')) return reply;
  const table = tableNameOf(request.TableName);
  let key = (request.Key ?? {}) as Item;
  if (operation === 'PutItem') {
    const names = await keyNames(call)(table);
    if (!Array.isArray(names)) return reply;
    key = pick((request.Item ?? {}) as Item, names);
  }
  const item = await currentItem(call, { table, key });
  if (!item) return reply;
  // With the item attached AWS writes the message as `Message`, not the model's `message` (recorded
  // responses: LocalStack's test_return_values_on_conditions_check_failure snapshot).
  const { message, ...rest } = reply.body;
  return { status: reply.status, body: { ...rest, Message: message, Item: item } };
}

/** Deletion protection per table: kept here, reported in every TableDescription, enforced on DeleteTable. */
export class DeletionProtection {
  private readonly protectedTables = new Set<string>();

  async handle(call: DynamoCall, operation: string, body: Body): Promise<DynamoReply | undefined> {
    switch (operation) {
      case 'CreateTable':
        return this.describeAfter(call, operation, body);
      case 'UpdateTable':
        return this.update(call, body);
      case 'DescribeTable':
        return this.annotate(await call(operation, body), tableNameOf(body.TableName), operation);
      case 'DeleteTable':
        return this.delete(call, body);
      default:
        return undefined;
    }
  }

  private async describeAfter(call: DynamoCall, operation: string, body: Body): Promise<DynamoReply> {
    const { DeletionProtectionEnabled: flag, ...rest } = body;
    const table = tableNameOf(body.TableName);
    const reply = await call(operation, rest);
    // dynalite refuses an existing name with an empty message; DynamoDB names the table (recorded).
    if (isError(reply, 'ResourceInUseException') && !reply.body.message) {
      return dynamoError('ResourceInUseException', `Table already exists: ${table}`);
    }
    if (reply.status < 400 && flag === true) this.protectedTables.add(table);
    return this.annotate(reply, table, operation);
  }

  private async update(call: DynamoCall, body: Body): Promise<DynamoReply> {
    const { DeletionProtectionEnabled: flag, ...rest } = body;
    const table = tableNameOf(body.TableName);
    if (flag === undefined) return this.annotate(await call('UpdateTable', rest), table, 'UpdateTable');
    // dynalite wants some other change in an UpdateTable; a flag alone is answered from DescribeTable.
    const others = Object.keys(rest).filter((k) => k !== 'TableName');
    const reply =
      others.length > 0 ? await call('UpdateTable', rest) : await call('DescribeTable', { TableName: table });
    if (reply.status >= 400) return reply;
    if (flag === true) this.protectedTables.add(table);
    else this.protectedTables.delete(table);
    const description = (reply.body.TableDescription ?? reply.body.Table) as Body;
    return this.annotate({ status: 200, body: { TableDescription: description } }, table, 'UpdateTable');
  }

  private async delete(call: DynamoCall, body: Body): Promise<DynamoReply> {
    const table = tableNameOf(body.TableName);
    if (this.protectedTables.has(table)) {
      return dynamoError(
        'ValidationException',
        'Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.',
      );
    }
    return this.annotate(await call('DeleteTable', body), table, 'DeleteTable');
  }

  /** The table's description with its protection, in DynamoDB's shape for `operation` (table-description.ts). */
  private annotate(reply: DynamoReply, table: string, operation: string): DynamoReply {
    if (reply.status >= 400) return reply;
    const key = reply.body.Table ? 'Table' : reply.body.TableDescription ? 'TableDescription' : undefined;
    if (!key) return reply;
    const shaped = describedAsDynamoDB(operation, reply.body[key] as Body);
    const described = { ...shaped, DeletionProtectionEnabled: this.protectedTables.has(table) };
    return { status: reply.status, body: { ...reply.body, [key]: described } };
  }
}
