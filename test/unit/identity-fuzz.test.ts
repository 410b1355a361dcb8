/**
 * Property test: 10,000+ random and mutated tokens thrown at the verifier. Zero accepted, zero throws.
 * Mutations start from real signed tokens (the hardest inputs: everything valid but one thing).
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Identity } from '../../functions/mesh/identity';
import { identityOf, identityWorld } from '../support/identity-fixture';

const BODY = '{"order":"o-1"}';

describe('identity verifier under fuzzing', () => {
  let orders: Identity;
  let foreign: Identity;
  let payments: Identity;
  let seeds: string[];

  before(async () => {
    const w = await identityWorld();
    orders = await identityOf(w.orders);
    foreign = await identityOf(w.foreignOrders);
    payments = await identityOf(w.payments);
    seeds = [
      orders.sign({ target: 'payments', payload: BODY }),
      foreign.sign({ target: 'payments', payload: BODY }),
      orders.sign({ target: 'ledger', payload: BODY }),
    ];
  });

  it('accepts none of 5,000 random tokens and never throws', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 3000 }),
          fc
            .array(fc.base64String({ maxLength: 900 }), { minLength: 1, maxLength: 6 })
            .map((p) => ['m1', ...p].join('.')),
          fc.anything(),
        ),
        fc.oneof(fc.constant('orders'), fc.string(), fc.anything()),
        (token, source) => {
          const r = payments.verify({ token, source, payload: BODY });
          if (r.ok) accepted++;
          return !r.ok && typeof r.reason === 'string';
        },
      ),
      { numRuns: 5_000, seed: 7 },
    );
    assert.equal(accepted, 0);
  });

  it('accepts none of 6,000 mutated real tokens and never throws', () => {
    let accepted = 0;
    const mutation = fc.record({
      seed: fc.nat({ max: 2 }),
      kind: fc.constantFrom('flip', 'insert', 'delete', 'splice', 'swapPart', 'claim'),
      at: fc.nat(),
      ch: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/!'),
      text: fc.string({ maxLength: 40 }),
      claim: fc.constantFrom('iss', 'aud', 'iat', 'exp', 'nce', 'dig'),
      value: fc.oneof(fc.string({ maxLength: 60 }), fc.integer(), fc.double(), fc.constant(null), fc.boolean()),
    });
    fc.assert(
      fc.property(mutation, (m) => {
        const base = seeds[m.seed]!;
        let token: string;
        const i = m.at % base.length;
        switch (m.kind) {
          case 'flip':
            token = base.slice(0, i) + (base[i] === m.ch ? (m.ch === 'A' ? 'B' : 'A') : m.ch) + base.slice(i + 1);
            break;
          case 'insert':
            token = base.slice(0, i) + m.ch + base.slice(i);
            break;
          case 'delete':
            token = base.slice(0, i) + base.slice(i + 1);
            break;
          case 'splice':
            token = base.slice(0, i) + m.text;
            break;
          case 'swapPart': {
            const p = base.split('.');
            const q = seeds[(m.seed + 1) % seeds.length]!.split('.');
            p[1 + (m.at % 3)] = q[1 + (m.at % 3)]!;
            token = p.join('.');
            break;
          }
          default: {
            const p = base.split('.');
            const claims = JSON.parse(Buffer.from(p[1]!, 'base64url').toString());
            claims[m.claim] = m.value;
            p[1] = Buffer.from(JSON.stringify(claims)).toString('base64url');
            token = p.join('.');
          }
        }
        if (token === base) return true; // an identity "mutation" is the real token: not a test of refusal
        const r = payments.verify({ token, source: 'orders', payload: BODY });
        if (r.ok) accepted++;
        return !r.ok;
      }),
      { numRuns: 6_000, seed: 11 },
    );
    assert.equal(accepted, 0);
  });
});
