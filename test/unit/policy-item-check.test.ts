/**
 * The runtime's hand-written item check (shared/policy-item-check.ts) against the contract, the zod/mini
 * schemas (shared/policy.ts `parsePolicyItem`): over random valid items of every kind, the same items
 * with one field broken, added or removed, and random JSON, both accept the same items (the same typed
 * item, the same kind) and refuse the same ones with the same text, which names the field.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EXTERNAL } from '../../shared/names';
import * as policy from '../../shared/policy';
import { checkPolicyItem, ITEM_SHAPES } from '../../shared/policy-item-check';
import { LIMITS, type PolicyItemKind, TEXT_LIMITS } from '../../shared/policy-rules';

const RUNS = 1_500;
const SEED = 20_251_130;

type Item = Record<string, unknown>;

const UNITS = ['a', 'Z', '-', ' ', 'é', '😀', '\ud800'] as const;

/** A string of `length` UTF-16 units (an astral character counts two) ending in a few random characters. */
const ofLength = (length: number) =>
  fc.array(fc.constantFrom(...UNITS), { maxLength: 3 }).map((tail) => {
    const end = tail.join('');
    return 'x'.repeat(Math.max(0, length - end.length)) + end;
  });

/** Valid text of `min` to `max` characters: short ones, and some at the limit (in units or code points). */
function textOf(max: number, min = 0): fc.Arbitrary<string> {
  const short = fc.string({ minLength: min, maxLength: Math.min(max, 12), unit: 'grapheme' });
  const atLimit = fc.integer({ min: Math.max(min, max - 2), max }).chain(ofLength);
  return fc.oneof({ weight: 4, arbitrary: short }, { weight: 1, arbitrary: atLimit });
}

/** Text around a limit: just within, just past (in UTF-16 units; astral characters may bring it back in). */
const aroundLimit = fc
  .constantFrom(...Object.values(TEXT_LIMITS))
  .chain((max) => fc.integer({ min: max - 1, max: max + 2 }).chain(ofLength));

const service = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
const version = fc.integer({ min: 1, max: 40 }).map(String);
const num = (name: keyof typeof LIMITS, int = false) => {
  const r = LIMITS[name] as { min: number; max: number };
  return int ? fc.integer({ min: r.min, max: r.max }) : fc.double({ min: r.min, max: r.max, noNaN: true });
};
const opt = <T>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(shape, { requiredKeys: [] });

const common = (pk: fc.Arbitrary<string> = service) =>
  fc.record(
    {
      pk,
      managedBy: fc.constantFrom('deploy', 'operator'),
      updatedAt: textOf(TEXT_LIMITS.stamp),
      updatedBy: textOf(TEXT_LIMITS.stamp),
      description: textOf(TEXT_LIMITS.description),
    },
    { requiredKeys: ['pk'] },
  );

/** Traffic fields whose cross-field rules hold (per-try <= total, base delay <= max delay). */
const traffic = opt({
  timeoutMs: fc.constant(LIMITS.timeoutMs.max),
  perTryTimeoutMs: num('timeoutMs'),
  idempotent: fc.boolean(),
  retries: fc
    .tuple(
      opt({
        maxAttempts: num('maxAttempts', true),
        retryOn: fc.uniqueArray(fc.constantFrom(...policy.RETRY_ON)),
      }),
      fc.tuple(num('backoffMs'), num('backoffMs')),
      fc.boolean(),
    )
    .map(([r, [a, b], delays]) => (delays ? { ...r, baseDelayMs: Math.min(a, b), maxDelayMs: Math.max(a, b) } : r)),
  budget: opt({ ratio: num('budgetRatio'), minPerSecond: num('budgetMinPerSecond') }),
  breaker: opt({
    consecutiveFailures: num('breakerConsecutiveFailures', true),
    failureRateThreshold: num('breakerFailureRate'),
    windowSize: num('breakerWindow', true),
    openMs: num('breakerOpenMs'),
  }),
});

const match = fc
  .tuple(textOf(TEXT_LIMITS.header, 1), textOf(TEXT_LIMITS.headerValue), fc.boolean(), version)
  .map(([header, value, exact, v]) =>
    exact ? { header, exact: value, version: v } : { header, prefix: value, version: v },
  );

