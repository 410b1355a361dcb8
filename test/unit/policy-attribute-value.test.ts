import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marshallItem, unmarshallItem, unmarshallValue } from '../../shared/attribute-value';

describe('DynamoDB attribute values', () => {
  it('unmarshalls every attribute type a policy item may hold', () => {
    const item = unmarshallItem({
      pk: { S: 'payments' },
      n: { N: '0.25' },
      b: { BOOL: false },
      nothing: { NULL: true },
      m: { M: { weights: { M: { '1': { N: '0.9' }, '2': { N: '0.1' } } } } },
      l: { L: [{ S: 'timeout' }, { N: '3' }] },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2'] },
    });
    assert.deepEqual(item, {
      pk: 'payments',
      n: 0.25,
      b: false,
      nothing: null,
      m: { weights: { '1': 0.9, '2': 0.1 } },
      l: ['timeout', 3],
      ss: ['a', 'b'],
      ns: [1, 2],
    });
  });

  it('round-trips a policy item through marshallItem', () => {
    const raw = {
      pk: 'payments',
      sk: 'route',
      weights: { '1': 0.9, '2': 0.1 },
      matches: [{ header: 'x', exact: 'y', version: '2' }],
      on: true,
    };
    assert.deepEqual(unmarshallItem(marshallItem(raw)), raw);
  });

  it('names the attribute types it supports when given an unknown one', () => {
    assert.throws(() => unmarshallValue({ X: 1 } as never), /unsupported DynamoDB attribute value \["X"\].*S, N, BOOL/);
  });
});
