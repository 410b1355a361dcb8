/**
 * EventBridge event patterns as the local buses match them (local/endpoint/event-pattern.ts): each
 * operator with a matching and a non-matching event, nested fields, arrays, `$or`, and the patterns
 * refused when a rule is deployed, naming what is wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesPattern, type Pattern, patternError } from '../../local/endpoint/event-pattern';

const event = {
  version: '0',
  source: 'lambda-mesh',
  'detail-type': 'order-events',
  resources: ['arn:aws:s3:::a', 'arn:aws:s3:::b'],
  detail: { order: { id: 'o-17', total: 42.5, region: 'EU-West' }, tags: ['gift', 'rush'], note: null },
};
const matches = (p: Pattern) => {
  assert.equal(patternError(p), undefined, JSON.stringify(p));
  return matchesPattern(p, event);
};

describe('EventBridge event patterns', () => {
  it("the mesh's own rule: source and detail-type", () => {
    assert.equal(matches({ source: ['lambda-mesh'], 'detail-type': ['order-events'] }), true);
    assert.equal(matches({ source: ['lambda-mesh'], 'detail-type': ['other'] }), false);
  });

  it('exact values, nested fields, null, and arrays matching by any element', () => {
    assert.equal(matches({ detail: { order: { id: ['o-1', 'o-17'] } } }), true);
    assert.equal(matches({ detail: { order: { id: ['o-1'] } } }), false);
    assert.equal(matches({ detail: { order: { total: [42.5] } } }), true);
    assert.equal(matches({ detail: { order: { total: ['42.5'] } } }), false, 'a string is not a number');
    assert.equal(matches({ detail: { note: [null] } }), true);
    assert.equal(matches({ detail: { tags: ['rush'] } }), true);
    assert.equal(matches({ resources: ['arn:aws:s3:::c'] }), false);
  });

  it('prefix, suffix, equals-ignore-case, and prefix or suffix ignoring case', () => {
    assert.equal(matches({ detail: { order: { id: [{ prefix: 'o-' }] } } }), true);
    assert.equal(matches({ detail: { order: { id: [{ prefix: 'x-' }] } } }), false);
    assert.equal(matches({ detail: { order: { id: [{ suffix: '17' }] } } }), true);
    assert.equal(matches({ detail: { order: { region: [{ 'equals-ignore-case': 'eu-west' }] } } }), true);
    assert.equal(matches({ detail: { order: { region: ['eu-west'] } } }), false);
    assert.equal(matches({ detail: { order: { region: [{ prefix: { 'equals-ignore-case': 'eu-' } }] } } }), true);
    assert.equal(matches({ detail: { order: { region: [{ suffix: { 'equals-ignore-case': 'WEST' } }] } } }), true);
  });

  it('anything-but with a value, a list, a prefix; it never matches an absent field', () => {
    assert.equal(matches({ source: [{ 'anything-but': 'aws.s3' }] }), true);
    assert.equal(matches({ source: [{ 'anything-but': ['lambda-mesh', 'x'] }] }), false);
    assert.equal(matches({ source: [{ 'anything-but': { prefix: 'lambda-' } }] }), false);
    assert.equal(matches({ source: [{ 'anything-but': { suffix: '.s3' } }] }), true);
    assert.equal(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }), false);
  });

  it('numeric ranges, exists, wildcard', () => {
    assert.equal(matches({ detail: { order: { total: [{ numeric: ['>', 40, '<=', 42.5] }] } } }), true);
    assert.equal(matches({ detail: { order: { total: [{ numeric: ['<', 40] }] } } }), false);
    assert.equal(matches({ detail: { order: { id: [{ numeric: ['>', 0] }] } } }), false, 'not a number');
    assert.equal(matches({ detail: { order: { id: [{ exists: true }] } } }), true);
    assert.equal(matches({ detail: { order: { gone: [{ exists: false }] } } }), true);
    assert.equal(matches({ detail: { order: { id: [{ exists: false }] } } }), false);
    assert.equal(matches({ detail: { order: { id: [{ wildcard: 'o-*7' }] } } }), true);
    assert.equal(matches({ detail: { order: { id: [{ wildcard: 'o-*8' }] } } }), false);
    assert.equal(matchesPattern({ k: [{ wildcard: 'a\\*' }] }, { k: 'a*' }), true, 'an escaped star is a star');
    assert.equal(matchesPattern({ k: [{ wildcard: 'a\\*' }] }, { k: 'ab' }), false);
  });

  it('$or: one of its patterns, beside the fields around it', () => {
    const p = {
      source: ['lambda-mesh'],
      $or: [{ detail: { tags: ['none'] } }, { detail: { order: { id: ['o-17'] } } }],
    };
    assert.equal(matches(p), true);
    assert.equal(matches({ ...p, source: ['other'] }), false);
    assert.equal(matches({ $or: [{ source: ['a'] }, { source: ['b'] }] }), false);
  });

  it('refuses an unknown operator or a bad argument, naming it', () => {
    assert.match(patternError({ source: [{ regex: 'a.*' }] }) ?? '', /"regex" is not an EventBridge pattern operator/);
    assert.match(patternError({ n: [{ numeric: ['~', 1] }] }) ?? '', /numeric does not take/);
    assert.match(patternError({ n: [{ exists: 'yes' }] }) ?? '', /exists does not take "yes"/);
    assert.match(patternError({ n: [{ 'anything-but': { wildcard: 'a*' } }] }) ?? '', /anything-but takes/);
    assert.match(patternError({ $or: [{ a: ['x'] }] }) ?? '', /at least two patterns/);
    assert.match(patternError(['source']) ?? '', /object of fields/);
  });
});
