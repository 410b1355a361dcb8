/**
 * The local endpoint's budget of request bodies held at once (local/endpoint/body-budget.ts): what a
 * request counts, and that a share that does not fit takes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBudget, bodyShare } from '../../local/endpoint/body-budget';

describe('local endpoint body budget', () => {
  it('a request counts its Content-Length, at most its cap; its cap when it declares none or none readable', () => {
    assert.equal(bodyShare('1024', 7_000_000), 1024);
    assert.equal(bodyShare('0', 7_000_000), 0);
    assert.equal(bodyShare('70000000', 7_000_000), 7_000_000);
    for (const declared of [undefined, '', '12abc', '-5', '1e6']) assert.equal(bodyShare(declared, 16), 16, declared);
  });

  it('takes while the shares fit, takes nothing for one that does not, and fits again once given back', () => {
    const budget = new BodyBudget(10);
    assert.equal(budget.take(6), true);
    assert.equal(budget.take(5), false);
    assert.equal(budget.take(4), true);
    assert.equal(budget.take(1), false);
    budget.give(6);
    assert.equal(budget.take(5), true);
    assert.equal(budget.take(2), false);
  });
});
