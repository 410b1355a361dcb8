/**
 * The local endpoint answers the Lambda API as AWS documents it, through the real @aws-sdk/client-lambda
 * on loopback: every FunctionConfiguration field, the states tools wait on, qualified $LATEST ARNs, the
 * update, permission, tag, concurrency and account operations, AWS's waiters and paginators. Each test
 * names the AWS API reference page its shape comes from.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  paginateListAliases,
  paginateListFunctions,
  paginateListVersionsByFunction,
  RemovePermissionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  waitUntilPublishedVersionActive,
} from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { GET_FUNCTION_FIELDS } from '../support/function-configuration-fields';
import { zipFiles } from '../support/zip-writer';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** AWS API reference, "ListFunctions": these fields come from GetFunction only. */
const ONLY_FROM_GET = ['State', 'LastUpdateStatus', 'RuntimeVersionConfig'];

type Failure = Error & { $metadata: { httpStatusCode?: number } };

describe('local endpoint: Lambda as AWS documents it', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  // Updates and publishes stay InProgress / Pending until the test releases them.
  const held: (() => void)[] = [];
  const release = () => {
    for (const run of held.splice(0)) run();
  };
  const registry = new TestRegistry(undefined, { settle: (run) => held.push(run) });

  before(async () => {
    registry.add('orders', async () => ({ ok: true }), { MESH_SERVICE: 'orders' });
    for (let i = 0; i < 5; i++) registry.add(`batch-${i}`, async () => i);
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), log: () => undefined });
    lambda = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    lambda.destroy();
    await endpoint.close();
  });

  const fields = (o: object | undefined) => Object.keys(o ?? {}).sort();
  const settle = async () => release();

  // AWS API reference, "GetFunction" and "FunctionConfiguration".
  it('sends every FunctionConfiguration field AWS sends, with their documented values', async () => {
    const f = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }));
    const c = f.Configuration!;
    assert.deepEqual(fields(c), GET_FUNCTION_FIELDS);
    assert.equal(c.FunctionArn, `${ARN}:orders`);
    assert.equal(c.State, 'Active');
    assert.equal(c.LastUpdateStatus, 'Successful');
    assert.deepEqual(c.EphemeralStorage, { Size: 512 });
    assert.deepEqual(c.SnapStart, { ApplyOn: 'None', OptimizationStatus: 'Off' });
    assert.deepEqual(c.LoggingConfig, { LogFormat: 'Text', LogGroup: '/aws/lambda/orders' });
    assert.match(c.RuntimeVersionConfig?.RuntimeVersionArn ?? '', /^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/);
    assert.equal(c.PackageType, 'Zip');
    assert.equal(typeof c.CodeSize, 'number');
    assert.deepEqual(f.Code?.RepositoryType, 'S3');
  });

  // AWS API reference, "GetFunction" / "ListVersionsByFunction" / "ListFunctions": a call that names
  // $LATEST gets the qualified ARN; lists carry the subset ListFunctions documents.
  it('qualifies $LATEST ARNs where the caller names $LATEST, and lists the documented subset', async () => {
    const latest = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'orders', Qualifier: '$LATEST' }),
    );
    assert.equal(latest.FunctionArn, `${ARN}:orders:$LATEST`);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'orders' }));
    assert.equal(versions.Versions?.[0].FunctionArn, `${ARN}:orders:$LATEST`);
    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    assert.equal(all.Functions?.find((x) => x.FunctionName === 'orders')?.FunctionArn, `${ARN}:orders:$LATEST`);
    const plain = await lambda.send(new ListFunctionsCommand({}));
    const listed = plain.Functions?.find((x) => x.FunctionName === 'orders');
    assert.equal(listed?.FunctionArn, `${ARN}:orders`);
    assert.deepEqual(
      fields(listed),
      GET_FUNCTION_FIELDS.filter((k) => !ONLY_FROM_GET.includes(k)),
    );
    await assert.rejects(lambda.send(new ListFunctionsCommand({ FunctionVersion: 'latest' as 'ALL' })), {
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'latest' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]",
    });
  });

  // AWS API reference, "UpdateFunctionConfiguration" and "Lambda function states": InProgress until the
  // update settles; another update meanwhile is 409; function-updated-v2 waits for Successful.
  it('moves through InProgress to Successful on UpdateFunctionConfiguration; waiters follow', async () => {
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'orders',
        Timeout: 10,
        Environment: { Variables: { MESH_SERVICE: 'orders', EXTRA: '1' } },
      }),
    );
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    assert.equal(updated.LastUpdateStatusReason, 'The function is being created.');
    assert.equal(updated.LastUpdateStatusReasonCode, 'Creating');
    assert.equal(updated.Timeout, 10);
    assert.notEqual(updated.RevisionId, before.RevisionId);
    await assert.rejects(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders', MemorySize: 256 })),
      (e: Failure) =>
        e.name === 'ResourceConflictException' &&
        e.$metadata.httpStatusCode === 409 &&
        e.message ===
          `The operation cannot be performed at this time. An update is in progress for resource: ${ARN}:orders`,
    );
    const waiting = waitUntilFunctionUpdatedV2(
      { client: lambda, maxWaitTime: 60, minDelay: 1 },
      { FunctionName: 'orders' },
    );
    assert.equal(
      (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).LastUpdateStatus,
      'InProgress',
    );
    release();
    assert.equal((await waiting).state, 'SUCCESS');
    const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }));
    assert.equal(after.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(after.Configuration?.LastUpdateStatusReason, undefined);
    assert.deepEqual(after.Configuration?.Environment?.Variables, { MESH_SERVICE: 'orders', EXTRA: '1' });
    assert.equal(
      (await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 10 }, { FunctionName: 'orders' })).state,
      'SUCCESS',
    );
  });

  // AWS API reference, "UpdateFunctionConfiguration": limits and the 4 KB environment.
  it('refuses what UpdateFunctionConfiguration refuses', async () => {
    await settle();
    await assert.rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders', Timeout: 0 })), {
      name: 'ValidationException',
      message:
        "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
    });
    await assert.rejects(
      lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'orders',
          Environment: { Variables: { BIG: 'x'.repeat(4100) } },
        }),
      ),
      (e: Failure) =>
        e.name === 'InvalidParameterValueException' &&
        e.message.startsWith(
          'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"BIG":"xxx',
        ),
    );
    await assert.rejects(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders', Layers: ['arn:aws:lambda:x'] })),
      (e: Failure) => e.name === 'InvalidParameterValueException' && /cannot apply Layers/.test(e.message),
    );
  });

  // AWS API reference, "UpdateFunctionCode" (ZipFile, Publish) and "PublishVersion": a new version is
  // Pending until it is Active; published-version-active waits for it.
  it('installs a ZipFile package, publishes it Pending, then Active', async () => {
    await settle();
    const zip = zipFiles({
      'index.js': 'exports.handler = async () => "v2";\n',
      'lib/util.js': 'module.exports = 1;\n',
    });
    const out = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: zip, Publish: true }),
    );
    assert.equal(out.Version, '1');
    assert.equal(out.FunctionArn, `${ARN}:orders:1`);
    assert.equal(out.State, 'Pending');
    assert.equal(out.StateReasonCode, 'Creating');
    assert.equal(out.LastUpdateStatus, undefined);
    assert.equal(out.CodeSize, zip.length);
    assert.equal(out.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));
    assert.equal(latest.LastUpdateStatus, 'InProgress');
    const waiting = waitUntilPublishedVersionActive(
      { client: lambda, maxWaitTime: 60, minDelay: 1 },
      { FunctionName: 'orders', Qualifier: '1' },
    );
    release();
    assert.equal((await waiting).state, 'SUCCESS');
    const v1 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders', Qualifier: '1' }));
    assert.deepEqual([v1.State, v1.LastUpdateStatus], ['Active', 'Successful']);
    // The package is unpacked where the new version runs from.
    const codeDir = registry.getSpec('orders', '1')!.codeDir;
    assert.equal(readFileSync(join(codeDir, 'index.js'), 'utf8'), 'exports.handler = async () => "v2";\n');
    assert.ok(existsSync(join(codeDir, 'lib/util.js')));
  });

  it('refuses code it cannot install, naming why', async () => {
    await settle();
    await assert.rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', S3Bucket: 'b', S3Key: 'k.zip' })),
      (e: Failure) => e.name === 'InvalidParameterValueException' && /no S3/.test(e.message),
    );
    await assert.rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: Buffer.from('not a zip') })),
      (e: Failure) => e.name === 'InvalidParameterValueException' && /^Could not unzip uploaded file/.test(e.message),
    );
    const outside = zipFiles({ '../outside.js': 'x' });
    await assert.rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: outside })),
      (e: Failure) => e.name === 'InvalidParameterValueException' && /outside the package/.test(e.message),
    );
  });

  // AWS API reference, "DeleteAlias": 204; deleting an alias that is not there succeeds too.
  it('deletes aliases, and an unknown one without complaint', async () => {
    await lambda.send(new CreateAliasCommand({ FunctionName: 'orders', Name: 'beta', FunctionVersion: '1' }));
    const del = await lambda.send(new DeleteAliasCommand({ FunctionName: 'orders', Name: 'beta' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await assert.rejects(lambda.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'beta' })), {
      name: 'ResourceNotFoundException',
      message: `Cannot find alias arn: ${ARN}:orders:beta`,
    });
    assert.equal(
      (await lambda.send(new DeleteAliasCommand({ FunctionName: 'orders', Name: 'beta' }))).$metadata.httpStatusCode,
      204,
    );
    await assert.rejects(lambda.send(new DeleteAliasCommand({ FunctionName: 'nope', Name: 'beta' })), {
      name: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:nope`,
    });
  });

  // AWS API reference, "AddPermission" / "GetPolicy" / "RemovePermission".
  it('keeps a resource policy per qualifier: AddPermission, GetPolicy, RemovePermission', async () => {
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders', Qualifier: '1' }));
    const permit = (extra: { Qualifier?: string; StatementId?: string; Principal?: string; SourceArn?: string }) =>
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'orders',
          Qualifier: '1',
          StatementId: 's3',
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
          ...extra,
        }),
      );
    const added = await permit({ SourceArn: 'arn:aws:s3:::bucket' });
    assert.deepEqual(JSON.parse(added.Statement!), {
      Sid: 's3',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}:orders:1`,
      Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::bucket' } },
    });
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: 'orders', Qualifier: '1' }));
    const doc = JSON.parse(policy.Policy!);
    assert.deepEqual([doc.Version, doc.Id, doc.Statement.length], ['2012-10-17', 'default', 1]);
    assert.notEqual(policy.RevisionId, before.RevisionId);
    await assert.rejects(permit({}), {
      name: 'ResourceConflictException',
      message:
        'The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.',
    });
    await assert.rejects(permit({ Qualifier: '$LATEST', StatementId: 'x', Principal: '*' }), {
      name: 'InvalidParameterValueException',
      message: 'We currently do not support adding policies for $LATEST.',
    });
    await assert.rejects(
      lambda.send(new RemovePermissionCommand({ FunctionName: 'orders', Qualifier: '1', StatementId: 'nope' })),
      { name: 'ResourceNotFoundException', message: 'Statement nope is not found in resource policy.' },
    );
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'orders', Qualifier: '1', StatementId: 's3' }));
    await assert.rejects(lambda.send(new GetPolicyCommand({ FunctionName: 'orders', Qualifier: '1' })), {
      name: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
    });
  });

  // AWS API reference, "TagResource" / "ListTags" / "UntagResource"; GetFunction returns Tags.
  it('tags a function, never a version', async () => {
    const resource = `${ARN}:orders`;
    await lambda.send(new TagResourceCommand({ Resource: resource, Tags: { team: 'shop', tier: 'gold' } }));
    await lambda.send(new UntagResourceCommand({ Resource: resource, TagKeys: ['tier', 'absent'] }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: resource }))).Tags, { team: 'shop' });
    assert.deepEqual((await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }))).Tags, { team: 'shop' });
    await assert.rejects(lambda.send(new ListTagsCommand({ Resource: `${resource}:1` })), {
      name: 'InvalidParameterValueException',
      message: 'Tags on function aliases and versions are not supported. Please specify a function ARN.',
    });
    await assert.rejects(lambda.send(new ListTagsCommand({ Resource: `${ARN}:nope` })), {
      name: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:nope`,
    });
  });

  // AWS API reference, "PutFunctionConcurrency" / "GetFunctionConcurrency" / "DeleteFunctionConcurrency".
  it('keeps reserved concurrency on the function', async () => {
    const put = await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'orders', ReservedConcurrentExecutions: 3 }),
    );
    assert.equal(put.ReservedConcurrentExecutions, 3);
    assert.equal(
      (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'orders' }))).ReservedConcurrentExecutions,
      3,
    );
    assert.deepEqual((await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }))).Concurrency, {
      ReservedConcurrentExecutions: 3,
    });
    await assert.rejects(
      lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'orders:1', ReservedConcurrentExecutions: 1 })),
      (e: Failure) =>
        e.name === 'InvalidParameterValueException' && /Aliases and versions do not support/.test(e.message),
    );
    await assert.rejects(
      lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'nope', ReservedConcurrentExecutions: 1 })),
      { name: 'ResourceNotFoundException', message: `Function not found: ${ARN}:nope:$LATEST` },
    );
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'orders' }));
    const after = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'orders' }));
    assert.equal(after.ReservedConcurrentExecutions, undefined);
  });

  // AWS API reference, "GetAccountSettings".
  it('answers GetAccountSettings with the account limits and usage', async () => {
    const s = await lambda.send(new GetAccountSettingsCommand({}));
    assert.deepEqual(fields(s.AccountLimit), [
      'CodeSizeUnzipped',
      'CodeSizeZipped',
      'ConcurrentExecutions',
      'TotalCodeSize',
      'UnreservedConcurrentExecutions',
    ]);
    assert.deepEqual(fields(s.AccountUsage), ['FunctionCount', 'TotalCodeSize']);
    assert.equal(s.AccountUsage?.FunctionCount, 6);
  });

  // AWS API reference, "Invoke": an ARN of another region is not reachable here; one of another account
  // needs a grant the local mesh never gives.
  it('refuses ARNs of another region or account', async () => {
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:orders' })),
      (e: Failure) =>
        e.name === 'ResourceNotFoundException' &&
        e.$metadata.httpStatusCode === 404 &&
        e.message === "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    );
    await assert.rejects(
      lambda.send(new GetFunctionCommand({ FunctionName: 'arn:aws:lambda:us-east-1:111111111111:function:orders' })),
      (e: Failure) => e.name === 'AccessDeniedException' && e.$metadata.httpStatusCode === 403,
    );
  });

  // The SDK's paginators (AWS API reference: Marker / NextMarker / MaxItems).
  it('pages ListFunctions, ListAliases and ListVersionsByFunction with the SDK paginators', async () => {
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: lambda, pageSize: 2 }, {})) {
      assert.ok((page.Functions ?? []).length <= 2);
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName!));
    }
    assert.deepEqual(names, ['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4', 'orders']);
    for (const n of ['a1', 'a2', 'a3']) {
      await lambda.send(new CreateAliasCommand({ FunctionName: 'orders', Name: n, FunctionVersion: '1' }));
    }
    const aliases: string[] = [];
    for await (const page of paginateListAliases({ client: lambda, pageSize: 2 }, { FunctionName: 'orders' })) {
      aliases.push(...(page.Aliases ?? []).map((a) => a.Name!));
    }
    assert.deepEqual(aliases, ['a1', 'a2', 'a3']);
    await settle();
    registry.setCode('orders', async () => 'v3');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
    const versions: string[] = [];
    for await (const page of paginateListVersionsByFunction(
      { client: lambda, pageSize: 1 },
      { FunctionName: 'orders' },
    )) {
      versions.push(...(page.Versions ?? []).map((v) => v.Version!));
    }
    assert.deepEqual(versions, ['$LATEST', '1', '2']);
  });
});
