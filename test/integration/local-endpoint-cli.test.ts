/**
 * The real `aws` CLI (botocore) against the local endpoint, as an operator would use it: Lambda
 * invoke/list/alias errors, Secrets Manager, DynamoDB, an unsupported service. The first `aws` found
 * (test/support/aws-cli.ts); skipped, naming the package, when there is none.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { type AwsCliRun, awsClis, NO_AWS_CLI, runAwsCli } from '../support/aws-cli';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const cli = awsClis()[0];

describe('local endpoint: aws CLI', { skip: cli ? false : NO_AWS_CLI }, () => {
  let endpoint: Endpoint;
  let dir: string;
  const registry = new TestRegistry();

  const aws = (...args: string[]): Promise<AwsCliRun> =>
    runAwsCli(cli!.path, args, { endpointUrl: endpoint.url, home: dir, env: { AWS_ENDPOINT_URL: endpoint.url } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-cli-'));
    registry.add('hello', async (event) => ({ echo: event }), { MESH_NAME: 'demo', MESH_POLICY_TABLE: 'demo-policy' });
    registry.add('payments', async (_e, c) => c.functionVersion);
    registry.publishVersion('payments', {});
    registry.createAlias('payments', 'live', { FunctionVersion: '1' });
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry) });
    endpoint.secrets.set('demo/identity', { secretString: '{"k":"v"}' });
    await endpoint.dynamo.createPolicyTable('demo-policy');
    await endpoint.dynamo.seedItems('demo-policy', [{ pk: 'payments', sk: 'allow#orders', managedBy: 'deploy' }]);
  });
  after(async () => {
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('invokes a function and writes its payload', async () => {
    const r = await aws(
      'lambda',
      'invoke',
      '--function-name',
      'hello',
      '--payload',
      '{"n":2}',
      ...cli!.rawPayload,
      join(dir, 'out.json'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { StatusCode: 200, ExecutedVersion: '$LATEST' });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')), { echo: { n: 2 } });
  });

  it('queues an Event invoke and answers a DryRun', async () => {
    const ev = await aws(
      'lambda',
      'invoke',
      '--function-name',
      'payments:live',
      '--invocation-type',
      'Event',
      '--payload',
      '{}',
      ...cli!.rawPayload,
      join(dir, 'ev.json'),
    );
    assert.equal(ev.code, 0, ev.stderr);
    assert.equal(JSON.parse(ev.stdout).StatusCode, 202);
    const dry = await aws(
      'lambda',
      'invoke',
      '--function-name',
      'hello',
      '--invocation-type',
      'DryRun',
      join(dir, 'dry.json'),
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).StatusCode, 204);
  });

  it('lists functions with their environment variables', async () => {
    const r = await aws('lambda', 'list-functions');
    assert.equal(r.code, 0, r.stderr);
    const fns = JSON.parse(r.stdout).Functions as {
      FunctionName: string;
      Environment?: { Variables: Record<string, string> };
    }[];
    assert.deepEqual(
      fns.map((f) => f.FunctionName),
      ['hello', 'payments'],
    );
    assert.equal(fns[0].Environment?.Variables.MESH_POLICY_TABLE, 'demo-policy');
  });

  it('shows AWS’s error codes for a bad alias update and an unknown function', async () => {
    const bad = await aws(
      'lambda',
      'update-alias',
      '--function-name',
      'payments',
      '--name',
      'live',
      '--routing-config',
      'AdditionalVersionWeights={1=0.5}',
    );
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /\(InvalidParameterValueException\) when calling the UpdateAlias operation(?: \(reached max retries: \d+\))?: .*already included/,
    );
    const missing = await aws('lambda', 'get-function', '--function-name', 'nope');
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      /\(ResourceNotFoundException\) when calling the GetFunction operation(?: \(reached max retries: \d+\))?: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/,
    );
  });

  it('reads a secret and scans the policy table', async () => {
    const s = await aws('secretsmanager', 'get-secret-value', '--secret-id', 'demo/identity');
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).SecretString, '{"k":"v"}');
    const d = await aws('dynamodb', 'scan', '--table-name', 'demo-policy');
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout).Items, [
      { pk: { S: 'payments' }, sk: { S: 'allow#orders' }, managedBy: { S: 'deploy' } },
    ]);
  });

  it('names an unsupported operation of another service', async () => {
    const r = await aws('sts', 'get-caller-identity');
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /\(InvalidAction\) when calling the GetCallerIdentity operation(?: \(reached max retries: \d+\))?: lambda-mesh local endpoint does not support sts\.GetCallerIdentity/,
    );
    const l = await aws('lambda', 'get-function-url-config', '--function-name', 'hello');
    assert.notEqual(l.code, 0);
    assert.match(
      l.stderr,
      /\(UnknownOperationException\) when calling the GetFunctionUrlConfig operation(?: \(reached max retries: \d+\))?: lambda-mesh local endpoint does not support Lambda\.GetFunctionUrlConfig/,
    );
  });
});
