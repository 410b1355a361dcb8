/**
 * The replay cache behind token verification (functions/mesh/identity/replay-cache.ts): a nonce is
 * refused while its token can still verify, and at capacity the cache drops expired nonces before any
 * live one, so filling it does not quietly re-open replay.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayCache } from '../../functions/mesh/identity/replay-cache';

describe('replay cache', () => {
  it('refuses a nonce until the second after its expiry, then takes it again', () => {
    const c = new ReplayCache();
    assert.equal(c.claim('n1', 100, 50), true);
    assert.equal(c.claim('n1', 200, 99), false);
    assert.equal(c.claim('n1', 200, 100), false, 'still refused in its last second');
    assert.equal(c.claim('n1', 200, 101), true, 'expired: a new token may reuse it');
    assert.equal(c.claim('n1', 300, 150), false, 'and the new claim holds until 200');
  });

  it('at capacity, drops expired nonces first: every live one is still refused', () => {
    const c = new ReplayCache(4);
    c.claim('old-1', 10, 0);
    c.claim('old-2', 10, 0);
    c.claim('live-1', 100, 0);
    c.claim('live-2', 100, 0);
    assert.equal(c.size, 4);
    // At 20 the two old ones have expired: the fifth nonce makes room by dropping them, not a live one.
    assert.equal(c.claim('live-3', 100, 20), true);
    assert.equal(c.size, 3);
    for (const k of ['live-1', 'live-2', 'live-3']) assert.equal(c.claim(k, 100, 21), false, `${k} is a replay`);
  });

  it('an entry expiring exactly now is kept by the pruning: it still refuses its replay', () => {
    const c = new ReplayCache(2);
    c.claim('a', 30, 0);
    c.claim('b', 20, 0);
    // At 20, 'b' is in its last second: pruning must not drop it as expired, so with nothing
    // expired the oldest entry ('a') makes room.
    assert.equal(c.claim('c', 40, 20), true);
    assert.equal(c.size, 2);
    assert.equal(c.claim('b', 20, 20), false, "b's token can still verify: its replay is refused");
    assert.equal(c.claim('c', 40, 20), false);
  });

  it('full of live nonces, drops only the oldest one, and never grows past its capacity', () => {
    const c = new ReplayCache(3);
    c.claim('n1', 100, 0);
    c.claim('n2', 100, 0);
    c.claim('n3', 100, 0);
    assert.equal(c.claim('n4', 100, 1), true);
    assert.equal(c.size, 3);
    // n1 was the oldest: the documented price of a bounded cache; the newer ones are still refused.
    for (const k of ['n2', 'n3', 'n4']) assert.equal(c.claim(k, 100, 2), false, `${k} is a replay`);
    for (let i = 5; i < 50; i++) c.claim(`n${i}`, 100, 3);
    assert.equal(c.size, 3);
    assert.equal(c.claim('n49', 100, 4), false, 'the newest is always kept');
  });

  it('below capacity, drops nothing, even expired nonces', () => {
    const c = new ReplayCache(3);
    c.claim('a', 10, 0);
    c.claim('b', 10, 0);
    assert.equal(c.claim('c', 100, 50), true);
    assert.equal(c.size, 3, 'no pruning before the cache is full');
  });

  it('holds 10,000 nonces by default', () => {
    const c = new ReplayCache();
    for (let i = 0; i < 10_001; i++) c.claim(`n${i}`, 100, 0);
    assert.equal(c.size, 10_000);
    assert.equal(c.claim('n10000', 100, 0), false);
  });
});
