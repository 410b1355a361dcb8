/** The DynamoDB lock of the local endpoint: requests side by side, a transaction alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadWriteLock } from '../../local/endpoint/read-write-lock';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('ReadWriteLock', () => {
  it('runs shared sections side by side, an exclusive one alone, and holds back what arrives meanwhile', async () => {
    const lock = new ReadWriteLock();
    const log: string[] = [];
    const a = gate();
    const b = gate();
    const x = gate();
    const section = (name: string, g: { opened: Promise<void> }) => async () => {
      log.push(`${name} start`);
      await g.opened;
      log.push(`${name} end`);
    };
    const first = lock.shared(section('a', a));
    const second = lock.shared(section('b', b));
    const tx = lock.exclusive(section('tx', x));
    const later = lock.shared(async () => {
      log.push('c');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['a start', 'b start'], 'both shared sections run; the exclusive one waits');
    a.open();
    b.open();
    await Promise.all([first, second]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log.slice(2), ['a end', 'b end', 'tx start'], 'the later shared section waits for it');
    x.open();
    await Promise.all([tx, later]);
    assert.deepEqual(log.slice(5), ['tx end', 'c']);
  });

  it('releases the lock when a section throws', async () => {
    const lock = new ReadWriteLock();
    await assert.rejects(
      lock.exclusive(async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await lock.shared(async () => 'next'), 'next');
  });
});
