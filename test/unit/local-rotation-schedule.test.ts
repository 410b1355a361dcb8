/**
 * The local Secrets Manager's rotation schedules, one decision at a time: which rules it runs and which
 * it refuses (rotation-rules.ts), and when the schedule starts a rotation (rotation-schedule.ts): when it
 * falls due from the last rotation or the creation, an interval after a failed attempt, never after
 * `close`. The store is the real one on a simulated clock; the rotation itself is a stub here (the
 * integration test identity-scheduled-rotation runs the real one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../local/endpoint/errors';
import { parseRotationRules } from '../../local/endpoint/rotation-rules';
import { RotationSchedule, type RotationTimer } from '../../local/endpoint/rotation-schedule';
import { SecretStore } from '../../local/endpoint/secret-store';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2031-05-05T00:00:00Z');
const ROTATOR = 'arn:aws:lambda:us-east-1:000000000000:function:rotator';

/** A timer on a simulated clock: `advance` runs what falls due, in order, each to its end. */
class SimulatedTimer implements RotationTimer {
  readonly waits: number[] = [];
  private pending: { at: number; run: () => Promise<void> }[] = [];
  constructor(readonly clock: { now: number }) {}

  set(run: () => Promise<void>, ms: number): () => void {
    const entry = { at: this.clock.now + ms, run };
    this.waits.push(ms);
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((e) => e !== entry);
    };
  }

  get armed(): number {
    return this.pending.length;
  }

  async advance(to: number): Promise<void> {
    for (;;) {
      const next = this.pending.sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > to) break;
      this.pending.shift();
      this.clock.now = Math.max(this.clock.now, next.at);
      await next.run();
    }
    this.clock.now = to;
  }
}

/** A store and a schedule on one simulated clock; `fail` makes the stub rotation of those secrets fail. */
function world() {
  const clock = { now: T0 };
  const store = new SecretStore({ now: () => clock.now });
  const timer = new SimulatedTimer(clock);
  const log: string[] = [];
  const started: { name: string; atH: number }[] = [];
  const fail = new Set<string>();
  const schedule = new RotationSchedule(timer, (l) => log.push(l));
  schedule.watch(store, async (arn) => {
    const name = store.describe(arn).name;
    started.push({ name, atH: (clock.now - T0) / HOUR });
    if (fail.has(name)) return false;
    store.markRotated(arn);
    return true;
  });
  const rotating = (name: string, rules: Record<string, unknown>) => {
    store.set(name, { secretString: 'v' });
    store.beginRotation(name, { rotationLambdaArn: ROTATOR, rotationRules: rules });
    schedule.arm();
  };
  return { clock, store, timer, log, started, fail, schedule, rotating };
}