/** Weights that sum to 1: one version, or a split. */
const weights = fc.oneof(
  version.map((v) => ({ [v]: 1 })),
  fc
    .tuple(version, version, fc.constantFrom(0.5, 0.25, 0.1, 0.01))
    .map(([a, b, w]) => (a === b ? { [a]: 1 } : { [a]: 1 - w, [b]: w })),
);

const VALID: Record<PolicyItemKind, fc.Arbitrary<Item>> = {
  service: fc
    .tuple(common(), opt({ alias: textOf(TEXT_LIMITS.alias, 1) }), textOf(TEXT_LIMITS.functionName, 1))
    .map(([c, o, functionName]) => ({ ...c, sk: 'service', functionName, ...o })),
  allow: fc
    .tuple(common(), fc.oneof(service, fc.constant(EXTERNAL)), traffic)
    .filter(([c, source]) => c.pk !== source)
    .map(([c, source, t]) => ({ ...c, sk: `allow#${source}`, source, ...t })),
  deny: fc
    .tuple(common(), fc.oneof(service, fc.constant(EXTERNAL)), opt({ reason: textOf(TEXT_LIMITS.reason) }))
    .filter(([c, source]) => c.pk !== source)
    .map(([c, source, o]) => ({ ...c, sk: `deny#${source}`, source, ...o })),
  traffic: fc.tuple(common(), traffic).map(([c, t]) => ({ ...c, sk: 'traffic', ...t })),
  route: fc
    .tuple(
      common(),
      opt({
        weights,
        matches: fc.array(match, { maxLength: 3 }),
        sticky: fc.record({ header: textOf(TEXT_LIMITS.header, 1) }),
        mirror: fc.record({ version, percent: num('percent') }),
      }),
    )
    .map(([c, o]) => ({ ...c, sk: 'route', ...o })),
  fault: fc
    .tuple(
      common(),
      opt({
        abort: fc.record(
          { percent: num('percent'), errorType: textOf(TEXT_LIMITS.errorType, 1) },
          { requiredKeys: ['percent'] },
        ),
        delay: fc.record({ percent: num('percent'), ms: num('timeoutMs') }),
      }),
    )
    .map(([c, o]) => ({ ...c, sk: 'fault', ...o })),
  breaker: fc
    .tuple(
      common(service.map((s) => `breaker#${s}`)),
      fc.stringMatching(/^[0-9a-z$]{1,6}$/),
      fc.constantFrom('open', 'half-open', 'closed'),
      fc.integer({ min: 0, max: 2 ** 45 }),
      opt({ ttl: fc.integer({ min: 0, max: 2 ** 32 }) }),
    )
    .map(([c, v, state, openedAt, o]) => ({ ...c, sk: `breaker#${v}`, version: v, state, openedAt, ...o })),
};

// As JSON.parse makes them: plain objects (fast-check makes some without a prototype).
const validItem = fc.oneof(...Object.values(VALID)).map((item) => structuredClone(item));

/** Values no field or only some fields accept: wrong types, out of range, non-finite, long text. */
const wild: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 0.5, 1.5, 101, 2 ** 60, null, true, '', '1', '$LATEST'),
  fc.constantFrom(EXTERNAL, 'open', 'deploy', 'throttled', 'function-error', 'orders', 'Orders', 'breaker#orders'),
  fc.double(),
  fc.integer({ min: -10, max: 1_000_001 }),
  aroundLimit,
  fc.array(fc.constantFrom('throttled', 'timeout', 'nope', 1)),
  fc.array(match, { minLength: 49, maxLength: 52 }),
  fc.dictionary(fc.constantFrom('1', '2', 'x', '$LATEST', '01'), fc.double({ min: -0.5, max: 1.5 })),
);

/** Every path to a value in an item: fields, nested fields, list elements, record entries. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [];
  const entries = Object.entries(value as Item);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

/** Every path to an object (where a field can be added). */
function objectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [];
  const inner = Object.entries(value as Item).flatMap(([k, v]) => objectPaths(v, [...prefix, k]));
  return Array.isArray(value) ? inner : [prefix, ...inner];
}

type Change =
  | { kind: 'set'; path: string[]; value: unknown }
  | { kind: 'delete'; path: string[] }
  | { kind: 'add'; path: string[]; key: string; value: unknown };

