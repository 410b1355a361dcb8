/**
 * The traffic policy end to end on the local mesh (test/support/local-mesh-app/scenarios), as a user
 * sees it: a CDK app on the real constructs and runtime layer, a probe that calls through the mesh, and
 * workers that answer, fail or outlast their own function timeout. Attempts are counted where they land
 * (the local mesh's invocation records); keys, attempts and retries are read from the access-log lines
 * both sides print, and the attempts' subsegments from the collected trace. Covered: retries (how many,
 * on what, under one key, within the budget), timeouts (a callee's own, the propagated deadline, a
 * hop's remaining time), the breaker (opens, fails fast, probes, closes, follows a policy change), and
 * routing over two versions (weights, sticky users, a header match, a fallback version).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { SORT_KEY } from '../../shared/names';
import type { TraceSpan } from '../../shared/telemetry/trace-assembler';
import { clientConfig, scenarioFixtureAssemblies } from '../support/example-assembly';
import { putOperatorItem } from '../support/operator-items';

interface Outcome {
  readonly ok: boolean;
  readonly value?: { idempotencyKey?: string; attempt?: number; version?: string };
  readonly error?: string;
  readonly errorType?: string;
  readonly message?: string;
  readonly idempotencyKey?: string;
}

/** One access-log line of the mesh (`"type":"mesh-access"`), as the runtime prints it. */
interface AccessLine {
  readonly type: 'mesh-access';
  readonly durationMs: number;
  readonly reporter: 'source' | 'destination';
  readonly destination: string;
  readonly outcome: string;
  readonly attempts?: number;
  readonly idempotencyKey?: string;
  readonly traceId?: string;
}

/** One EMF line of a call (its labels and counts at the root), as the runtime prints it. */
interface MetricLine {
  readonly _aws: unknown;
  readonly reporter: 'source' | 'destination';
  readonly destination_workload: string;
  readonly destination_version?: string;
  readonly requests_total?: number;
  readonly retries_total?: number;
  readonly breaker_open_total?: number;
}

const skip = process.env.MESH_TEST_ENDPOINT ? 'counts inside the local mesh' : false;

