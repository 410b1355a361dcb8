/**
 * An app's own `TableV2` (`AWS::DynamoDB::GlobalTable`, the table CDK recommends) is created by the
 * local mesh as a `Table` is, with its keys, and its ARN resolves in a function's environment.
 */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { oneStackAssembly } from '../support/one-stack-assembly';

describe("an app's TableV2 on the local mesh", () => {
  let dir = '';
  let mesh: LocalMesh | undefined;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

  before(async () => {
    // GIVEN a stack with a TableV2 and a function that names its ARN
    dir = oneStackAssembly('global-table', {
      Orders: {
        Type: 'AWS::DynamoDB::GlobalTable',
        Properties: {
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
          Replicas: [{ Region: 'us-east-1' }],
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'orders-reader',
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Code: { ZipFile: 'exports.handler = async () => "ok";' },
          Environment: { Variables: { TABLE_ARN: { 'Fn::GetAtt': ['Orders', 'Arn'] } } },
        },
      },
    });
    // WHEN the local mesh serves it
    mesh = await startLocalMesh({ assemblies: [dir], port: 0, quiet: true });
  });
  after(async () => {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the table with its key', async () => {
    const ddb = new DynamoDBClient({ endpoint: mesh!.url, region: 'us-east-1', credentials });
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: 'S-Orders' }));
    assert.deepEqual(Table?.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
  });

  it("resolves the table's ARN in the function's environment", async () => {
    const lambda = new LambdaClient({ endpoint: mesh!.url, region: 'us-east-1', credentials });
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-reader' }));
    assert.equal(config.Environment?.Variables?.TABLE_ARN, 'arn:aws:dynamodb:us-east-1:000000000000:table/S-Orders');
  });
});