function apply(item: Item, change: Change): Item {
  const copy = structuredClone(item);
  const parentPath = change.kind === 'add' ? change.path : change.path.slice(0, -1);
  let parent = copy as Record<string, unknown>;
  for (const k of parentPath) parent = parent[k] as Record<string, unknown>;
  if (change.kind === 'set') parent[change.path[change.path.length - 1]!] = change.value;
  else if (change.kind === 'delete') delete parent[change.path[change.path.length - 1]!];
  else parent[change.key] = change.value;
  return copy;
}

/** One change to a valid item: a value replaced, a field removed, or a field added. */
const changed = validItem.chain((item) => {
  const all = paths(item);
  const objects = objectPaths(item);
  const change: fc.Arbitrary<Change> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(...all), wild).map(([path, value]): Change => ({ kind: 'set', path, value })),
    },
    { weight: 1, arbitrary: fc.constantFrom(...all).map((path): Change => ({ kind: 'delete', path })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...objects),
          fc.constantFrom('url', 'auth', 'extra', 'Timeoutms', '3', 'x-a', 'version'),
          wild,
        )
        .map(([path, key, value]): Change => ({ kind: 'add', path, key, value })),
    },
  );
  return fc.tuple(fc.constant(item), change);
});

function agree(raw: unknown): ReturnType<typeof checkPolicyItem> {
  const contract = policy.parsePolicyItem(raw);
  const runtime = checkPolicyItem(raw);
  assert.equal(
    runtime.ok,
    contract.ok,
    `${JSON.stringify(raw)}\nzod: ${JSON.stringify(contract)}\nhand: ${JSON.stringify(runtime)}`,
  );
  if (contract.ok && runtime.ok) {
    assert.deepEqual(runtime.item, contract.item);
    assert.equal(runtime.kind, contract.kind);
  } else {
    assert.equal((runtime as { error: string }).error, (contract as { error: string }).error, JSON.stringify(raw));
  }
  return runtime;
}

