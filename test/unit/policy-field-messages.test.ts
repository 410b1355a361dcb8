/**
 * Every refusal of the policy model names the field and its limit: each field of each item kind is
 * given a value of the wrong type, and each text field one character too many, and the message must
 * name the field's path and say what is allowed (never zod's bare "Invalid input").
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicyItem, RULES, rangeRule, TEXT_LIMITS } from '../../shared/policy';

/** A valid item of each kind, with every field present, to break one field at a time. */
const VALID: readonly Record<string, unknown>[] = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', description: 'd' },
  {
    pk: 'payments',
    sk: 'allow#orders',
    source: 'orders',
    timeoutMs: 100,
    perTryTimeoutMs: 50,
    idempotent: true,
    retries: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, retryOn: ['throttled'] },
    budget: { ratio: 0.1, minPerSecond: 1 },
    breaker: { consecutiveFailures: 2, failureRateThreshold: 0.5, windowSize: 10, openMs: 1000 },
    managedBy: 'operator',
    updatedAt: 'now',
    updatedBy: 'me',
  },
  { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' },
  {
    pk: 'payments',
    sk: 'route',
    weights: { '1': 1 },
    matches: [{ header: 'x-beta', exact: 'yes', version: '1' }],
    sticky: { header: 'x-user' },
    mirror: { version: '1', percent: 5 },
  },
  { pk: 'payments', sk: 'fault', abort: { percent: 1, errorType: 'Chaos' }, delay: { percent: 1, ms: 5 } },
  { pk: 'breaker#payments', sk: 'breaker#1', version: '1', state: 'open', openedAt: 1, ttl: 2 },
];

/** Every path to a leaf or a nested object of an item (arrays by their first element). */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? [['0', value[0]] as const] : Object.entries(value);
  const inner = entries.flatMap(([k, v]) => paths(v, [...prefix, k]));
  return prefix.length ? [prefix, ...inner] : inner;
}

function withValue(item: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(item);
  let cur = copy as Record<string, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

function refusal(raw: unknown): string {
  const r = parsePolicyItem(raw);
  assert.equal(r.ok, false, `expected a refusal of ${JSON.stringify(raw).slice(0, 200)}`);
  return (r as { error: string }).error;
}

describe('policy messages name the field and the limit', () => {
  for (const item of VALID) {
    it(`${item.pk}/${item.sk}: a value of the wrong type in any field`, () => {
      assert.equal(parsePolicyItem(item).ok, true, JSON.stringify(parsePolicyItem(item)));
      for (const path of paths(item)) {
        if (path[0] === 'sk') continue; // the kind itself: its message lists the kinds
        // A string field gets an object, every other field a string (neither is ever valid).
        const current = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], item);
        const msg = refusal(withValue(item, path, typeof current === 'string' ? { bad: true } : 'x'));
        assert.doesNotMatch(msg, /Invalid input/, msg);
        assert.ok(msg.includes(`: ${path.join('.')}`) || msg.includes(' (item) '), `${path.join('.')}: ${msg}`);
        assert.match(msg, / must | has unknown /, msg);
      }
    });
  }

  it('a text field one character past its limit says the limit and the length found', () => {
    const cases: [Record<string, unknown>, string[], number][] = [
      [VALID[0]!, ['description'], TEXT_LIMITS.description],
      [VALID[0]!, ['functionName'], TEXT_LIMITS.functionName],
      [VALID[0]!, ['alias'], TEXT_LIMITS.alias],
      [VALID[1]!, ['updatedBy'], TEXT_LIMITS.stamp],
      [VALID[2]!, ['reason'], TEXT_LIMITS.reason],
      [VALID[3]!, ['matches', '0', 'header'], TEXT_LIMITS.header],
      [VALID[3]!, ['matches', '0', 'exact'], TEXT_LIMITS.headerValue],
      [VALID[3]!, ['sticky', 'header'], TEXT_LIMITS.header],
      [VALID[4]!, ['abort', 'errorType'], TEXT_LIMITS.errorType],
    ];
    for (const [item, path, limit] of cases) {
      assert.equal(parsePolicyItem(withValue(item, path, 'x'.repeat(limit))).ok, true, path.join('.'));
      const msg = refusal(withValue(item, path, 'x'.repeat(limit + 1)));
      assert.match(
        msg,
        new RegExp(`: ${path.join('\\.')} = .* must be a string of (at most|1 to) ${limit} characters`),
        msg,
      );
      assert.match(msg, new RegExp(`; it has ${limit + 1}$`), msg);
    }
  });

  it('a 300 KB description is refused with the field, the limit and its length', () => {
    const msg = refusal({ pk: 'payments', sk: 'traffic', description: 'x'.repeat(300_000) });
    assert.match(
      msg,
      /^payments\/traffic: description = "x+\.\.\. must be a string of at most 1024 characters; it has 300000$/,
    );
  });

  it('more header matches than a route may hold', () => {
    const m = { header: 'x-a', exact: 'a', version: '1' };
    const msg = refusal({ pk: 'payments', sk: 'route', matches: Array(TEXT_LIMITS.matches + 1).fill(m) });
    assert.match(
      msg,
      new RegExp(`matches = .* must be a list of at most ${TEXT_LIMITS.matches} header matches; it has 51`),
    );
  });
});

