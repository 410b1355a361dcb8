/**
 * The local mesh's runtime on a real synthesized assembly (the fixture app, releases 1 then 2), driven
 * only through the wire: the AWS SDK against the mesh endpoint. One mesh for the whole file.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetAliasCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ListFunctionsCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { clientConfig, fixtureAssemblies, type Releases } from '../support/example-assembly';
import { processAlive } from '../support/process-alive';

let mesh: LocalMesh;
let releases: Releases;
let lambda: LambdaClient;

const text = (r: InvokeCommandOutput) => Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');
const json = (r: InvokeCommandOutput) => JSON.parse(text(r));
const invoke = (
  FunctionName: string,
  payload: unknown = {},
  extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {},
) => lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)), ...extra }));

before(async () => {
  releases = fixtureAssemblies();
  mesh = await startLocalMesh({ assemblies: [releases.release1, releases.release2], port: 0, quiet: true });
  lambda = new LambdaClient(clientConfig(mesh.url));
});

after(async () => {
  lambda?.destroy();
  const pids = mesh
    ? mesh.invoker
        .workers()
        .map((w) => w.pid)
        .filter((p): p is number => p !== undefined)
    : [];
  await mesh?.stop();
  // Prepare / Act / Assess of the last promise: stop() leaves no worker behind.
  for (const pid of pids) assert.equal(processAlive(pid), false, `worker ${pid} still running after stop()`);
});

describe('local mesh: functions run as Lambda runs them', () => {
  it("lists the assembly's functions with resolved environments", async () => {
    const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
    const hello = Functions.find((f) => f.FunctionName === 'fixture-hello');
    assert.ok(hello, `fixture-hello missing from ${Functions.map((f) => f.FunctionName).join(', ')}`);
    assert.equal(hello.Environment?.Variables?.TABLE_NAME, 'fixture-policy');
    assert.equal(
      hello.Environment?.Variables?.TABLE_ARN,
      'arn:aws:dynamodb:us-east-1:000000000000:table/fixture-policy',
    );
    assert.equal(hello.Timeout, 3);
    assert.equal(hello.MemorySize, 256);
  });

  it("runs the bundled asset with its layer merged into /opt, Lambda's env vars and context", async () => {
    const clientContext = Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'tests' } } })).toString('base64');
    const r = await invoke('fixture-hello:live', { name: 'mesh' }, { ClientContext: clientContext, LogType: 'Tail' });
    assert.equal(r.FunctionError, undefined, text(r));
    assert.equal(r.ExecutedVersion, '1');
    const out = json(r);
    assert.equal(out.greeting, 'hello, mesh');
    assert.equal(out.file, 'greetings from /opt');
    assert.equal(out.env.name, 'fixture-hello');
    assert.equal(out.env.version, '1');
    assert.equal(out.env.memory, '256');
    assert.equal(out.env.region, 'us-east-1');
    assert.equal(out.env.executionEnv, 'AWS_Lambda_nodejs20.x');
    assert.equal(out.env.endpoint, mesh.url);
    assert.equal(out.env.secret, 'fixture-secret');
    assert.match(out.env.trace, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
    assert.match(out.env.xray, /^127\.0\.0\.1:\d+$/);
    assert.equal(out.context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:fixture-hello:live');
    assert.deepEqual(out.context.clientContext, { custom: { mesh: { v: 1, src: 'tests' } } });
    assert.ok(out.context.remaining > 0 && out.context.remaining <= 3000, `remaining ${out.context.remaining}`);
    const log = Buffer.from(r.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, /START RequestId: \S+ Version: 1/);
    assert.match(log, /REPORT RequestId: \S+\tDuration: /);
  });

  it('reuses a warm environment and counts cold starts', async () => {
    const cold = mesh.invoker.counters.coldStarts;
    const a = json(await invoke('fixture-crash'));
    const b = json(await invoke('fixture-crash'));
    assert.equal(a.pid, b.pid, 'second call should reuse the warm worker');
    assert.equal(mesh.invoker.counters.coldStarts, cold + 1);
  });

  it('reports a handler that overruns its timeout as Sandbox.Timedout and kills its environment', async () => {
    const r = await invoke('fixture-slow', { ms: 10_000 });
    assert.equal(r.FunctionError, 'Unhandled');
    const body = json(r);
    assert.equal(body.errorType, 'Sandbox.Timedout');
    assert.match(body.errorMessage, /^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/);
    assert.equal(mesh.invoker.workers().filter((w) => w.functionName === 'fixture-slow').length, 0);
    const ok = await invoke('fixture-slow', { ms: 1 });
    assert.deepEqual(json(ok), { done: true });
  });

  it('replaces a worker that crashes and reports Runtime.ExitError', async () => {
    const before = json(await invoke('fixture-crash')).pid;
    const r = await invoke('fixture-crash', { crash: true });
    assert.equal(r.FunctionError, 'Unhandled');
    const body = json(r);
    assert.equal(body.errorType, 'Runtime.ExitError');
    assert.match(body.errorMessage, /Runtime exited with error: exit status 7/);
    const afterPid = json(await invoke('fixture-crash')).pid;
    assert.notEqual(afterPid, before);
    assert.equal(processAlive(before), false);
  });

  it("returns a thrown error as Lambda's Node error body, keeping the environment", async () => {
    const pid = json(await invoke('fixture-crash')).pid;
    const r = await invoke('fixture-crash', { throw: true });
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(json(r).errorType, 'RangeError');
    assert.equal(json(r).errorMessage, 'asked to throw');
    assert.ok(Array.isArray(json(r).trace));
    assert.equal(json(await invoke('fixture-crash')).pid, pid);
  });

  it('fails an invocation with an unhandled rejection as Runtime.UnhandledPromiseRejection and replaces the environment', async () => {
    const r = await invoke('fixture-reject');
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(json(r).errorType, 'Runtime.UnhandledPromiseRejection');
    assert.match(json(r).errorMessage, /TypeError: nobody catches this/);
    const again = await invoke('fixture-reject');
    assert.equal(
      json(again).errorType,
      'Runtime.UnhandledPromiseRejection',
      'a fresh environment, not a dead one (Runtime.ExitError)',
    );
  });

  it("throttles past the function's reserved concurrency with 429 TooManyRequestsException", async () => {
    const results = await Promise.allSettled([
      invoke('fixture-busy', { ms: 800 }),
      invoke('fixture-busy', { ms: 800 }),
    ]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(rejected.length, 1, JSON.stringify(results.map((r) => r.status)));
    const err = rejected[0].reason as { name: string; $metadata?: { httpStatusCode?: number }; Reason?: string };
    assert.equal(err.name, 'TooManyRequestsException');
    assert.equal(err.$metadata?.httpStatusCode, 429);
    assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
  });

  it('lets a function call another through the endpoint, on one trace', async () => {
    const r = await invoke('fixture-caller', { name: 'peer' });
    const out = json(r);
    assert.equal(out.status, 200);
    assert.equal(out.executed, '1');
    assert.equal(out.body.greeting, 'hello, peer');
    const root = /Root=([^;]+)/.exec(out.body.env.trace)?.[1];
    assert.ok(root);
    const trace = mesh.store.trace(root);
    assert.ok(trace, 'trace recorded');
    assert.deepEqual(trace.services, ['fixture-caller', 'fixture-hello']);
  });

  it('feeds EMF lines from worker stdout to the telemetry store', async () => {
    await invoke('fixture-metrics', { source: 'tests' });
    await invoke('fixture-metrics', { source: 'tests' });
    const edge = mesh.store.stats().edges.find((e) => e.source === 'tests' && e.destination === 'metrics');
    assert.ok(edge, JSON.stringify(mesh.store.stats().edges));
    assert.equal(edge.requests, 2);
  });
});

describe('local mesh: deployments', () => {
  it('publishes a new version only for the function whose configuration changed', () => {
    const [r1, r2] = mesh.deployments;
    assert.ok(r1.functions.every((f) => f.changed));
    assert.deepEqual(
      r2.functions.filter((f) => f.changed).map((f) => f.name),
      ['fixture-canary'],
    );
    assert.deepEqual(
      mesh.registry.listVersions('fixture-hello')?.map((v) => v.Version),
      ['$LATEST', '1'],
    );
    assert.deepEqual(
      mesh.registry.listVersions('fixture-canary')?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );
  });

  it('runs release 2\'s canary on stable "1" with the declared weight', async () => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'fixture-canary', Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { 2: 0.25 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await invoke('fixture-canary:live');
      const out = json(r);
      assert.equal(out.release, r.ExecutedVersion, "version 1 is release 1's code, version 2 release 2's");
      counts[r.ExecutedVersion!] = (counts[r.ExecutedVersion!] ?? 0) + 1;
    }
    // 200 draws at 25%: outside 10%-45% has probability < 1e-6.
    assert.ok((counts['2'] ?? 0) > 20 && (counts['2'] ?? 0) < 90, JSON.stringify(counts));
  });

  it('moves the observed split when UpdateAlias changes the weights', async () => {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'fixture-canary',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { 2: 0.9 } },
      }),
    );
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const v = (await invoke('fixture-canary:live')).ExecutedVersion!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    assert.ok((counts['2'] ?? 0) > 70, JSON.stringify(counts));
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'fixture-canary',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    for (let i = 0; i < 20; i++) assert.equal((await invoke('fixture-canary:live')).ExecutedVersion, '2');
  });

  it('seeds the Custom::MeshPolicy items, drops the ones a later release removed, and leaves operator items alone', async () => {
    const db = new DynamoDBClient(clientConfig(mesh.url));
    try {
      const q = await db.send(
        new QueryCommand({
          TableName: 'fixture-policy',
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'fixture-hello' } },
        }),
      );
      const items = (q.Items ?? []).map((i) => `${i.sk.S}:${i.managedBy?.S}`).sort();
      assert.deepEqual(items, ['allow#external:deploy']);

      // An operator takes over the item; re-applying the release must not overwrite or delete it.
      await db.send(
        new PutItemCommand({
          TableName: 'fixture-policy',
          Item: {
            pk: { S: 'fixture-hello' },
            sk: { S: 'allow#external' },
            source: { S: 'external' },
            managedBy: { S: 'operator' },
          },
        }),
      );
      await mesh.apply(releases.release1);
      await mesh.apply(releases.release2);
      const got = await db.send(
        new GetItemCommand({
          TableName: 'fixture-policy',
          Key: { pk: { S: 'fixture-hello' }, sk: { S: 'allow#external' } },
        }),
      );
      assert.equal(got.Item?.managedBy?.S, 'operator');
      const retired = await db.send(
        new GetItemCommand({
          TableName: 'fixture-policy',
          Key: { pk: { S: 'fixture-hello' }, sk: { S: 'allow#retired' } },
        }),
      );
      assert.equal(retired.Item, undefined);
      await db.send(
        new DeleteItemCommand({
          TableName: 'fixture-policy',
          Key: { pk: { S: 'fixture-hello' }, sk: { S: 'allow#external' } },
        }),
      );
    } finally {
      db.destroy();
    }
  });

  it("seeds the template's secrets into the Secrets Manager store", async () => {
    const sm = new SecretsManagerClient(clientConfig(mesh.url));
    try {
      const s = await sm.send(new GetSecretValueCommand({ SecretId: 'fixture-secret' }));
      assert.equal(typeof s.SecretString, 'string');
      assert.ok((s.SecretString ?? '').length > 0);
    } finally {
      sm.destroy();
    }
  });
});
