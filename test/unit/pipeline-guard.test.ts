/** Stage `guard`: the breaker of the attempt's version lets it through or ends the call, then hears how it ended. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCircuitOpenError, MeshOutcomeUnknownError } from '../../functions/mesh/errors';
import type { AttemptContext, AttemptOutcome } from '../../functions/mesh/pipeline/call-context';
import { guard, watchBreakers } from '../../functions/mesh/pipeline/guard';
import { route } from '../../functions/mesh/pipeline/route';
import { buildServicePolicy } from '../../functions/mesh/policy/service-policy';
import { checkPolicyItem } from '../../shared/policy-item-check';
import { fixture, PAYMENTS, planOf, readyCall, T0 } from '../support/pipeline-fixture';

const ONE_FAILURE_OPENS = [
  ...PAYMENTS,
  { pk: 'payments', sk: 'traffic', breaker: { consecutiveFailures: 1, openMs: 1000 } },
];

/** What the send stage would answer: `outcome` by `version` at the attempt's start. */
const answered =
  (a: AttemptContext, outcome: AttemptOutcome['outcome'], version = a.routeVersion) =>
  async (): Promise<AttemptOutcome> => ({ result: {}, outcome, version, endedAt: a.now });

describe('pipeline stage: guard', () => {
  test('a closed breaker lets the attempt through and counts its failure on the version that ran', async () => {
    const { state } = fixture({ items: [...ONE_FAILURE_OPENS, { pk: 'payments', sk: 'route', weights: { '2': 1 } }] });
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    const o = await guard(a, answered(a, 'function-error'));
    assert.equal(o.outcome, 'function-error');
    assert.equal(state.breakers.peek('payments', '2')?.state, 'open');
  });

  test('an open breaker ends the call before anything is sent: circuit open, reported under the version', async () => {
    const { state, accessLog } = fixture({
      items: [...ONE_FAILURE_OPENS, { pk: 'payments', sk: 'route', weights: { '2': 1 } }],
    });
    const call = await readyCall(state);
    state.breakers.get('payments', '2', call.traffic.breaker).failure(T0);
    call.attempts = 1;
    // Every weighted version ejected: the route falls back to the alias, whose breaker is closed; open it too.
    state.breakers.get('payments', 'live', call.traffic.breaker).failure(T0);
    let sent = false;
    const a = route(call, planOf(call, 2));
    await assert.rejects(
      guard(a, async () => {
        sent = true;
        return answered(a, 'success')();
      }),
      (err: Error) => err instanceof MeshCircuitOpenError && /circuit open for payments version live/.test(err.message),
    );
    assert.equal(sent, false);
    const [line] = accessLog();
    assert.deepEqual([line?.outcome, line?.code, line?.version, line?.attempts], ['circuit-open', 503, 'live', 1]);
  });

  test('open after an attempt that may have run (edge not idempotent): the outcome is unknown', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    call.mayHaveRun = true;
    state.breakers.get('payments', 'live', call.traffic.breaker).failure(T0);
    const a = route(call, planOf(call, 2));
    await assert.rejects(
      guard(a, answered(a, 'success')),
      (e: Error) => e instanceof MeshOutcomeUnknownError && /unknown after 1 attempt\(s\)/.test(e.message),
    );
  });

  test('behind the alias: the version that ran is learned, and its failure stays its own while a sibling is healthy', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    const first = route(call, planOf(call));
    await guard(first, answered(first, 'success', '1'));
    const second = route(call, planOf(call));
    await guard(second, answered(second, 'function-error', '2'));
    assert.deepEqual([...state.aliases.seen('payments', 'live')], ['1', '2']);
    assert.equal(state.breakers.peek('payments', '2')?.state, 'open');
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'closed', 'version 1 is healthy: the alias is not');
  });

  test('a lone version behind the alias: its failure is the alias failing', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'timeout', '1'));
    assert.equal(state.breakers.peek('payments', '1')?.state, 'open');
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'open');
  });

  test('an answer that names no version counts once, on the alias', async () => {
    const items = [...PAYMENTS, { pk: 'payments', sk: 'traffic', breaker: { consecutiveFailures: 2 } }];
    const { state } = fixture({ items });
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'service-error', 'live'));
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'closed', 'one failure of two');
    assert.deepEqual([...a.seen!], [], 'the alias is not a version seen behind itself');
  });

  test('throttled says nothing of health: it neither counts as a failure nor wipes the failures before it', async () => {
    const items = [
      ...PAYMENTS,
      { pk: 'payments', sk: 'traffic', breaker: { consecutiveFailures: 2 } },
      { pk: 'payments', sk: 'route', weights: { '2': 1 } },
    ];
    const { state } = fixture({ items });
    const call = await readyCall(state);
    for (const outcome of ['function-error', 'throttled', 'function-error'] as const) {
      const a = route(call, planOf(call));
      await guard(a, answered(a, outcome));
    }
    assert.equal(state.breakers.peek('payments', '2')?.state, 'open');
  });

  test("a version's success behind the alias is the alias's success too", async () => {
    const items = [...PAYMENTS, { pk: 'payments', sk: 'traffic', breaker: { consecutiveFailures: 2 } }];
    const { state } = fixture({ items });
    const call = await readyCall(state);
    const through = async (outcome: AttemptOutcome['outcome'], version: string) => {
      const a = route(call, planOf(call));
      await guard(a, answered(a, outcome, version));
    };
    await through('function-error', '1'); // a lone version: the alias failed
    await through('success', '2'); // the alias answered again: its failures start over
    await through('service-error', 'live'); // no version named: the alias failed once, not twice in a row
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'closed');
  });

  test('a pinned attempt leaves the order of the versions seen behind the alias as it was', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    const seen = state.aliases.seen('payments', 'live').add('3').add('4');
    state.breakers.get('payments', '4', call.traffic.breaker).failure(T0);
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'success', '3'));
    assert.deepEqual([...seen], ['3', '4']);
  });

  test('every opening is counted once (breaker_open_total), and a published version is shared', async () => {
    const shared: unknown[][] = [];
    const { state, lines, clock } = fixture({
      items: [...ONE_FAILURE_OPENS, { pk: 'payments', sk: 'route', weights: { '2': 1 } }],
      deps: {
        sharedBreakers: {
          opened: (...args) => {
            shared.push(args);
            throw new Error('table unreachable'); // best effort: the call goes on
          },
        },
      },
    });
    watchBreakers(state);
    const call = await readyCall(state);
    const first = route(call, planOf(call));
    await guard(first, answered(first, 'function-error'));
    clock.t = T0 + 1000;
    const probe = route(call, planOf(call));
    await guard(probe, answered(probe, 'success'));
    assert.equal(state.breakers.peek('payments', '2')?.state, 'closed');
    assert.equal(lines.filter((l) => l.includes('"breaker_open_total":1')).length, 1);
    assert.deepEqual(shared, [['payments', '2', T0, 1000]]);
    state.breakers.get('payments', 'live', call.traffic.breaker).failure(T0);
    assert.equal(shared.length, 1, 'an alias is not a version others can eject');
  });

  /** The versions breaker_open_total counted, in order (one EMF line per opening). */
  const openings = (lines: readonly string[]) =>
    lines.flatMap((l) => (l.includes('"breaker_open_total":1') ? [JSON.parse(l).destination_version as string] : []));

  test('a lone version failing behind the alias opens both breakers: one opening, counted under the version', async () => {
    const { state, lines } = fixture({ items: ONE_FAILURE_OPENS });
    watchBreakers(state);
    const call = await readyCall(state);
    const a = route(call, planOf(call));
    assert.equal(a.behindAlias, true);
    await guard(a, answered(a, 'function-error', '1'));
    const states = ['1', 'live'].map((v) => state.breakers.peek('payments', v)?.state);
    assert.deepEqual(states, ['open', 'open'], 'two breakers, both open: the version ejected, the alias holding calls');
    assert.deepEqual(openings(lines), ['1']);
  });

  test("an answer that names no version opens the alias's breaker alone: counted under the alias", async () => {
    const { state, lines } = fixture({ items: ONE_FAILURE_OPENS });
    watchBreakers(state);
    const call = await readyCall(state);
    // Version 1 ran behind it before, in a call whose breaker this process never made.
    state.aliases.seen('payments', 'live').add('1');
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'timeout', 'live'));
    assert.equal(state.breakers.peek('payments', '1'), undefined);
    assert.deepEqual(openings(lines), ['live']);
  });

  test('the alias opening after a version behind it opened earlier is an opening of its own', async () => {
    const { state, lines, clock } = fixture({ items: ONE_FAILURE_OPENS });
    watchBreakers(state);
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('2');
    state.breakers.get('payments', '2', call.traffic.breaker).failure(T0 - 500);
    clock.t = T0;
    const a = route(call, planOf(call));
    assert.deepEqual([a.behindAlias, [...a.ejected]], [true, ['2']], 'no healthy version to pin: through the alias');
    await guard(a, answered(a, 'timeout', 'live'));
    assert.deepEqual(openings(lines), ['2', 'live']);
  });

  /** Versions 1 and 2 seen behind the alias; 2 opened once, and its open time is now up. */
  async function probeDue() {
    const { state, clock } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('1').add('2');
    const two = state.breakers.get('payments', '2', call.traffic.breaker);
    two.failure(T0);
    clock.t = T0 + 1000;
    return { two, now: clock.t, a: route(call, planOf(call)) };
  }

  test('a seen version whose open time is up is probed through the alias; Lambda running the other frees the slot', async () => {
    const { two, now, a } = await probeDue();
    assert.equal(a.behindAlias, true, 'nothing ejected any more: through the alias');
    await guard(a, answered(a, 'success', '1'));
    assert.equal(two.state, 'half-open');
    assert.equal(two.canPass(now), true, 'the probe slot was released, the next call may probe');
  });

  test('the probe that runs decides: a success through the alias closes the version again', async () => {
    const { two, a } = await probeDue();
    await guard(a, answered(a, 'success', '2'));
    assert.equal(two.state, 'closed');
  });
  test('a probe that runs reports with its own pass: after a parallel call closed its breaker, its failure counts for nothing', async () => {
    const { two, now, a } = await probeDue();
    await guard(a, async () => {
      two.success(now); // a parallel call through version 2 closed it while this probe was out
      return answered(a, 'function-error', '2')();
    });
    assert.equal(two.state, 'closed', 'the probe reported on a half-open state that is gone');
  });

  test('two seen versions probed through the alias: the one that ran settles with its own pass', async () => {
    const { state, clock } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('2').add('3');
    const two = state.breakers.get('payments', '2', call.traffic.breaker);
    two.failure(T0);
    const three = state.breakers.get('payments', '3', call.traffic.breaker);
    three.failure(T0 - 2000);
    three.admit(T0 - 1000);
    three.failure(T0 - 1000); // a failed probe: 3 has changed state more often than 2
    clock.t = T0 + 1000;
    const a = route(call, planOf(call));
    assert.equal(a.behindAlias, true);
    await guard(a, answered(a, 'success', '3'));
    assert.deepEqual([two.state, three.state], ['half-open', 'closed']);
    assert.equal(two.canPass(clock.t), true, "2's probe slot was released");
  });

  test("a version's success behind the alias closes the alias's half-open breaker, a healthy sibling or not", async () => {
    const { state, clock } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('1').add('2');
    const alias = state.breakers.get('payments', 'live', call.traffic.breaker);
    alias.failure(T0);
    clock.t = T0 + 1000;
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'success', '2'));
    assert.equal(alias.state, 'closed');
  });

  test('an answer that names no version is the alias failing, even while the versions seen behind it are healthy', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('1').add('2');
    const a = route(call, planOf(call));
    await guard(a, answered(a, 'service-error', 'live'));
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'open');
  });

  test('neither the version that failed nor one ejected in another sandbox is a healthy sibling', async () => {
    const items = [
      ...PAYMENTS,
      { pk: 'payments', sk: 'traffic', breaker: { consecutiveFailures: 2, openMs: 1000 } },
      { pk: 'breaker#payments', sk: 'breaker#1', version: '1', state: 'open', openedAt: T0 - 500 },
    ];
    const { state } = fixture({ items });
    // The breaker partition comes with the table read; here the policy is built from its items directly.
    const policy = buildServicePolicy('payments', items, { check: checkPolicyItem, origin: 'table', loadedAt: T0 });
    const call = { ...(await readyCall(state)), policy };
    state.aliases.seen('payments', 'live').add('1');
    const alias = state.breakers.get('payments', 'live', call.traffic.breaker);
    alias.failure(T0);
    const a = route(call, planOf(call));
    assert.deepEqual([a.behindAlias, [...a.ejected]], [true, ['1']]);
    await guard(a, answered(a, 'function-error', '2'));
    assert.equal(state.breakers.peek('payments', '2')?.state, 'closed', 'one failure of two');
    assert.equal(alias.state, 'open', 'its second failure in a row');
  });

  test('a sibling whose breaker opened while the attempt was out is not healthy: the failure is the alias failing', async () => {
    const { state } = fixture({ items: ONE_FAILURE_OPENS });
    const call = await readyCall(state);
    state.aliases.seen('payments', 'live').add('1').add('2');
    const a = route(call, planOf(call));
    await guard(a, async () => {
      state.breakers.get('payments', '1', call.traffic.breaker).failure(a.now); // a parallel call
      return answered(a, 'function-error', '2')();
    });
    assert.equal(state.breakers.peek('payments', 'live')?.state, 'open');
  });
});