describe('local mesh: the traffic policy end to end', { skip }, () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let db: DynamoDBClient;
  /** Every access-log and EMF line the functions printed, in order, with the function that printed it. */
  const lines: { fn: string; line: AccessLine | MetricLine }[] = [];

  const probe = async (
    target: string,
    body: unknown,
    timeoutMs?: number,
    more: { headers?: Record<string, string>; withMeta?: boolean } = {},
  ): Promise<Outcome> => {
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: 'fxs-probe',
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify({ target, body, timeoutMs, ...more })),
      }),
    );
    const text = Buffer.from(r.Payload!).toString();
    assert.equal(r.FunctionError, undefined, text);
    return JSON.parse(text) as Outcome;
  };
  const attemptsOn = (fn: string, from: number) =>
    mesh
      .recentInvocations()
      .slice(from)
      .filter((r) => r.functionName === fn).length;
  /** The access-log lines `fn` printed about calls to `destination`, after `from` lines. */
  const logged = (fn: string, reporter: AccessLine['reporter'], destination: string, from: number) =>
    lines
      .slice(from)
      .map((l) => (l.fn === fn && 'type' in l.line ? l.line : undefined))
      .filter((l) => l?.reporter === reporter && l.destination === destination) as AccessLine[];
  /** The EMF lines of requests `fn` reported as their source, to `destination`, after `from` lines. */
  const counted = (fn: string, destination: string, from: number) =>
    lines
      .slice(from)
      .map((l) => (l.fn === fn && '_aws' in l.line ? l.line : undefined))
      .filter(
        (l) => l?.reporter === 'source' && l.destination_workload === destination && l.requests_total === 1,
      ) as MetricLine[];

  before(async () => {
    const { release1, release2 } = scenarioFixtureAssemblies();
    mesh = await startLocalMesh({
      assemblies: [release1, release2],
      port: 0,
      quiet: true,
      onLog: (fn, _version, line) => {
        if (!line.includes('"type":"mesh-access"') && !line.startsWith('{"_aws"')) return;
        try {
          lines.push({ fn, line: JSON.parse(line) as AccessLine | MetricLine });
        } catch {
          // Not one whole line: nothing a scenario reads.
        }
      },
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    db = new DynamoDBClient(clientConfig(mesh.url));
    // Cold starts are not the faults under test: each worker answers once before the scenarios.
    for (const target of ['work', 'idem', 'brk', 'split', 'jitter']) {
      let warm: Outcome | undefined;
      for (let i = 0; i < 5 && !warm?.ok; i++) warm = await probe(target, { act: 'ok' });
      assert.ok(warm?.ok, JSON.stringify(warm));
    }
    let relayed: Outcome | undefined;
    for (let i = 0; i < 5 && !(relayed?.ok && (relayed.value as Outcome).ok); i++) {
      relayed = await probe('relay', { target: 'work', body: { act: 'ok' } });
    }
    assert.ok(relayed?.ok && (relayed.value as Outcome).ok, JSON.stringify(relayed));
  });

  after(async () => {
    lambda?.destroy();
    db?.destroy();
    await mesh?.stop();
  });

  it('a function error is not retried where retryOn leaves it out, nor on an edge that is not idempotent', async () => {
    for (const target of ['idem', 'work']) {
      // Act
      const from = mesh.recentInvocations().length;
      const out = await probe(target, { act: 'throw' });
      // Assess: one attempt, and the callee's own error
      assert.equal(out.error, 'MeshRemoteError', JSON.stringify(out));
      assert.equal(attemptsOn(`fxs-${target}`, from), 1, `${target}: attempts`);
    }
  });

  it('a callee stopped at its own function timeout, edge not idempotent: one attempt, and the caller learns the outcome is unknown', async () => {
    // Act: the worker would answer after 3 s; its function times out after 1 s
    const from = mesh.recentInvocations().length;
    const out = await probe('work', { act: 'hang' });
    // Assess: the handler ran without an end anyone saw: not repeated, and not reported as a plain failure
    assert.equal(attemptsOn('fxs-work', from), 1);
    assert.equal(out.error, 'MeshOutcomeUnknownError', JSON.stringify(out));
    assert.ok(out.idempotencyKey, 'the error names the key to reconcile on');
  });

  it('a callee stopped at its own function timeout, idempotent edge retrying timeouts: maxAttempts attempts, one key, one subsegment each', async () => {
    // Act
    const from = mesh.recentInvocations().length;
    const fromLine = lines.length;
    const out = await probe('idem', { act: 'hang' });
    // Assess: three attempts landed, the call ends as the timeout it is
    assert.equal(attemptsOn('fxs-idem', from), 3);
    assert.equal(out.error, 'MeshTimeoutError', JSON.stringify(out));
    // The callee saw one key, attempts 1, 2 and 3, each ending in its own timeout
    const seen = logged('fxs-idem', 'destination', 'idem', fromLine);
    assert.deepEqual(
      seen.map((l) => [l.attempts, l.outcome]),
      [
        [1, 'timeout'],
        [2, 'timeout'],
        [3, 'timeout'],
      ],
    );
    assert.equal(new Set(seen.map((l) => l.idempotencyKey)).size, 1, 'one idempotency key on every attempt');
    // The caller's line: one call of three attempts, ended on a timeout
    const [call] = logged('fxs-probe', 'source', 'idem', fromLine);
    assert.deepEqual([call?.attempts, call?.outcome], [3, 'timeout']);
    // Its metrics: one request, two retries
    assert.deepEqual(
      counted('fxs-probe', 'idem', fromLine).map((l) => l.retries_total),
      [2],
    );
    // One subsegment per attempt, each with its number and outcome
    const attempts = await attemptSpans(call!.traceId!, 'idem', 3);
    assert.deepEqual(
      attempts.map((s) => [s.annotations?.attempt, s.annotations?.outcome]),
      [
        [1, 'timeout'],
        [2, 'timeout'],
        [3, 'timeout'],
      ],
    );
  });

  it('the retry budget stops retries under widespread failure: a throttled callee gets its share of retries, no more', async () => {
    // Prepare: work throttles every call (its fault item aborts as Lambda's TooManyRequestsException:
    // never delivered, so retried even on an edge that is not idempotent), and an operator gives the
    // edge ten attempts but a budget of one retry per two requests with no floor
    const table = mesh.registry.getFunction('fxs-probe')!.Environment!.Variables!.MESH_POLICY_TABLE!;
    const fault = await putOperatorItem(db, table, 'work', SORT_KEY.fault, {
      abort: { M: { percent: { N: '100' }, errorType: { S: 'TooManyRequestsException' } } },
    });
    const traffic = await putOperatorItem(db, table, 'work', SORT_KEY.traffic, {
      retries: { M: { maxAttempts: { N: '10' } } },
      budget: { M: { ratio: { N: '0.5' }, minPerSecond: { N: '0' } } },
    });
    try {
      // Act 1: until both items are seen (policy TTL 1 s, polled): the deployed edge makes three attempts
      // at a throttled call; under the budget the first request has no retry to spend (0.5 x 1 < 1)
      let first = -1;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && first !== 1) {
        const from = mesh.recentInvocations().length;
        const out = await probe('work', { act: 'ok' });
        first = out.error === 'MeshThrottledError' ? attemptsOn('fxs-work', from) : -1;
      }
      assert.equal(first, 1, 'the budget was never seen');
      // Act 2: six more throttled calls (seven requests in the budget's window)
      const from = mesh.recentInvocations().length;
      const outs: Outcome[] = [];
      for (let i = 0; i < 6; i++) outs.push(await probe('work', { act: 'ok' }));
      // Assess: every call throttled, and three retries in all (0.5 x 7 requests), not the 54 the
      // attempts would allow
      assert.deepEqual(
        outs.map((o) => o.error),
        outs.map(() => 'MeshThrottledError'),
      );
      assert.equal(attemptsOn('fxs-work', from), 6 + 3);
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: fault }));
      await db.send(new DeleteItemCommand({ TableName: table, Key: traffic }));
    }
  });

  it("backoff never sleeps past the call's deadline: a throttled call retries within its 600 ms and ends by them", async (t) => {
    // Prepare: jitter throttles every call (a fault item); its edge retries throttles ten times with
    // backoffs drawn up to 200, 400, 800 and 1,000 ms, in a call of 600 ms
    const table = mesh.registry.getFunction('fxs-probe')!.Environment!.Variables!.MESH_POLICY_TABLE!;
    const fault = await putOperatorItem(db, table, 'jitter', SORT_KEY.fault, {
      abort: { M: { percent: { N: '100' }, errorType: { S: 'TooManyRequestsException' } } },
    });
    try {
      let throttled = false;
      for (const deadline = Date.now() + 20_000; !throttled && Date.now() < deadline; )
        throttled = (await probe('jitter', { act: 'ok' })).error === 'MeshThrottledError';
      assert.ok(throttled, 'the fault item was never applied');
      // Act
      const fromLine = lines.length;
      for (let i = 0; i < 10; i++) await probe('jitter', { act: 'ok' });
      // Assess: every call ended within its 600 ms (a margin for a busy event loop, far under a backoff
      // slept past the deadline), and the calls did retry
      const calls = logged('fxs-probe', 'source', 'jitter', fromLine);
      assert.equal(calls.length, 10);
      t.diagnostic(`calls (ms/attempts): ${calls.map((c) => `${Math.round(c.durationMs)}/${c.attempts}`).join(' ')}`);
      assert.deepEqual(
        calls.filter((c) => c.durationMs > 600 + 150).map((c) => c.durationMs),
        [],
        'calls that ran past their deadline (ms)',
      );
      assert.ok(
        calls.some((c) => (c.attempts ?? 0) > 1),
        `attempts: ${calls.map((c) => c.attempts)}`,
      );
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: fault }));
    }
  });

  it('the breaker opens after its failures in a row, fails fast while open, lets a probe through once its time is up, and closes', async () => {
    // Act 1: every attempt fails; the second failure in a row opens the breaker, which holds the third
    let from = mesh.recentInvocations().length;
    const fromLine = lines.length;
    const failed = await probe('brk', { act: 'throw' });
    // Assess: two attempts reached the callee, and one retry is counted: the held attempt never went out
    assert.equal(attemptsOn('fxs-brk', from), 2);
    assert.equal(failed.error, 'MeshCircuitOpenError', JSON.stringify(failed));
    const [call] = logged('fxs-probe', 'source', 'brk', fromLine);
    assert.deepEqual([call?.attempts, call?.outcome], [2, 'circuit-open']);
    assert.deepEqual(
      counted('fxs-probe', 'brk', fromLine).map((l) => l.retries_total ?? 0),
      [1],
    );
    // brk's one version failed behind its alias and opened both breakers: one opening, under the version.
    const openings = lines
      .slice(fromLine)
      .map((l) => (l.fn === 'fxs-probe' && '_aws' in l.line ? l.line : undefined))
      .filter((l) => l?.destination_workload === 'brk' && l.breaker_open_total === 1);
    assert.equal(openings.length, 1, JSON.stringify(openings));
    assert.match(openings[0]!.destination_version ?? '', /^\d+$/, 'the version that failed, not the alias');

    // Act 2: while open, a call that would succeed fails fast, and nothing reaches the callee
    from = mesh.recentInvocations().length;
    const held = await probe('brk', { act: 'ok' });
    assert.equal(held.error, 'MeshCircuitOpenError', JSON.stringify(held));
    assert.equal(attemptsOn('fxs-brk', from), 0);

    // Act 3: once the open time (2 s) is up, one probe goes through; its success closes the breaker
    await new Promise((r) => setTimeout(r, 2_100));
    from = mesh.recentInvocations().length;
    const probed = await probe('brk', { act: 'ok' });
    const after = await probe('brk', { act: 'ok' });
    assert.deepEqual([probed.ok, after.ok], [true, true], JSON.stringify([probed, after]));
    assert.equal(attemptsOn('fxs-brk', from), 2);
  });

  it("an operator's change of the breaker and the per-try timeout applies to the calls that follow", async () => {
    // Prepare: an operator's traffic item for brk (over the deployed edge's settings, which it leaves
    // in place): a 500 ms per-try timeout, a breaker that opens on one failure
    const table = mesh.registry.getFunction('fxs-probe')!.Environment!.Variables!.MESH_POLICY_TABLE!;
    const key = await putOperatorItem(db, table, 'brk', SORT_KEY.traffic, {
      perTryTimeoutMs: { N: '500' },
      breaker: { M: { consecutiveFailures: { N: '1' }, openMs: { N: '60000' } } },
    });
    try {
      // Act 1: a 700 ms answer succeeds under the deployed 3 s per-try timeout, and times out once
      // the change is seen (the policy's TTL is 1 s: polled, with a generous bound)
      let slow: Outcome | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (slow === undefined || slow.ok))
        slow = await probe('brk', { act: 'hang', ms: 700 });
      assert.equal(slow?.error, 'MeshTimeoutError', JSON.stringify(slow));
      // Act 2: that one failure opened the breaker (the deployed breaker needs two in a row)
      const from = mesh.recentInvocations().length;
      const held = await probe('brk', { act: 'ok' });
      // Assess
      assert.equal(held.error, 'MeshCircuitOpenError', JSON.stringify(held));
      assert.equal(attemptsOn('fxs-brk', from), 0);
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
  });

  it('the deadline travels: a hop that waited past the deadline it was given does not call on', async () => {
    // Act: the probe gives its call one second; the relay spends 1.5 s before its own call to work
    const from = mesh.recentInvocations().length;
    const fromLine = lines.length;
    const out = await probe('relay', { waitMs: 1_500, target: 'work', body: { act: 'ok' } }, 1_000);
    // Assess: the probe gave up at its deadline (the relay may have run: not idempotent, so unknown)
    assert.equal(out.error, 'MeshOutcomeUnknownError', JSON.stringify(out));
    // The relay, still running, found no time left and sent nothing
    let relayed: AccessLine | undefined;
    for (let i = 0; i < 100 && !relayed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      relayed = logged('fxs-relay', 'source', 'work', fromLine)[0];
    }
    assert.deepEqual([relayed?.outcome, relayed?.attempts], ['timeout', 0]);
    assert.equal(attemptsOn('fxs-work', from), 0);
  });

  it("a hop's own function timeout bounds its call: it answers with the call's timeout before Lambda stops it", async () => {
    // Act: the relay (3 s function timeout) spends 2 s, then calls a worker that would take 3 s
    const out = await probe('relay', { waitMs: 2_000, target: 'work', body: { act: 'hang' } });
    // Assess: the relay answered (it was not stopped at its timeout), its call bounded by its remaining time
    assert.equal(out.ok, true, JSON.stringify(out));
    const relayed = out.value as Outcome;
    assert.equal(relayed.ok, false, JSON.stringify(relayed));
    assert.match(relayed.message ?? '', /this function's own Lambda timeout/);
  });

  describe('routing over two versions of split', () => {
    /** The version each of `n` calls with `headers` ran on (from the worker's answer). */
    const versions = async (n: number, headers?: Record<string, string>) => {
      const out: (string | undefined)[] = [];
      for (let i = 0; i < n; i++)
        out.push((await probe('split', { act: 'ok' }, undefined, { headers })).value?.version);
      return out;
    };

    before(async () => {
      // Prepare: release 2 moved the alias to version 2; the route item weighs 90/10 towards version 1,
      // sticks calls that carry x-route-user, and sends x-route-canary: yes to version 2
      const table = mesh.registry.getFunction('fxs-probe')!.Environment!.Variables!.MESH_POLICY_TABLE!;
      await putOperatorItem(db, table, 'split', SORT_KEY.route, {
        weights: { M: { 1: { N: '0.9' }, 2: { N: '0.1' } } },
        sticky: { M: { header: { S: 'x-route-user' } } },
        matches: {
          L: [{ M: { header: { S: 'x-route-canary' }, exact: { S: 'yes' }, version: { S: '2' } } }],
        },
      });
      // Until the route is seen (policy TTL 1 s, polled): the alias alone sends every call to version 2
      let seen = false;
      for (const deadline = Date.now() + 20_000; !seen && Date.now() < deadline; )
        seen = (await versions(1))[0] === '1';
      assert.ok(seen, 'the route item was never applied');
    });

    it('weights: a version weighted at 10% serves about a tenth of the calls', async () => {
      const ran = await versions(50);
      const onTwo = ran.filter((v) => v === '2').length;
      assert.equal(ran.filter((v) => v === '1').length + onTwo, 50, ran.join(','));
      assert.ok(onTwo >= 3 && onTwo <= 7, `version 2 served ${onTwo} of 50`);
    });

    it('sticky: calls that carry the same x-route-user stay on one version; users spread over both', async () => {
      const byUser = new Map<string, Set<string | undefined>>();
      for (let u = 0; u < 40; u++) {
        const user = `user-${u}`;
        byUser.set(user, new Set(await versions(3, { 'x-route-user': user })));
      }
      assert.deepEqual(
        [...byUser].filter(([, v]) => v.size !== 1).map(([u]) => u),
        [],
        'users whose calls ran on more than one version',
      );
      const onTwo = [...byUser.values()].filter((v) => v.has('2')).length;
      assert.ok(onTwo >= 1 && onTwo <= 12, `${onTwo} of 40 users on version 2 (weight 10%)`);
    });

    it('a header match pins its version; a declared fallback serves the call when that version fails', async () => {
      const canary = { 'x-route-canary': 'yes' };
      assert.deepEqual(await versions(3, canary), ['2', '2', '2']);
      // Prepare: an operator's fallback for split: version 1, function errors included
      const table = mesh.registry.getFunction('fxs-probe')!.Environment!.Variables!.MESH_POLICY_TABLE!;
      const key = await putOperatorItem(db, table, 'split', SORT_KEY.traffic, {
        fallback: { M: { version: { S: '1' }, onFunctionError: { BOOL: true } } },
      });
      try {
        // Act: version 2 fails the call (polled until the fallback is seen)
        let out: Outcome | undefined;
        const from = mesh.recentInvocations().length;
        const fromLine = lines.length;
        for (const deadline = Date.now() + 20_000; !out?.ok && Date.now() < deadline; ) {
          out = await probe('split', { act: 'throw', onVersion: '2' }, undefined, { headers: canary, withMeta: true });
        }
        // Assess: version 1 answered, as the fallback for split, under the same idempotency key
        const served = out?.value as unknown as { result: { version: string; idempotencyKey: string }; meta: unknown };
        assert.equal(out?.ok, true, JSON.stringify(out));
        assert.equal(served.result.version, '1');
        assert.deepEqual(served.meta, { target: 'split', version: '1', fallback: true, primary: 'split', attempts: 1 });
        const runs = mesh
          .recentInvocations()
          .slice(from)
          .filter((r) => r.functionName === 'fxs-split');
        assert.deepEqual(
          runs.slice(-2).map((r) => r.version),
          ['2', '1'],
          'the failed attempt on 2, then 1',
        );
        const keys = logged('fxs-split', 'destination', 'split', fromLine)
          .slice(-2)
          .map((l) => l.idempotencyKey);
        assert.deepEqual(keys, [served.result.idempotencyKey, served.result.idempotencyKey]);
      } finally {
        await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
      }
    });
  });

  /** The subsegments of `traceId` for calls to `target`, by attempt, once `n` have arrived (UDP). */
  async function attemptSpans(traceId: string, target: string, n: number): Promise<TraceSpan[]> {
    let found: TraceSpan[] = [];
    for (let i = 0; i < 100 && found.length < n; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      const trace = mesh.store.trace(traceId);
      found = trace
        ? spansOf(trace.roots).filter((s) => s.kind === 'subsegment' && s.annotations?.target === target)
        : [];
    }
    return found.sort((a, b) => Number(a.annotations?.attempt) - Number(b.annotations?.attempt));
  }
});

function spansOf(spans: readonly TraceSpan[]): TraceSpan[] {
  return spans.flatMap((s) => [s, ...spansOf(s.children)]);
}
