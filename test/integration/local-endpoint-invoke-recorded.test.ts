/**
 * Invoke through versions, aliases, invocation types and reserved concurrency, with real workers, against
 * responses recorded from AWS (LocalStack's parity tests, tests/aws/services/lambda_/test_lambda.snapshot.json,
 * "recorded-content"): what `ExecutedVersion` names through an alias, moved or weighted; what Event and
 * DryRun answer; and what a function whose reserved concurrency is zero answers.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DeleteFunctionConcurrencyCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { seeded } from '../support/seeded-random';
import { startWorkerEndpoint, type WorkerEndpoint } from '../support/worker-endpoint';

/** A function that says which code and version ran, and under which ARN it was invoked. */
const source = (code: string) =>
  `exports.handler = async (event, context) => ({ code: '${code}', version: context.functionVersion, arn: context.invokedFunctionArn });`;

interface Ran {
  code: string;
  version: string;
  arn: string;
}
const ran = (r: InvokeCommandOutput): Ran => JSON.parse(Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8'));

describe('local endpoint: Invoke through versions and aliases as recorded from AWS', () => {
  let dir: string;
  let workers: WorkerEndpoint;
  let lambda: LambdaClient;
  const registry = new FunctionRegistry({ random: seeded(7), settleMs: 0 });
  const arn = (qualifier?: string) => registry.arn('versions', qualifier);
  const invoke = (FunctionName: string, more: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from('{}'), ...more }));

  /** `$LATEST` runs this code (a deploy), and a version is published of it. */
  function deploy(code: string): string {
    const codeDir = join(dir, code);
    mkdirSync(codeDir);
    writeFileSync(join(codeDir, 'index.js'), source(code));
    registry.putFunction({
      name: 'versions',
      codeDir,
      handler: 'index.handler',
      runtime: 'nodejs20.x',
      timeout: 20,
      memorySize: 128,
      environment: {},
      layerDirs: [],
      codeSha256: code,
    });
    return registry.publishVersion('versions').Version!;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-invoke-recorded-'));
    assert.equal(deploy('version1'), '1');
    assert.equal(deploy('version2'), '2');
    workers = await startWorkerEndpoint(registry, dir);
    lambda = workers.lambda;
  });
  after(() => workers?.stop());

  // test_lambda: test_lambda_alias_moving
  it('runs the version the alias points to, by name and qualifier or by alias ARN, and follows the alias when it moves', async () => {
    await lambda.send(new CreateAliasCommand({ FunctionName: 'versions', Name: 'alias1', FunctionVersion: '1' }));
    for (const r of [await invoke('versions', { Qualifier: 'alias1' }), await invoke(arn('alias1'))]) {
      assert.equal(r.StatusCode, 200);
      assert.equal(r.ExecutedVersion, '1');
      assert.deepEqual(ran(r), { code: 'version1', version: '1', arn: arn('alias1') });
    }
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'versions', Name: 'alias1', FunctionVersion: '2' }));
    const moved = await invoke('versions', { Qualifier: 'alias1' });
    assert.equal(moved.ExecutedVersion, '2');
    assert.deepEqual(ran(moved), { code: 'version2', version: '2', arn: arn('alias1') });
    await assert.rejects(invoke('versions', { Qualifier: 'non-existent-alias' }), (e: Error) => {
      assert.equal(e.name, 'ResourceNotFoundException');
      assert.equal(e.message, `Function not found: ${arn('non-existent-alias')}`);
      return true;
    });
  });

  // test_lambda: test_alias_routingconfig (an alias on version 1 sending half of its calls to version 2)
  it('names in ExecutedVersion the version a weighted alias picked for each call', async () => {
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'versions',
        Name: 'weighted',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
      }),
    );
    const hit = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await invoke('versions', { Qualifier: 'weighted' });
      const body = ran(r);
      assert.equal(r.ExecutedVersion, body.version);
      assert.equal(body.code, `version${body.version}`);
      assert.equal(body.arn, arn('weighted'));
      hit.add(body.version);
    }
    assert.deepEqual([...hit].sort(), ['1', '2']);
  });

  // test_lambda: test_invocation_type_event[nodejs16.x], test_invocation_type_dry_run[nodejs16.x]
  it('answers Event with 202 and DryRun with 204, an empty payload and no version, log or error', async () => {
    for (const [InvocationType, status] of [
      ['Event', 202],
      ['DryRun', 204],
    ] as const) {
      // The API reference: LogType Tail applies to synchronous calls only.
      const r = await invoke('versions', { InvocationType, LogType: 'Tail' });
      assert.equal(r.StatusCode, status, InvocationType);
      assert.equal(r.$metadata.httpStatusCode, status, InvocationType);
      assert.equal(r.Payload?.length ?? 0, 0, InvocationType);
      assert.equal(r.ExecutedVersion, undefined, InvocationType);
      assert.equal(r.LogResult, undefined, InvocationType);
      assert.equal(r.FunctionError, undefined, InvocationType);
    }
  });

  // test_lambda: test_reserved_concurrency (exc_no_cap_requestresponse, invoke_result)
  it('refuses a synchronous call of a function with reserved concurrency 0 as "Rate Exceeded.", and queues an event', async () => {
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'versions', ReservedConcurrentExecutions: 0 }));
    try {
      await assert.rejects(invoke(arn()), (e: Error & Record<string, unknown>) => {
        assert.equal(e.name, 'TooManyRequestsException');
        assert.equal((e.$metadata as { httpStatusCode: number }).httpStatusCode, 429);
        assert.equal(e.message, 'Rate Exceeded.');
        assert.equal(e.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        assert.equal(e.Type, 'User');
        return true;
      });
      const queued = await invoke(arn(), { InvocationType: 'Event' });
      assert.equal(queued.StatusCode, 202);
      assert.equal(queued.Payload?.length ?? 0, 0);
    } finally {
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'versions' }));
    }
  });
});
