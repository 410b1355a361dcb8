/**
 * The mesh runtime's resilience on the local mesh, with the real constructs and the real runtime layer
 * (test/support/local-mesh-app/mesh): a canary that throws is ejected by the breaker once client-side
 * weights route to it, and a throttled target is retried within the retry budget. Driven through the
 * wire (Lambda Invoke, DynamoDB PutItem); the local mesh's invocation records show which version ran.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { MANAGED_BY, SORT_KEY, TABLE } from '../../shared/names';
import { startLocalMesh, type LocalMesh } from '../../local/mesh-local';
import { clientConfig, meshFixtureAssemblies } from '../support/example-assembly';

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
    const table = mesh.registry.getFunction('fxm-caller')!.Environment!.Variables!.MESH_POLICY_TABLE;
    const key = { [TABLE.partitionKey]: { S: 'flaky' }, [TABLE.sortKey]: { S: SORT_KEY.route } };
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...key,
          managedBy: { S: MANAGED_BY.operator },
          weights: { M: { 1: { N: '0.5' }, 2: { N: '0.5' } } },
        },
      }),
    );
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
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
  });

  it('retries a throttled target within the budget until every call is served', async () => {
    // Prepare: busy has reserved concurrency 1 and holds it for 100 ms per call; retries back off with
    // full jitter from 100 ms (5 attempts), so four draws summing under 100 ms is ~1e-4 likely.
    // busy's only environment reads its policy on its first call (a new sandbox does not trust a
    // deploy-time snapshot older than TTL + 1 s): warm it first, so each call holds it for 100 ms only.
    await call('busy', 1);
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