describe('the runtime item check agrees with the zod schemas', () => {
  it('every valid item of every kind is accepted by both, as the same item', () => {
    fc.assert(
      fc.property(validItem, (item) => {
        const r = agree(item);
        assert.equal(r.ok, true, JSON.stringify(r));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('an item with one field changed, removed or added: the same answer, a refusal naming that field', () => {
    let refused = 0;
    fc.assert(
      fc.property(changed, ([item, change]) => {
        const raw = structuredClone(apply(item, change)); // plain objects, as JSON.parse makes them
        const r = agree(raw);
        if (r.ok) return;
        refused++;
        // The refusal names the field changed (or, for an added field, the field itself). A changed pk
        // or sk may break the rule tying it to another field (source, version), which is named instead.
        const named = change.kind === 'add' ? change.key : change.path[0]!;
        if (named !== 'pk' && named !== 'sk') assert.ok(r.error.includes(named), `${r.error} does not name ${named}`);
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
    // Most changes break the item: the property above is not passing on accepted items alone.
    assert.ok(refused > RUNS, `only ${refused} refusals`);
  });

  it('random JSON with a known sort key: the same answer', () => {
    const sk = fc.constantFrom(
      'service',
      'traffic',
      'route',
      'fault',
      'allow#orders',
      'deny#external',
      'breaker#1',
      'allow#',
      'nope',
    );
    const raw = fc.oneof(
      fc.jsonValue(),
      fc
        .tuple(fc.dictionary(fc.constantFrom(...Object.keys(ITEM_SHAPES.allow), 'weights', 'version', 'x'), wild), sk)
        .map(([d, s]) => ({ ...d, sk: s })),
    );
    fc.assert(
      fc.property(raw, (r) => {
        agree(structuredClone(r));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('edge cases: lengths in code points, __proto__ as a weights key, unsafe integers, non-objects', () => {
    const split = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i + 1), 1 / n]));
    const astral = '😀'.repeat(TEXT_LIMITS.header); // 256 code points, 512 UTF-16 units: within the limit
    const cases: unknown[] = [
      { pk: 'p', sk: 'route', sticky: { header: astral } },
      { pk: 'p', sk: 'route', sticky: { header: `${astral}a` } },
      { pk: 'p', sk: 'route', sticky: { header: '\ud800'.repeat(TEXT_LIMITS.header + 1) } },
      JSON.parse('{"pk":"p","sk":"route","weights":{"1":1,"__proto__":5}}'),
      JSON.parse('{"pk":"p","sk":"route","weights":{"1":0.5,"__proto__":0.5}}'),
      JSON.parse('{"pk":"p","sk":"traffic","__proto__":{"timeoutMs":5}}'),
      { pk: 'p', sk: 'traffic', retries: { maxAttempts: 2 ** 60 } },
      { pk: 'p', sk: 'traffic', retries: { maxAttempts: 2.5 } },
      { pk: 'p', sk: 'traffic', timeoutMs: undefined },
      { pk: 'p', sk: 'service' },
      { pk: 'breaker#p', sk: 'breaker#1', version: '1', state: 'open', openedAt: Number.NaN },
      { pk: 'p', sk: 'route', weights: [] },
      { pk: 'p', sk: 'route', weights: split(10) },
      { pk: 'p', sk: 'route', weights: split(11) },
      { pk: 'p', sk: 'route', weights: { ...split(11), '12': 2 } },
      { pk: 'p', sk: 'route', weights: { ...split(11), x: 0 } },
      { pk: 'p', sk: 'route', weights: { ['1'.repeat(128)]: 1 } },
      { pk: 'p', sk: 'route', weights: { ['1'.repeat(129)]: 1 } },
      JSON.parse(`{"pk":"p","sk":"route","weights":${JSON.stringify({ ...split(10), ['__proto__']: 1 })}}`),
      JSON.parse(`{"pk":"p","sk":"route","weights":{"__proto__":1,${JSON.stringify(split(11)).slice(1)}}`),
      { pk: 'p', sk: 'route', matches: {} },
      null,
      [],
      'item',
      { sk: 7 },
    ];
    for (const c of cases) agree(c);
    // And the runtime's copy of a weights `__proto__` key is dropped, as zod's is.
    const r = checkPolicyItem(cases[3]);
    assert.equal(r.ok, true);
    assert.deepEqual(Object.keys((r as { item: { weights: object } }).item.weights), ['1']);
  });

  it("each kind has the zod schema's fields, in its order", () => {
    const schemas: Record<PolicyItemKind, { shape: object }> = {
      service: policy.serviceItemSchema,
      allow: policy.allowItemSchema,
      deny: policy.denyItemSchema,
      traffic: policy.trafficItemSchema,
      route: policy.routeItemSchema,
      fault: policy.faultItemSchema,
      breaker: policy.breakerStateItemSchema,
    };
    for (const [kind, schema] of Object.entries(schemas)) {
      assert.deepEqual(Object.keys(ITEM_SHAPES[kind as PolicyItemKind]), Object.keys(schema.shape), kind);
    }
  });
});

describe('the check and the schemas on items chosen at each rule', () => {
  const allow = (fields: Item) => ({ pk: 'payments', sk: 'allow#orders', source: 'orders', ...fields });
  const cases: [string, unknown, boolean][] = [
    ['a number under its range', allow({ timeoutMs: -1 }), false],
    ['a number over its range', allow({ timeoutMs: 1e12 }), false],
    ['a service name that breaks the pattern', { pk: 'Pay Ments', sk: 'service', functionName: 'f' }, false],
    ['a version that breaks the pattern', allow({ fallback: { version: 'latest' } }), false],
    ['a rate limit with its burst', allow({ rateLimit: { perSecond: 10, burst: 5 } }), true],
    ['a burst that is not whole', allow({ rateLimit: { perSecond: 10, burst: 2.5 } }), false],
    ['a fallback to another service', allow({ fallback: { service: 'orders', onFunctionError: true } }), true],
    ['a fallback ARN that is not a function ARN', allow({ fallback: { functionArn: 'arn:aws:s3:::bucket' } }), false],
    [
      'breaker state outside the breaker partition',
      { pk: 'payments', sk: 'breaker#1', version: '1', state: 'open', openedAt: 1 },
      false,
    ],
    ['a text one character past its limit', allow({ description: 'd'.repeat(TEXT_LIMITS.description + 1) }), false],
  ];
  for (const [what, item, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${what}, with the same text`, () => {
      const zod = policy.parsePolicyItem(item);
      assert.equal(zod.ok, ok, zod.ok ? 'accepted' : zod.error);
      assert.deepEqual(checkPolicyItem(item), zod);
    });
  }
});
