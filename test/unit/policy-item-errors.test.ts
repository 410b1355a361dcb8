/**
 * The policy model's messages and edges, word for word (shared/policy.ts `parsePolicyItem`, `itemKind`):
 * every refusal names the item, the field, the value and the fix, and each cross-field rule accepts
 * its limit and refuses just past it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { itemKind, parsePolicyItem } from '../../shared/policy';

const error = (raw: unknown) => {
  const r = parsePolicyItem(raw);
  assert.equal(r.ok, false, `expected a refusal of ${JSON.stringify(raw)}`);
  return (r as { error: string }).error;
};
const ok = (raw: unknown) => assert.equal(parsePolicyItem(raw).ok, true, JSON.stringify(parsePolicyItem(raw)));
const KINDS = 'use service, traffic, route, fault, allow#<source>, deny#<source> or breaker#<version>';

describe('policy item messages and edges', () => {
  it('refuses what is not an object, showing the value', () => {
    assert.equal(error(null), 'policy item must be an object, got null');
    assert.equal(error([1]), 'policy item must be an object, got [1]');
    assert.equal(error('x'), 'policy item must be an object, got "x"');
    assert.equal(error(undefined), 'policy item must be an object, got undefined (missing)');
  });

  it('refuses an unknown kind, naming the item (or ? for a missing key) and the kinds there are', () => {
    assert.equal(error({ pk: 'a', sk: 'weights' }), `a/weights: sk = "weights" is not a policy item kind; ${KINDS}`);
    assert.equal(error({}), `?/?: sk = undefined (missing) is not a policy item kind; ${KINDS}`);
    assert.equal(error({ pk: 3, sk: 4 }), `?/?: sk = 4 is not a policy item kind; ${KINDS}`);
  });

  it('names one unknown field or several, and says to remove it or them', () => {
    assert.equal(
      error({ pk: 'orders', sk: 'traffic', timeotMs: 5 }),
      'orders/traffic: (item) has unknown field timeotMs; remove it',
    );
    assert.equal(
      error({ pk: 'orders', sk: 'traffic', a: 1, b: 2 }),
      'orders/traffic: (item) has unknown fields a, b; remove them',
    );
  });

  it('reports a bad key of weights by its own rule, and a nested field by its path', () => {
    assert.equal(
      error({ pk: 'orders', sk: 'route', weights: { $LATEST: 1 } }),
      'orders/route: weights.$LATEST = 1 (key "$LATEST") must be a published version number such as "3" (never $LATEST)',
    );
    assert.equal(
      error({ pk: 'payments', sk: 'traffic', retries: { maxAttempts: 11 } }),
      'payments/traffic: retries.maxAttempts = 11 must be an integer between 1 and 10',
    );
  });

  it('a wildcard source is refused with how to name every caller instead', () => {
    const rule =
      'must be a service name: lower-case letters, digits and dashes, starting with a letter, at most 40 characters';
    const hint = 'there is no wildcard: name each caller in an item of its own (deny#<caller>, allow#<caller>)';
    assert.equal(
      error({ pk: 'payments', sk: 'deny#*', source: '*' }),
      `payments/deny#*: source = "*" ${rule}; ${hint}`,
    );
    assert.equal(
      error({ pk: 'payments', sk: 'allow#or*', source: 'or*' }),
      `payments/allow#or*: source = "or*" ${rule}; ${hint}`,
    );
    // Only a wildcard gets the hint.
    assert.equal(error({ pk: 'payments', sk: 'deny#Or', source: 'Or' }), `payments/deny#Or: source = "Or" ${rule}`);
  });

  it('cuts a long value to 80 characters', () => {
    const msg = error({ pk: 'payments', sk: 'service', functionName: 'f', description: 'x'.repeat(1100) });
    assert.ok(msg.startsWith(`payments/service: description = "${'x'.repeat(76)}... `), msg);
  });

  it('names a field whose value nests past the stack without writing the value out', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    // Not through `error`, whose own message writes the item out.
    assert.deepEqual(parsePolicyItem({ pk: 'payments', sk: 'traffic', budget: { ratio: deep } }), {
      ok: false,
      error: 'payments/traffic: budget.ratio = (nested too deep to show) must be between 0 and 1',
    });
  });

  it('allow and deny items: the sort key names the source, which is not the service itself', () => {
    for (const kind of ['allow', 'deny']) {
      assert.equal(
        error({ pk: 'payments', sk: `${kind}#orders`, source: 'frontend' }),
        `payments/${kind}#orders: sk = "${kind}#orders" must be "${kind}#frontend" (it names the source)`,
      );
      assert.equal(
        error({ pk: 'payments', sk: `${kind}#payments`, source: 'payments' }),
        `payments/${kind}#payments: source = "payments" is the service itself; a service does not call itself through the mesh`,
      );
    }
    ok({ pk: 'payments', sk: 'deny#orders', source: 'orders' });
  });

  it('per-try timeout up to the overall timeout; base delay up to the max delay (traffic and allow items)', () => {
    for (const sk of ['traffic', 'allow#orders']) {
      const item = { pk: 'payments', sk, ...(sk === 'traffic' ? {} : { source: 'orders' }) };
      ok({ ...item, timeoutMs: 100, perTryTimeoutMs: 100 });
      assert.equal(
        error({ ...item, timeoutMs: 100, perTryTimeoutMs: 101 }),
        `payments/${sk}: perTryTimeoutMs = 101 must not exceed timeoutMs = 100`,
      );
      ok({ ...item, retries: { baseDelayMs: 10, maxDelayMs: 10 } });
      assert.equal(
        error({ ...item, retries: { baseDelayMs: 11, maxDelayMs: 10 } }),
        `payments/${sk}: retries.baseDelayMs = 11 must not exceed retries.maxDelayMs = 10`,
      );
      // One side alone is checked against the defaults at run time, not here.
      ok({ ...item, perTryTimeoutMs: 100_000 });
      ok({ ...item, retries: { baseDelayMs: 50_000 } });
    }
  });

  it('weights: at least one version, summing to 1 within 1e-6', () => {
    assert.equal(
      error({ pk: 'payments', sk: 'route', weights: {} }),
      'payments/route: weights must name at least one version',
    );
    ok({ pk: 'payments', sk: 'route', weights: { '1': 0.1, '2': 0.2, '3': 0.7 + 1e-7 } });
    assert.equal(
      error({ pk: 'payments', sk: 'route', weights: { '1': 0.1, '2': 0.2, '3': 0.7 + 1e-5 } }),
      'payments/route: weights = {"1":0.1,"2":0.2,"3":0.7000099999999999} sum to 1.00001; they must sum to 1',
    );
    assert.equal(
      error({ pk: 'payments', sk: 'route', weights: { '1': 0.1, '2': 0.2 } }),
      'payments/route: weights = {"1":0.1,"2":0.2} sum to 0.3; they must sum to 1',
    );
  });

  it('weights: at most 10 versions, each a version number of at most 128 digits', () => {
    const version = 'must be a published version number such as "3" (never $LATEST)';
    const split = (n: number, version = (i: number) => String(i + 1)) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [version(i), 1 / n]));
    ok({ pk: 'payments', sk: 'route', weights: split(10) });
    assert.match(
      error({ pk: 'payments', sk: 'route', weights: split(11) }),
      /^payments\/route: weights = \{"1":0\.09090909090909091,.*\.\.\. must name at most 10 versions; it names 11$/,
    );
    assert.match(
      error({ pk: 'payments', sk: 'route', weights: split(5_000) }),
      /must name at most 10 versions; it names 5000$/,
    );
    ok({ pk: 'payments', sk: 'route', weights: { ['9'.repeat(128)]: 1 } });
    assert.equal(
      error({ pk: 'payments', sk: 'route', weights: { ['9'.repeat(129)]: 1 } }),
      `payments/route: weights.${'9'.repeat(129)} = 1 (key "${'9'.repeat(76)}...) ${version}`,
    );
    assert.equal(
      error({ pk: 'payments', sk: 'route', mirror: { version: '1'.repeat(129), percent: 5 } }),
      `payments/route: mirror.version = "${'1'.repeat(76)}... ${version}`,
    );
  });

  it('header matches: each needs exactly one of exact or prefix, named by its index', () => {
    const m = (x: object) => ({ header: 'x-user', version: '1', ...x });
    ok({ pk: 'payments', sk: 'route', matches: [m({ exact: 'a' }), m({ prefix: 'b' })] });
    assert.equal(
      error({ pk: 'payments', sk: 'route', matches: [m({ exact: 'a' }), m({ exact: 'a', prefix: 'b' })] }),
      'payments/route: matches.1 must have exactly one of exact or prefix',
    );
    assert.equal(
      error({ pk: 'payments', sk: 'route', matches: [m({})] }),
      'payments/route: matches.0 must have exactly one of exact or prefix',
    );
  });

  it('kinds from sort keys: bare kinds exact, keyed kinds with a non-empty key', () => {
    for (const k of ['service', 'traffic', 'route', 'fault']) {
      assert.equal(itemKind(k), k);
      assert.equal(itemKind(`${k}#x`), undefined);
    }
    for (const k of ['allow', 'deny', 'breaker']) {
      assert.equal(itemKind(`${k}#x`), k);
      assert.equal(itemKind(`${k}#`), undefined);
      assert.equal(itemKind(k), undefined);
    }
    assert.equal(itemKind(''), undefined);
    assert.equal(itemKind(undefined), undefined);
  });
});