describe('local rotation rules', () => {
  it('runs AutomaticallyAfterDays and rate() schedules, keeps cron() ones', () => {
    assert.deepEqual(parseRotationRules({ AutomaticallyAfterDays: 30 }), { kind: 'rate', everyMs: 30 * DAY });
    assert.deepEqual(parseRotationRules({ ScheduleExpression: 'rate(12 hours)' }), {
      kind: 'rate',
      everyMs: 12 * HOUR,
    });
    assert.deepEqual(parseRotationRules({ ScheduleExpression: 'rate(1 day)', Duration: '3h' }), {
      kind: 'rate',
      everyMs: DAY,
    });
    assert.deepEqual(parseRotationRules({ ScheduleExpression: 'cron(0 4 ? * MON *)' }), {
      kind: 'cron',
      expression: 'cron(0 4 ? * MON *)',
    });
    assert.equal(parseRotationRules({}), undefined);
  });

  it('refuses what AWS refuses, naming the value and what to give instead', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [
        { ScheduleExpression: 'rate(3 hours)' },
        /ScheduleExpression "rate\(3 hours\)".*rate\(<n> hours\) \(4 or more\)/,
      ],
      [{ ScheduleExpression: 'rate(1000 days)' }, /"rate\(1000 days\)".*999 at most/],
      [{ ScheduleExpression: 'rate(2 weeks)' }, /"rate\(2 weeks\)" is not a rotation schedule/],
      [{ ScheduleExpression: 'every 12h' }, /"every 12h" is not a rotation schedule.*cron\(/],
      [{ AutomaticallyAfterDays: 0 }, /AutomaticallyAfterDays must be .* 1 to 1000, got 0/],
      [{ AutomaticallyAfterDays: 1.5 }, /got 1.5/],
      [{ AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(7 days)' }, /both .*give one of them/],
      [{ ScheduleExpression: 'rate(1 day)', Duration: '25h' }, /Duration "25h" .* 1h to 24h/],
    ];
    for (const [rules, message] of refused) {
      assert.throws(
        () => parseRotationRules(rules),
        (e: unknown) => e instanceof AwsError && e.name === 'InvalidParameterException' && message.test(e.message),
        JSON.stringify(rules),
      );
    }
  });

  it('a refused schedule changes nothing on the secret', () => {
    const store = new SecretStore();
    store.set('s', { secretString: 'v' });
    const before = store.describe('s');
    assert.throws(() =>
      store.beginRotation('s', { rotationLambdaArn: ROTATOR, rotationRules: { ScheduleExpression: 'rate(1 hour)' } }),
    );
    assert.deepEqual(store.describe('s'), before);
  });
});

describe('local rotation schedule', () => {
  it('waits for the earliest rotation due, from the creation, then an interval after each rotation', async () => {
    const w = world();
    w.rotating('daily', { AutomaticallyAfterDays: 1 });
    w.clock.now = T0 + HOUR;
    w.rotating('hourly', { ScheduleExpression: 'rate(4 hours)' });
    assert.equal(w.timer.waits.at(-1), 4 * HOUR, 'the 4-hour schedule made an hour later is the earliest');
    assert.equal(w.store.describe('hourly').nextRotationDate, (T0 + 5 * HOUR) / 1000);

    await w.timer.advance(T0 + 25 * HOUR);
    assert.deepEqual(
      w.started.map((s) => `${s.name}@${s.atH}`),
      ['hourly@5', 'hourly@9', 'hourly@13', 'hourly@17', 'hourly@21', 'daily@24', 'hourly@25'],
    );
    assert.equal(w.store.describe('daily').lastRotatedDate, (T0 + DAY) / 1000);
    assert.equal(w.store.describe('daily').nextRotationDate, (T0 + 2 * DAY) / 1000);
    assert.deepEqual(w.log, []);
  });

  it('tries a failed rotation again an hour after the attempt, until it succeeds; NextRotationDate stays in the past', async () => {
    const w = world();
    w.rotating('s', { ScheduleExpression: 'rate(12 hours)' });
    w.fail.add('s');
    await w.timer.advance(T0 + 12.5 * HOUR);
    assert.deepEqual(
      w.started.map((s) => s.atH),
      [12],
      'not again at once',
    );
    assert.equal(w.store.describe('s').nextRotationDate, (T0 + 12 * HOUR) / 1000);
    assert.match(w.log.join('\n'), /scheduled rotation of s failed; .* tried again at 2031-05-05T13:00:00.000Z/);
    await w.timer.advance(T0 + 13.5 * HOUR);
    assert.deepEqual(
      w.started.map((s) => s.atH),
      [12, 13],
    );
    w.fail.delete('s');
    await w.timer.advance(T0 + 27 * HOUR);
    assert.deepEqual(
      w.started.map((s) => s.atH),
      [12, 13, 14, 26],
      'from the rotation that succeeded, an interval',
    );
  });

  it('runs no schedule of a secret whose rotation is off or that is deleted; says once that cron() is not run', async () => {
    const w = world();
    w.rotating('cancelled', { AutomaticallyAfterDays: 1 });
    w.store.cancelRotation('cancelled');
    w.rotating('deleted', { AutomaticallyAfterDays: 1 });
    w.store.delete('deleted', { recoveryWindowDays: 7 });
    w.rotating('weekly', { ScheduleExpression: 'cron(0 4 ? * MON *)' });
    w.schedule.arm();
    await w.timer.advance(T0 + 10 * DAY);
    assert.deepEqual(w.started, []);
    assert.equal(w.timer.armed, 0, 'nothing to wait for');
    assert.equal(w.store.describe('cancelled').nextRotationDate, undefined);
    assert.equal(w.store.describe('weekly').nextRotationDate, undefined);
    assert.deepEqual(w.log, [
      'secret weekly: rotation schedule cron(0 4 ? * MON *) is kept but not run (the local mesh runs rate() and ' +
        'AutomaticallyAfterDays schedules); rotate it with aws secretsmanager rotate-secret --secret-id weekly',
    ]);
  });

  it('clears its timer on close and starts nothing after', async () => {
    const w = world();
    w.rotating('s', { AutomaticallyAfterDays: 1 });
    assert.equal(w.timer.armed, 1);
    w.schedule.close();
    assert.equal(w.timer.armed, 0);
    w.schedule.arm();
    assert.equal(w.timer.armed, 0, 'a closed schedule waits for nothing');
    await w.timer.advance(T0 + 3 * DAY);
    assert.deepEqual(w.started, []);
  });
});
