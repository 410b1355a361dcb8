import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from '../../shared/json-depth';

const deeper = (text: string, limit: number) => nestsDeeperThan(Buffer.from(text), limit);

describe('nestsDeeperThan: JSON nesting counted without parsing', () => {
  it('counts arrays and objects inside one another, not side by side', () => {
    assert.equal(deeper('{"a":[1,{"b":[]}]}', 4), false);
    assert.equal(deeper('{"a":[1,{"b":[]}]}', 3), true);
    assert.equal(deeper('[[],[],[],[]]', 2), false);
    assert.equal(deeper('1', 0), false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(deeper('{"a":"[[[[{{{{"}', 1), false);
    assert.equal(deeper('{"a":"\\"[[[[\\\\"}', 1), false);
    assert.equal(deeper('{"a\\"[[":["x"]}', 1), true);
  });

  it('a million levels cost one pass, not the stack', () => {
    assert.equal(deeper(`${'['.repeat(1e6)}${']'.repeat(1e6)}`, 70), true);
  });
});
