/**
 * EventBridge on the local endpoint, through the real @aws-sdk/client-eventbridge: PutEvents answers
 * each entry on its own (event ids, and EventBridge's error codes for an entry it refuses), refuses a
 * request past 10 entries or 256 KB, and hands accepted events to the rules whose patterns match, in the
 * shape of an EventBridge event, with the target's InputPath applied; a function whose policy does not
 * let the rule invoke it gets nothing and the event goes to the target's dead-letter queue. A sandbox is
 * held to events:PutEvents on each bus it names, and to the bus's own policy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { type Endpoint, RolePolicies, SecretStore, startEndpoint } from '../../local/endpoint';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { EventBuses } from '../../local/events/event-buses';
import { eventsJsonServices } from '../../local/events/events-api';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';

const ACCOUNT = '000000000000';
const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus`;
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/OrdersRole`;

describe('local endpoint: EventBridge', () => {
  let ep: Endpoint;
  let events: EventBridgeClient;
  let sandboxEvents: EventBridgeClient;
  const invoked: { arn: string; payload: unknown }[] = [];
  const deadLetters: { queue: string; body: string }[] = [];
  const lines: string[] = [];
  const credentials = new SandboxCredentials();
  const keys = credentials.issue('shop-orders', ROLE, ACCOUNT)!;
  const policies = new RolePolicies();
  policies.put('OrdersRole', 'Default', {
    Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: [`${BUS}/orders`, `${BUS}/audit`] }],
  });
  policies.resources.put('Shop/AuditPolicy', [`${BUS}/audit`], {
    Statement: [{ Effect: 'Deny', Principal: { AWS: ROLE }, Action: 'events:PutEvents', Resource: `${BUS}/audit` }],
  });
  const buses = new EventBuses({
    accountId: ACCOUNT,
    log: (line) => lines.push(line),
    invokeAsync: async (arn, payload) => {
      invoked.push({ arn, payload: JSON.parse(payload) });
    },
    // Only `big-orders` may invoke its target: the other rule's function has no permission for it.
    invokeRefusal: (arn, rule) => (rule.endsWith('/big-orders') ? undefined : `no permission of ${arn} for ${rule}`),
    deadLetter: async (queue, body) => {
      deadLetters.push({ queue, body });
    },
  });
  buses.putBus('us-east-1', 'orders');
  buses.putBus('us-east-1', 'audit');
  buses.putRule('us-east-1', {
    name: 'big-orders',
    busName: 'orders',
    pattern: { source: ['shop'], detail: { total: [{ numeric: ['>', 100] }] } },
    enabled: true,
    targets: [{ id: 'audit', arn: `${FN}:audit`, inputPath: '$.detail' }],
  });
  buses.putRule('us-east-1', {
    name: 'gifts',
    busName: 'orders',
    pattern: { source: ['shop'], detail: { gift: [true] } },
    enabled: true,
    targets: [{ id: 'wrap', arn: `${FN}:wrap`, deadLetterArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:wrap-dead` }],
  });

  before(async () => {
    ep = await startEndpoint({
      port: 0,
      registry: new FunctionRegistry(),
      invoker: { invoke: async () => ({ payload: Buffer.from('null'), executedVersion: '1' }) },
      secrets: new SecretStore(),
      iam: policies,
      sandboxes: credentials,
      jsonServices: eventsJsonServices(buses),
      log: (line) => lines.push(line),
    });
    events = new EventBridgeClient(loopbackClientConfig(ep.url));
    sandboxEvents = new EventBridgeClient({
      ...loopbackClientConfig(ep.url),
      credentials: {
        accessKeyId: keys.accessKeyId,
        secretAccessKey: keys.secretAccessKey,
        sessionToken: keys.sessionToken,
      },
    });
  });
  after(async () => {
    events?.destroy();
    sandboxEvents?.destroy();
    await ep?.close();
  });

  const eventually = async <T>(what: string, get: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const v = get();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`${what} did not happen`);
  };

  it('answers each entry: event ids, and the errors of entries EventBridge refuses', async () => {
    const entry = { EventBusName: 'orders', Source: 'shop', DetailType: 'order', Detail: '{"total":5}' };
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          entry,
          { ...entry, Detail: '{"total": 5' },
          { ...entry, Detail: '[1]' },
          { ...entry, Source: undefined },
          { ...entry, Source: 'aws.s3' },
          { ...entry, EventBusName: 'nowhere' },
          { ...entry, EventBusName: `${BUS}/orders` },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 4);
    const [ok, ...rest] = out.Entries ?? [];
    assert.match(ok?.EventId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      rest.map((e) => e.EventId ?? `${e.ErrorCode}: ${e.ErrorMessage}`),
      [
        'MalformedDetail: Detail is malformed.',
        'MalformedDetail: Detail is malformed.',
        'InvalidArgument: Parameter Source is not valid. Reason: Source is a required argument.',
        'NotAuthorizedForSourceException: Not authorized for the source.',
        rest[4]?.EventId,
        rest[5]?.EventId,
      ],
    );
    assert.ok(rest[4]?.EventId, 'a bus that does not exist takes the event, and drops it');
    await eventually('the dropped event logged', () =>
      lines.find((l) => l.includes('bus nowhere') && l.includes('dropped')),
    );
    assert.ok(rest[5]?.EventId, 'a bus named by its ARN takes the event');
  });

  it('refuses more than 10 entries, and more than 256 KB in all', async () => {
    const entry = { Source: 'shop', DetailType: 'order', Detail: '{}' };
    await assert.rejects(events.send(new PutEventsCommand({ Entries: Array(11).fill(entry) })), {
      name: 'ValidationException',
      message: /less than or equal to 10/,
    });
    const big = { ...entry, Detail: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }) };
    await assert.rejects(events.send(new PutEventsCommand({ Entries: [big, big, big] })), {
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('hands a matching event to the rule target, as EventBridge shapes it, with InputPath applied', async () => {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'orders', Source: 'shop', DetailType: 'order', Detail: '{"total":150,"id":"o-1"}' },
          { EventBusName: 'orders', Source: 'shop', DetailType: 'order', Detail: '{"total":50,"id":"o-2"}' },
          { EventBusName: 'orders', Source: 'other', DetailType: 'order', Detail: '{"total":500,"id":"o-3"}' },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    const got = await eventually('the big order delivered', () => invoked.find((i) => i.arn === `${FN}:audit`));
    assert.deepEqual(got.payload, { total: 150, id: 'o-1' }, 'InputPath $.detail: the detail alone');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      invoked.map((i) => (i.payload as { id: string }).id),
      ['o-1'],
      'the orders of 50 and of another source match no rule',
    );
  });

  it("a target whose policy does not let the rule invoke it: nothing invoked, the event in the target's dead-letter queue", async () => {
    await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: 'orders', Source: 'shop', DetailType: 'order', Detail: '{"gift":true}' }],
      }),
    );
    const dead = await eventually('the dead letter', () => deadLetters[0]);
    assert.equal(dead.queue, `arn:aws:sqs:us-east-1:${ACCOUNT}:wrap-dead`);
    const event = JSON.parse(dead.body) as Record<string, unknown>;
    assert.deepEqual(
      { ...event, id: typeof event.id, time: typeof event.time },
      {
        version: '0',
        id: 'string',
        'detail-type': 'order',
        source: 'shop',
        account: ACCOUNT,
        time: 'string',
        region: 'us-east-1',
        resources: [],
        detail: { gift: true },
      },
    );
    assert.match(String(event.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!invoked.some((i) => i.arn === `${FN}:wrap`));
    assert.ok(lines.some((l) => l.includes('could not deliver to') && l.includes('big-orders') === false));
  });

  it('DescribeEventBus and ListRules', async () => {
    const bus = await events.send(new DescribeEventBusCommand({ Name: 'orders' }));
    assert.deepEqual({ Name: bus.Name, Arn: bus.Arn }, { Name: 'orders', Arn: `${BUS}/orders` });
    const dflt = await events.send(new DescribeEventBusCommand({}));
    assert.equal(dflt.Name, 'default');
    await assert.rejects(events.send(new DescribeEventBusCommand({ Name: 'nowhere' })), {
      name: 'ResourceNotFoundException',
      message: 'Event bus nowhere does not exist.',
    });
    const rules = await events.send(new ListRulesCommand({ EventBusName: 'orders', NamePrefix: 'big' }));
    assert.deepEqual(
      rules.Rules?.map((r) => [r.Name, r.Arn, r.State, JSON.parse(r.EventPattern ?? '{}').source]),
      [['big-orders', `arn:aws:events:us-east-1:${ACCOUNT}:rule/orders/big-orders`, 'ENABLED', ['shop']]],
    );
  });

  it("a sandbox: events:PutEvents on each bus its entries name, and the bus's own policy", async () => {
    const entry = { Source: 'shop', DetailType: 'order', Detail: '{}' };
    const ok = await sandboxEvents.send(new PutEventsCommand({ Entries: [{ ...entry, EventBusName: 'orders' }] }));
    assert.equal(ok.FailedEntryCount, 0);
    const mixed = sandboxEvents.send(
      new PutEventsCommand({
        Entries: [
          { ...entry, EventBusName: 'orders' },
          { ...entry, EventBusName: 'other' },
        ],
      }),
    );
    await assert.rejects(mixed, (err: Error & { $metadata: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'AccessDeniedException');
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.match(
        err.message,
        /is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:0+:event-bus\/other because no identity-based policy allows/,
      );
      return true;
    });
    await assert.rejects(sandboxEvents.send(new PutEventsCommand({ Entries: [{ ...entry, EventBusName: 'audit' }] })), {
      name: 'AccessDeniedException',
      message: /event-bus\/audit with an explicit deny in a resource-based policy/,
    });
    assert.ok(lines.some((l) => l.includes('events:PutEvents') && l.includes('bus.grantPutEventsTo(fn)')));
  });
});
