/**
 * Attack: a policy item written straight to the table (an insider with table write, or another tool)
 * with an attribute named `__proto__`. DynamoDB takes any attribute name, and the runtime's wire read
 * parses the Query's answer with JSON.parse, which keeps `__proto__` as an ordinary key. The codec
 * then assigned it (`out[k] = ...`), which sets the new object's prototype instead: a map in it became
 * fields the item inherits. The checks look for unknown fields among its own keys and read the known
 * ones through the prototype, so the item passed; the merge read them too, and the edge took a
 * fallback to another account's function that the item's JSON (what `mesh policy get` prints, what the
 * logs show) does not hold. The attribute is now a field like any other, unknown, so the item is
 * refused, reported, and its last good copy kept.
 *
 * The CLI reads the table through the AWS SDK, which hands an item's top-level `__proto__` attribute
 * over as an own key without a value: the codec threw a TypeError on it, so one such item ended `mesh
 * policy list` and `mesh check` for the whole table. It reads as null now: the item shows, with the
 * field it is refused for.
 *
 * The refusal's own text looked an unknown field up among the fields the deployment owns by key, so a
 * policy file's `constructor` or `__proto__` field was refused with Object's source or "[object
 * Object]" as the reason, in `mesh policy set` and in the runtime's log.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { scanPolicy } from '../../cli/policy-store';
import type { InvalidItem } from '../../functions/mesh/policy/service-policy';
import { unmarshallItem } from '../../shared/attribute-value';
import { parsePolicyItem } from '../../shared/policy';
import { checkPolicyItem } from '../../shared/policy-item-check';
import { clockedPolicyCache } from '../support/clocked-policy-cache';

const T0 = 1_700_000_000_000;
const TTL = 5_000;
const COLLECTOR = 'arn:aws:lambda:eu-west-1:999999999999:function:collector';

/** payments' allow#orders item as DynamoDB's JSON protocol answers it, with `hidden` in a `__proto__` map. */
function allowOnTheWire(hidden?: string): string {
  const proto = hidden ? `,"__proto__":{"M":${hidden}}` : '';
  return `{"pk":{"S":"payments"},"sk":{"S":"allow#orders"},"source":{"S":"orders"}${proto}}`;
}
const HIDDEN_FALLBACK = `{"fallback":{"M":{"functionArn":{"S":"${COLLECTOR}"}}},"timeoutMs":{"N":"9000"}}`;

/** A table client that answers payments' Query with the items of `wire` (JSON text, parsed as the runtime does). */
function tableAnswering(state: { wire: string }) {
  return {
    async send(command: unknown) {
      const name = (command as object).constructor.name;
      return name === 'QueryCommand' ? { Items: [JSON.parse(state.wire)] } : {};
    },
  };
}

describe('attack: a policy item with an attribute named __proto__', () => {
  test('the codec keeps it as a field of the item, never as the prototype', () => {
    const item = unmarshallItem(JSON.parse(allowOnTheWire(HIDDEN_FALLBACK)));
    assert.equal(Object.getPrototypeOf(item), Object.prototype);
    assert.equal((item as { fallback?: unknown }).fallback, undefined, 'nothing inherited');
    assert.deepEqual(Object.keys(item), ['pk', 'sk', 'source', '__proto__']);
  });

  test('the runtime refuses the item, naming the field', () => {
    const checked = checkPolicyItem(unmarshallItem(JSON.parse(allowOnTheWire(HIDDEN_FALLBACK))));
    assert.equal(checked.ok, false);
    assert.match(checked.ok ? '' : checked.error, /__proto__/);
  });

  test("the edge keeps its last good copy: no fallback the item's JSON does not show", async () => {
    const state = { wire: allowOnTheWire() };
    const clock = { now: T0 };
    const invalid: InvalidItem[] = [];
    const cache = clockedPolicyCache(tableAnswering(state), clock, TTL, () => 0, {
      onInvalidItem: (i) => invalid.push(i),
    });
    const before = cache.authorize(await cache.get('payments'), 'orders');
    assert.ok(before.allowed);

    state.wire = allowOnTheWire(HIDDEN_FALLBACK);
    clock.now += TTL + 1;
    await cache.get('payments');
    await cache.settled();
    const after = cache.authorize(cache.peek('payments')!, 'orders');

    assert.ok(after.allowed, 'the last good allow item still opens the edge');
    assert.equal((after.allow as { fallback?: unknown }).fallback, undefined);
    assert.equal((after.allow as { timeoutMs?: unknown }).timeoutMs, undefined);
    assert.deepEqual(
      invalid.map((i) => [i.sk, i.keptLastGood]),
      [['allow#orders', true]],
    );
  });
});

describe('attack: a policy file whose item has a field named like an Object property', () => {
  for (const name of ['constructor', '__proto__', 'toString']) {
    test(`${name}: refused as an unknown field, and nothing else said`, () => {
      const raw = JSON.parse(`{"pk":"payments","sk":"allow#orders","source":"orders","${name}":{"timeoutMs":9000}}`);
      for (const parsed of [parsePolicyItem(raw), checkPolicyItem(raw)]) {
        assert.equal(
          parsed.ok ? '' : parsed.error,
          `payments/allow#orders: (item) has unknown field ${name}; remove it`,
        );
      }
    });
  }

  test('a field the deployment owns is still refused with where it is declared', () => {
    const parsed = parsePolicyItem({ pk: 'payments', sk: 'allow#orders', source: 'orders', url: 'http://x' });
    assert.match(parsed.ok ? '' : parsed.error, /unknown field url; remove it \(an HTTP target is declared at deploy/);
  });
});

/** CLI clients whose DynamoDB answers every request with `body` (DynamoDB's JSON protocol), through the real SDK. */
function cliClientsAnswering(body: string): AwsClients {
  const handle = async () => ({
    response: {
      statusCode: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: Readable.from([Buffer.from(body)]),
    },
  });
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: { handle } as never,
  });
  return { dynamo: async () => dynamo } as unknown as AwsClients;
}

describe('attack: the CLI reading a table that holds an attribute named __proto__', () => {
  test('the table is read whole, and the item is refused for that field', async () => {
    const clients = cliClientsAnswering(`{"Items":[${allowOnTheWire(HIDDEN_FALLBACK)}],"Count":1}`);
    const items = await scanPolicy(clients, 'shop-policy');
    assert.equal(items.length, 1);
    const [item] = items as [Record<string, unknown>];
    assert.ok(Object.hasOwn(item, '__proto__'), 'shown as the field it is');
    assert.equal((item as { fallback?: unknown }).fallback, undefined);
    const parsed = parsePolicyItem(item);
    assert.match(parsed.ok ? '' : parsed.error, /unknown field __proto__/);
  });
});
