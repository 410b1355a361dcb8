/**
 * EventBridge on the local endpoint replays requests whose answers were recorded from real AWS
 * (LocalStack's parity tests, `tests/aws/services/events/test_events.snapshot.json`, "recorded-content")
 * and must answer as the recording shows: status, error code, message text word for word, and the keys
 * of a success and of the event a target receives. What a recording transforms (ids, dates, accounts)
 * is not compared. Each test names the recorded test it follows. The real AWS SDK sends every request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { type Endpoint, SecretStore, startEndpoint } from '../../local/endpoint';
import { EventBuses } from '../../local/events/event-buses';
import { eventsJsonServices } from '../../local/events/events-api';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';

const ACCOUNT = '000000000000';
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
/** test_events.py's TEST_EVENT_PATTERN and TEST_EVENT_DETAIL, the Detail as Python's json.dumps writes it. */
const SOURCE = 'core.update-account-command';
const DETAIL = '{"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}';

interface AwsFailure extends Error {
  $metadata: { httpStatusCode?: number };
}

async function failure(call: () => Promise<unknown>): Promise<{ status?: number; code: string; message: string }> {
  const err = await rejection<AwsFailure>(call);
  return { status: err.$metadata.httpStatusCode, code: err.name, message: err.message };
}

describe('local endpoint: EventBridge answers as recorded from AWS', () => {
  let ep: Endpoint;
  let events: EventBridgeClient;
  const invoked: { arn: string; payload: Record<string, unknown> }[] = [];
  const buses = new EventBuses({
    accountId: ACCOUNT,
    log: () => undefined,
    invokeAsync: async (arn, payload) => {
      invoked.push({ arn, payload: JSON.parse(payload) });
    },
    invokeRefusal: () => undefined,
    deadLetter: async () => undefined,
  });
  buses.putBus('us-east-1', 'custom');
  buses.putRule('us-east-1', {
    name: 'default-bus-rule',
    busName: 'default',
    pattern: { 'detail-type': ['CustomType'], source: ['MySource'] },
    enabled: true,
    targets: [{ id: 'default-target', arn: `${FN}:default-target` }],
  });

  before(async () => {
    ep = await startEndpoint({
      port: 0,
      registry: new FunctionRegistry(),
      invoker: { invoke: async () => ({ payload: Buffer.from('null'), executedVersion: '1' }) },
      secrets: new SecretStore(),
      jsonServices: eventsJsonServices(buses),
    });
    events = new EventBridgeClient(loopbackClientConfig(ep.url));
  });
  after(async () => {
    events?.destroy();
    await ep?.close();
  });

  const put = (entry: PutEventsRequestEntry) => events.send(new PutEventsCommand({ Entries: [entry] }));
  /** A one-entry PutEvents as the recordings compare it: status, FailedEntryCount, the entry's keys. */
  const answer = async (entry: PutEventsRequestEntry) => {
    const out = await put(entry);
    return { status: out.$metadata.httpStatusCode, FailedEntryCount: out.FailedEntryCount, Entries: out.Entries };
  };
  const refused = (ErrorCode: string, ErrorMessage: string) => ({
    status: 200,
    FailedEntryCount: 1,
    Entries: [{ ErrorCode, ErrorMessage }],
  });
  const required = (field: string) =>
    refused('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);

  // test_events.py::TestEvents::test_put_events_without_source, ::test_put_event_without_detail,
  // ::test_put_event_without_detail_type
  it('PutEvents: an entry without Source, Detail or DetailType is answered InvalidArgument naming it', async () => {
    assert.deepEqual(await answer({ DetailType: SOURCE, Detail: DETAIL }), required('Source'));
    assert.deepEqual(await answer({ Source: SOURCE, DetailType: SOURCE }), required('Detail'));
    assert.deepEqual(await answer({ Source: 'some.source', Detail: DETAIL, DetailType: '' }), required('DetailType'));
  });

  // test_events.py::TestEvents::test_put_event_malformed_detail[STRING, ARRAY, MALFORMED_JSON, SERIALIZED_STRING]
  it('PutEvents: a Detail that is not a JSON object is MalformedDetail', async () => {
    for (const Detail of ['NotJSON', '[]', '{{}', '"NotJSON"']) {
      assert.deepEqual(
        await answer({ Source: SOURCE, DetailType: SOURCE, Detail }),
        refused('MalformedDetail', 'Detail is malformed.'),
        Detail,
      );
    }
  });

  // test_events.py::TestEvents::test_put_event_with_too_big_detail
  it('PutEvents: a Detail of 256 KB is refused whole', async () => {
    const Detail = JSON.stringify({ payload: ['p'.repeat(256 * 1024 - 17)] }).replace('":[', '": [');
    assert.deepEqual(await failure(() => put({ Source: SOURCE, DetailType: SOURCE, Detail })), {
      status: 400,
      code: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  // test_events.py::TestEvents::test_put_events_exceed_limit_ten_entries[custom, default]
  it('PutEvents: 11 entries are refused, the entries written out as EventBridge lists them', async () => {
    for (const EventBusName of ['custom', 'default']) {
      const entry = { Source: SOURCE, DetailType: SOURCE, Detail: DETAIL, EventBusName };
      const listed = Array(11)
        .fill(
          `PutEventsRequestEntry(time=null, source=${SOURCE}, resources=null, detailType=${SOURCE}, detail=${DETAIL}, ` +
            `eventBusName=${EventBusName}, traceHeader=null, kmsKeyIdentifier=null, internalMetadata=null)`,
        )
        .join(', ');
      assert.deepEqual(await failure(() => events.send(new PutEventsCommand({ Entries: Array(11).fill(entry) }))), {
        status: 400,
        code: 'ValidationException',
        message: `1 validation error detected: Value '[${listed}]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10`,
      });
    }
  });

  // test_events.py::TestEventBus::test_put_events_nonexistent_event_bus
  it('PutEvents to a bus that does not exist: an event id all the same, the event dropped', async () => {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'MySource', DetailType: 'CustomType', Detail: '{"message": "for the default event bus"}' },
          {
            EventBusName: 'nonexistent',
            Source: 'MySource',
            DetailType: 'CustomType',
            Detail: '{"message": "for the custom event bus"}',
          },
        ],
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.FailedEntryCount, 0);
    assert.deepEqual(
      out.Entries?.map((e) => Object.keys(e)),
      [['EventId'], ['EventId']],
    );
    for (let i = 0; i < 100 && invoked.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    // The event as the rule's target receives it: these keys in this order, its id the EventId answered.
    assert.deepEqual(
      invoked.map((i) => Object.keys(i.payload)),
      [['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']],
    );
    assert.deepEqual(
      { ...invoked[0]?.payload, time: undefined },
      {
        version: '0',
        id: out.Entries?.[0]?.EventId,
        'detail-type': 'CustomType',
        source: 'MySource',
        account: ACCOUNT,
        time: undefined,
        region: 'us-east-1',
        resources: [],
        detail: { message: 'for the default event bus' },
      },
    );
    assert.deepEqual(await failure(() => events.send(new DescribeEventBusCommand({ Name: 'nonexistent' }))), {
      status: 400,
      code: 'ResourceNotFoundException',
      message: 'Event bus nonexistent does not exist.',
    });
  });

  // test_events.py::TestEventBus::test_create_list_describe_delete_custom_event_buses (describe-custom-event-bus),
  // ::test_put_permission[default] (describe-event-bus-put-permission-policy, without its Policy)
  it('DescribeEventBus answers the bus with its creation and last-modified times', async () => {
    for (const Name of ['custom', 'default']) {
      const { $metadata, ...bus } = await events.send(new DescribeEventBusCommand({ Name }));
      assert.equal($metadata.httpStatusCode, 200);
      assert.deepEqual(Object.keys(bus).sort(), ['Arn', 'CreationTime', 'LastModifiedTime', 'Name']);
      assert.ok(bus.CreationTime instanceof Date && bus.LastModifiedTime instanceof Date);
    }
  });

  // test_events.py::TestEventRule::test_put_list_with_prefix_describe_delete_rule[default] (list-rules)
  it('ListRules answers each rule with the keys EventBridge sends', async () => {
    const out = await events.send(new ListRulesCommand({ NamePrefix: 'default-bus', EventBusName: 'default' }));
    assert.deepEqual(
      out.Rules?.map((r) => Object.keys(r).sort()),
      [['Arn', 'EventBusName', 'EventPattern', 'Name', 'State']],
    );
    assert.deepEqual(out.Rules?.[0]?.EventBusName, 'default');
    assert.equal(out.Rules?.[0]?.Arn, `arn:aws:events:us-east-1:${ACCOUNT}:rule/default-bus-rule`);
  });
});