describe('a value of the right type that breaks its field rule gets that rule, word for word', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a service name', { pk: 'Bad_Name', sk: 'service', functionName: 'f' }, `pk = "Bad_Name" ${RULES.serviceName}`],
    ['a service name of the wrong type', { pk: 7, sk: 'service', functionName: 'f' }, `pk = 7 ${RULES.serviceName}`],
    [
      'a version',
      { pk: 'payments', sk: 'route', weights: { '1': 1 }, mirror: { version: 'v1', percent: 5 } },
      `mirror.version = "v1" ${RULES.version}`,
    ],
    [
      'a version of the wrong type',
      { pk: 'payments', sk: 'route', weights: { '1': 1 }, mirror: { version: 7, percent: 5 } },
      `mirror.version = 7 ${RULES.version}`,
    ],
    [
      'a function ARN',
      { pk: 'payments', sk: 'traffic', fallback: { functionArn: 'arn:aws:lambda:nowhere' } },
      `fallback.functionArn = "arn:aws:lambda:nowhere" ${RULES.lambdaArn}`,
    ],
    [
      'a function ARN of the wrong type',
      { pk: 'payments', sk: 'traffic', fallback: { functionArn: 7 } },
      `fallback.functionArn = 7 ${RULES.lambdaArn}`,
    ],
    [
      'a breaker partition',
      { pk: 'breaker#Bad', sk: 'breaker#1', version: '1', state: 'open', openedAt: 1, ttl: 2 },
      `pk = "breaker#Bad" ${RULES.breakerPartition}`,
    ],
    [
      'a breaker partition of the wrong type',
      { pk: 7, sk: 'breaker#1', version: '1', state: 'open', openedAt: 1, ttl: 2 },
      `pk = 7 ${RULES.breakerPartition}`,
    ],
    [
      'a number under its range',
      { pk: 'payments', sk: 'traffic', timeoutMs: 0 },
      `timeoutMs = 0 ${rangeRule('timeoutMs')}`,
    ],
    [
      'a number over its range',
      { pk: 'payments', sk: 'traffic', timeoutMs: 10 ** 12 },
      `timeoutMs = 1000000000000 ${rangeRule('timeoutMs')}`,
    ],
  ];
  for (const [what, raw, expected] of cases) {
    it(what, () => {
      const msg = refusal(raw);
      assert.ok(msg.endsWith(`: ${expected}`), `${msg}\n  expected to end with: ${expected}`);
    });
  }
});
