/**
 * Odd and hostile templates against `mesh local`: weak cross-stack references that form a cycle, a
 * TableV2 with indexes and replicas in other regions, and two stacks naming the same table. The local
 * mesh must name what is wrong and where, not crash with a stack overflow, refuse a valid table with
 * DynamoDB's bare message, or serve one stack's table to the other.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { Resolver } from '../../local/assembly/intrinsics';
import { startLocalMesh } from '../../local/mesh-local';
import { rejection } from '../support/rejection';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A cloud assembly of the given stacks (name -> resources and outputs) in a new temporary folder. */
function assembly(stacks: Record<string, { Resources?: unknown; Outputs?: unknown }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'odd-templates-'));
  const artifacts = Object.fromEntries(
    Object.keys(stacks).map((name) => [
      name,
      { type: 'aws:cloudformation:stack', properties: { templateFile: `${name}.template.json`, stackName: name } },
    ]),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts }));
  for (const [name, template] of Object.entries(stacks)) {
    writeFileSync(join(dir, `${name}.template.json`), JSON.stringify({ Resources: {}, ...template }));
  }
  return dir;
}

const output = (StackName: string, OutputName: string) => ({ 'Fn::GetStackOutput': { StackName, OutputName } });

describe('mesh local on odd templates', () => {
  it('names a cycle of weak cross-stack references instead of overflowing the stack', () => {
    const stack = (stackName: string, outputs: unknown) => ({
      id: stackName,
      stackName,
      dir: '/tmp',
      assets: new Map<string, string>(),
      template: { Resources: {}, Outputs: outputs as never },
    });
    const a = stack('A', { X: { Value: output('B', 'Y') } });
    const b = stack('B', { Y: { Value: output('A', 'X') } });
    const resolver = new Resolver([a, b], { region: 'us-east-1', accountId: '000000000000' });
    assert.throws(
      () => resolver.resolve(a, output('B', 'Y')),
      (err: Error) =>
        !(err instanceof RangeError) && /B\.Y -> A\.X -> B\.Y/.test(err.message) && /cycle/.test(err.message),
    );
  });

  it("creates a TableV2's indexes, and warns of the replicas it does not create", async () => {
    const dir = assembly({
      Data: {
        Resources: {
          Orders: {
            Type: 'AWS::DynamoDB::GlobalTable',
            Properties: {
              TableName: 'orders',
              KeySchema: [
                { AttributeName: 'pk', KeyType: 'HASH' },
                { AttributeName: 'sk', KeyType: 'RANGE' },
              ],
              AttributeDefinitions: [
                { AttributeName: 'pk', AttributeType: 'S' },
                { AttributeName: 'sk', AttributeType: 'S' },
                { AttributeName: 'customer', AttributeType: 'S' },
                { AttributeName: 'placed', AttributeType: 'N' },
              ],
              GlobalSecondaryIndexes: [
                {
                  IndexName: 'byCustomer',
                  KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }],
                  Projection: { ProjectionType: 'ALL' },
                  WriteProvisionedThroughputSettings: { WriteCapacityUnits: 5 },
                },
              ],
              LocalSecondaryIndexes: [
                {
                  IndexName: 'byPlaced',
                  KeySchema: [
                    { AttributeName: 'pk', KeyType: 'HASH' },
                    { AttributeName: 'placed', KeyType: 'RANGE' },
                  ],
                  Projection: { ProjectionType: 'KEYS_ONLY' },
                },
              ],
              BillingMode: 'PROVISIONED',
              WriteProvisionedThroughputSettings: { WriteCapacityUnits: 5 },
              StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
              TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
              Replicas: [
                { Region: 'us-east-1', ReadProvisionedThroughputSettings: { ReadCapacityUnits: 5 } },
                { Region: 'eu-west-1' },
              ],
            },
          },
        },
      },
    });
    const mesh = await startLocalMesh({ assemblies: [dir], port: 0, quiet: true });
    try {
      const warnings = mesh.deployments.flatMap((d) => d.warnings);
      assert.ok(
        warnings.some((w) => /orders \(Data\/Orders\)/.test(w) && /eu-west-1/.test(w)),
        JSON.stringify(warnings),
      );
      const ddb = new DynamoDBClient({ endpoint: mesh.url, region: 'us-east-1', credentials });
      await ddb.send(
        new PutItemCommand({
          TableName: 'orders',
          Item: { pk: { S: 'o-1' }, sk: { S: 'head' }, customer: { S: 'c-7' }, placed: { N: '3' } },
        }),
      );
      const byCustomer = await ddb.send(
        new QueryCommand({
          TableName: 'orders',
          IndexName: 'byCustomer',
          KeyConditionExpression: 'customer = :c',
          ExpressionAttributeValues: { ':c': { S: 'c-7' } },
        }),
      );
      assert.equal(byCustomer.Count, 1);
      const byPlaced = await ddb.send(
        new QueryCommand({
          TableName: 'orders',
          IndexName: 'byPlaced',
          KeyConditionExpression: 'pk = :p AND placed > :n',
          ExpressionAttributeValues: { ':p': { S: 'o-1' }, ':n': { N: '1' } },
        }),
      );
      assert.equal(byPlaced.Count, 1);
      ddb.destroy();
    } finally {
      await mesh.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a table another stack's table already names, naming both", async () => {
    const table = (key: string) => ({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'shared',
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      },
    });
    const dir = assembly({ A: { Resources: { T: table('a') } }, B: { Resources: { T: table('b') } } });
    try {
      const err = await rejection(() => startLocalMesh({ assemblies: [dir], port: 0, quiet: true }));
      assert.match(err.message, /shared/);
      assert.match(err.message, /B\/T/);
      assert.match(err.message, /A\/T/);
      assert.match(err.message, /TableName/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
