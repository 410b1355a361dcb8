/**
 * The local Secrets Manager's rotations run one after another, each from a later turn of the event
 * loop than the RotateSecret that opened it: a deploy that opens one rotation per secret shares one
 * warm environment of the rotation function instead of starting one per secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oneAfterAnother } from '../../local/endpoint/secret-store';

describe('local rotations: one after another', () => {
  it('starts the next rotation only when the one before it has ended, failed or not', async () => {
    const schedule = oneAfterAnother();
    const events: string[] = [];
    const rotation =
      (name: string, fail = false) =>
      async () => {
        events.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 20));
        events.push(`${name} end`);
        if (fail) throw new Error(`${name} failed`);
      };
    schedule(rotation('ca', true));
    schedule(rotation('orders'));
    schedule(rotation('payments'));
    // Until all three have ended: a fixed wait failed on a machine whose cores were busy (none started).
    for (let waited = 0; events.length < 6 && waited < 10_000; waited += 10)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ['ca start', 'ca end', 'orders start', 'orders end', 'payments start', 'payments end']);
  });

  it('never runs a rotation in the turn that scheduled it', async () => {
    const schedule = oneAfterAnother();
    let ran = false;
    schedule(async () => {
      ran = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(ran, false, 'ran before the RotateSecret that opened it could answer');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(ran, true);
  });
});
