/**
 * An EventBridge bus on the local mesh (test/support/bus-app), the real constructs, layer and runtime:
 * `sender`'s `mesh.send('order-events', ...)` goes on the wire to the local bus, the rule receiveFrom
 * made hands it to `consumer`'s live alias, and the consumer's mesh verifies the sender (the caller it
 * sees is `sender`). A PutEvents of the SDK reaches a plain function through a rule with a numeric
 * pattern and InputPath, and not when the pattern does not match.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { LIVE_ALIAS } from '../../shared/names';
import { eventuallyValue } from '../support/eventually-value';
import { busFixtureAssembly, clientConfig } from '../support/example-assembly';

describe('local mesh: an EventBridge bus between meshed functions', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let events: EventBridgeClient;
  const logs: { fn: string; line: string }[] = [];

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [busFixtureAssembly()],
      port: 0,
      quiet: true,
      asyncRetryBaseMs: 100,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    events = new EventBridgeClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    events?.destroy();
    await mesh?.stop();
  });

  const eventually = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 20_000) =>
    eventuallyValue(what, get, ms);
  /** What a function logged after `marker` (one JSON value per line). */
  const logged = (fn: string, marker: string) =>
    logs
      .filter((l) => l.fn === fn && l.line.includes(marker))
      .map((l) => JSON.parse(l.line.slice(l.line.indexOf(marker) + marker.length)) as Record<string, unknown>);

  test('mesh.send to the bus: the consumer gets the event, its sender verified by the mesh', async () => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'bus-sender',
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ to: 'order-events', payload: { order: 'o-7', total: 12 } })),
      }),
    );
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(out.FunctionError, undefined, text);
    const receipt = JSON.parse(text) as { idempotencyKey?: string };
    assert.ok(receipt.idempotencyKey, text);
    const got = await eventually('the consumer run', () =>
      logged('bus-consumer', 'received ').find(
        (r) => (r.payload as { detail?: { order?: string } }).detail?.order === 'o-7',
      ),
    );
    assert.equal(got.from, 'sender', 'the caller the consumer sees is the verified sender');
    const event = got.payload as Record<string, unknown>;
    assert.deepEqual(
      { source: event.source, type: event['detail-type'], detail: event.detail, account: event.account },
      { source: 'lambda-mesh', type: 'order-events', detail: { order: 'o-7', total: 12 }, account: '000000000000' },
      'an EventBridge event whose detail is the payload as sent, the mesh envelope opened',
    );
  });

  test('a PutEvents reaches a plain function through a numeric pattern and InputPath, and only when it matches', async () => {
    const put = (total: number, id: string) => ({
      EventBusName: 'bus-order-events',
      Source: 'shop',
      DetailType: 'order',
      Detail: JSON.stringify({ total, id }),
    });
    const out = await events.send(new PutEventsCommand({ Entries: [put(50, 'small'), put(150, 'big')] }));
    assert.equal(out.FailedEntryCount, 0);
    const got = await eventually('the audit run', () => logged('bus-audit', 'audited ').find((r) => r.id === 'big'));
    assert.deepEqual(got, { total: 150, id: 'big' }, 'the detail alone (InputPath $.detail)');
    assert.ok(!logged('bus-audit', 'audited ').some((r) => r.id === 'small'), 'the order of 50 matches no rule');
  });
});
