/**
 * Event patterns against EventBridge's own verdicts: LocalStack's parity tests run each template of
 * `tests/aws/services/events/event_pattern_templates/` through TestEventPattern on AWS (test_events_patterns.py::
 * TestEventPattern::test_event_pattern), a name ending `_NEG` being one AWS answered false, any other true.
 * Each row is a template by its name, its event without the fields no pattern here reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesPattern, type Pattern, patternError } from '../../local/endpoint/event-pattern';

const TEMPLATES: [name: string, event: unknown, pattern: Pattern][] = [
  [
    'content_anything_but_string_list',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { state: 'pending' } },
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
  ],
  [
    'content_anything_but_string_list_NEG',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { state: 'stopped' } },
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
  ],
  [
    'content_anything_but_number_list',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { 'x-limit': 999 } },
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
  ],
  [
    'content_anything_but_number_list_NEG',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { 'x-limit': 100 } },
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
  ],
  [
    'content_anything_but_string_missing_NEG',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: {} },
    { detail: { state: [{ 'anything-but': 'initializing' }] } },
  ],
  [
    'content_numeric_and',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { 'c-count': 3, 'd-count': 9, 'x-limit': 301.8 },
    },
    {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 301.8] }],
      },
    },
  ],
  [
    'content_numeric_and_NEG',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { 'c-count': 42, 'd-count': 9, 'x-limit': 301.8 },
    },
    {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 301.8] }],
      },
    },
  ],
  [
    'content_prefix_ignorecase',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { service: 'EvEnTb' } },
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
  ],
  [
    'content_wildcard_repeating',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      FileName: '/Users/ls_user/dir/dir/dir/dir/dir/doc.txt',
    },
    { FileName: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] },
  ],
  [
    'content_wildcard_repeating_NEG',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      FileName: '/Users/ls_user/dir/dir/dir/dir/otherdir/doc.txt',
    },
    { FileName: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] },
  ],
  [
    'complex_or',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { 'c-count': 0, 'd-count': 0, 'x-limit': 901.8 },
    },
    {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 301.8] }] },
        ],
      },
    },
  ],
  [
    'complex_or_NEG',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { 'c-count': 0, 'd-count': 10, 'x-limit': 901.8 },
    },
    {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 301.8] }] },
        ],
      },
    },
  ],
  [
    'content_exists_false',
    { source: 'test-source', 'detail-type': 'test-detail-type', detail: { level1: { level2: 'l2 value' } } },
    { detail: { level1: { 'level2:': { level3: { level4: [{ exists: false }] } } } } },
  ],
  [
    'content_exists_false_NEG',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { level1: { level2: { level3: { level4: 'l4 value' } } } },
    },
    { detail: { level1: { level2: { level3: { level4: [{ exists: false }] } } } } },
  ],
  [
    'arrays_empty_null_NEG',
    { source: 'test-source', 'detail-type': 'test-detail-type', resources: [] },
    { resources: [null] },
  ],
  [
    'list_within_dict',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      detail: { automations: [{ key1: 'value1' }, { id: 'match-does-exist' }, { key2: 'value2' }] },
    },
    { detail: { automations: { id: [{ exists: true }] } } },
  ],
  [
    'exists_dynamodb_NEG',
    {
      source: 'test-source',
      'detail-type': 'test-detail-type',
      dynamodb: { id: { S: 'test1234' }, presentKey: { S: 'test123' } },
    },
    { dynamodb: { presentKey: [{ exists: true }] } },
  ],
];

describe('event patterns: EventBridge’s recorded verdicts', () => {
  for (const [name, event, pattern] of TEMPLATES) {
    it(`${name}: ${name.endsWith('_NEG') ? 'no match' : 'a match'}`, () => {
      assert.equal(patternError(pattern), undefined);
      assert.equal(matchesPattern(pattern, event), !name.endsWith('_NEG'));
    });
  }
});
