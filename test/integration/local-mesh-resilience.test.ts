/**
 * The mesh runtime's resilience on the local mesh, with the real constructs and the real runtime layer
 * (test/support/local-mesh-app/mesh): a canary that throws is ejected by the breaker once client-side
 * weights route to it (and the opening is shared through flaky's breaker partition), and a throttled
 * target is retried within the retry budget. Driven through the
 * wire (Lambda Invoke, DynamoDB PutItem); the local mesh's invocation records show which version ran.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { breakerPartition, SORT_KEY, TABLE } from '../../shared/names';
import { clientConfig, meshFixtureAssemblies } from '../support/example-assembly';
import { putOperatorItem } from '../support/operator-items';

interface Outcome {
  ok: boolean;
  value?: { version?: string };
  error?: string;
  message?: string;
}

describe('local mesh: resilience with the mesh runtime', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let db: DynamoDBClient;

  const call = async (target: string, count = 1): Promise<Outcome[]> => {
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: 'fxm-caller',
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify({ target, count })),
      }),
    );
    const text = Buffer.from(r.Payload!).toString();
    assert.equal(r.FunctionError, undefined, text);
    return JSON.parse(text) as Outcome[];
  };
  const runsOf = (fn: string, from: number) =>
    mesh
      .recentInvocations()
      .slice(from)
      .filter((r) => r.functionName === fn);

  before(async () => {
    const { release1, release2 } = meshFixtureAssemblies();
    mesh = await startLocalMesh({ assemblies: [release1, release2], port: 0, quiet: true });
    lambda = new LambdaClient(clientConfig(mesh.url));
    db = new DynamoDBClient(clientConfig(mesh.url));
  });

  after(async () => {
    lambda?.destroy();
    db?.destroy();
    await mesh?.stop();
  });

  it('ejects a canary that throws once weights route to it, and serves from the stable version', async () => {
    // Prepare: the alias sends nothing to the canary (so no alias-level breaker trips first), then an
    // operator routes flaky 50/50 client-side over versions 1 (good) and 2 (always throws).
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'fxm-flaky',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    const table = mesh.registry.getFunction('fxm-caller')!.Environment!.Variables!.MESH_POLICY_TABLE!;
    const key = await putOperatorItem(db, table, 'flaky', SORT_KEY.route, {
      weights: { M: { 1: { N: '0.5' }, 2: { N: '0.5' } } },
    });
    try {
      // Act 1: until the route item is seen (TTL 1 s) and the breaker has had its failures.
      let from = mesh.recentInvocations().length;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && runsOf('fxm-flaky', from).filter((r) => r.version === '2').length < 3)
        await call('flaky');
      assert.ok(
        runsOf('fxm-flaky', from).filter((r) => r.version === '2').length >= 3,
        'the route item never sent traffic to version 2',
      );

      // Act 2: more calls, after the breaker opened on version 2.
      from = mesh.recentInvocations().length;
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 20; i++) outcomes.push(...(await call('flaky')));

      // Assess: version 2 is ejected, every call is served by version 1.
      const runs = runsOf('fxm-flaky', from);
      assert.deepEqual(
        [...new Set(runs.map((r) => r.version))],
        ['1'],
        `versions run after ejection: ${runs.map((r) => r.version).join(',')}`,
      );
      assert.ok(
        outcomes.every((o) => o.ok && o.value?.version === '1'),
        JSON.stringify(outcomes.filter((o) => !o.ok).slice(0, 3)),
      );
      // The opening is shared through flaky's breaker partition, never written into its policy.
      const shared = await db.send(
        new GetItemCommand({
          TableName: table,
          Key: {
            [TABLE.partitionKey]: { S: breakerPartition('flaky') },
            [TABLE.sortKey]: { S: SORT_KEY.breaker('2') },
          },
        }),
      );
      assert.equal(shared.Item?.state?.S, 'open', 'the opened breaker was not shared');
      const policy = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': { S: 'flaky' } },
        }),
      );
      assert.deepEqual(
        (policy.Items ?? []).map((i) => i[TABLE.sortKey]?.S).filter((sk) => sk?.startsWith('breaker#')),
        [],
      );
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
  });

  it('retries a throttled target within the budget until every call is served', async () => {
    // Prepare: busy has reserved concurrency 1 and holds it for 100 ms per call. A warm-up call first,
    // so the measured calls do not wait on a cold start (400-500 ms, more with busy cores) while
    // holding the slot. The throttled call then has 9 retries whose full-jitter back-offs are drawn
    // from [0, 100], [0, 200], [0, 400] and 6 x [0, 800] ms: all 9 landing within a 1 s hold (the
    // handler's 100 ms stretched tenfold by load) has odds under 1.3e-3 (1000^9 / 9! / (100 x 200 x
    // 400 x 800^6)); within 400 ms, under 4e-7.
    const warm = await call('busy', 1);
    assert.deepEqual(
      warm.map((o) => o.ok),
      [true],
      JSON.stringify(warm),
    );
    const throttlesBefore = mesh.invoker.counters.throttles;
    const from = mesh.recentInvocations().length;
    // Act: two calls at once from one caller.
    const outcomes = await call('busy', 2);
    // Assess: the endpoint did throttle, and the runtime's retries got all three served.
    assert.ok(mesh.invoker.counters.throttles > throttlesBefore, 'no call was throttled; the test proves nothing');
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, true],
      JSON.stringify(outcomes),
    );
    const served = runsOf('fxm-busy', from).filter((r) => r.outcome === 'ok');
    assert.equal(served.length, 2);
  });
});
