/** A DynamoDB SDK client as the policy version's writer (shared/policy-version.ts `VersionWriter`). */
import {
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { VersionWriter } from '../../shared/policy-version';

export function versionWriter(client: DynamoDBClient): VersionWriter {
  return {
    transactWrite: (input) => client.send(new TransactWriteItemsCommand(input as never)),
    updateItem: (input) => client.send(new UpdateItemCommand(input as never)),
    getItem: (input) => client.send(new GetItemCommand(input as never)) as never,
  };
}
