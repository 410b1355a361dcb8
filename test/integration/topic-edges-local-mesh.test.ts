/**
 * An SNS hop on the local mesh (test/support/topic-app), the real constructs, layer and runtime: a
 * meshed function's `mesh.send` to a topic is published on the local SNS, delivered to the consumer
 * that `receiveFrom`s it as Lambda's SNS event (an Event invoke, past the alias's resource policy for
 * sns.amazonaws.com), verified (the consumer sees the sender's identity and not the mesh attribute),
 * and withheld from a subscription whose filter policy (on the body) does not match.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { LIVE_ALIAS } from '../../shared/names';
import { eventuallyValue } from '../support/eventually-value';
import { clientConfig, topicFixtureAssembly } from '../support/example-assembly';

describe('local mesh: an SNS topic between meshed functions', () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  const logs: { fn: string; line: string }[] = [];
  const meshLog: string[] = [];

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [topicFixtureAssembly()],
      port: 0,
      quiet: true,
      asyncRetryBaseMs: 100,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
      log: (line) => meshLog.push(line),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    await mesh?.stop();
  });

  const received = (fn: string) =>
    logs
      .filter((l) => l.fn === fn && l.line.includes('received {'))
      .map(
        (l) =>
          JSON.parse(l.line.slice(l.line.indexOf('received ') + 9)) as {
            from: string;
            payload: { note?: string };
            attributes: string[];
            topic: string;
          },
      );
  const eventually = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 15_000) =>
    eventuallyValue(what, get, ms, () => `mesh log: ${meshLog.join('\n')}`);

  const send = async (note: string) => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'tpc-sender',
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ to: 'notices', payload: { note } })),
      }),
    );
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(out.FunctionError, undefined, text);
    return JSON.parse(text) as { messageId?: string; idempotencyKey: string };
  };

  test('a send to the topic reaches its consumer verified, and not the subscription its filter policy keeps out', async () => {
    // Act
    const receipt = await send('n-1');
    await send('for-picky');

    // Assess
    assert.match(receipt.messageId ?? '', /^[0-9a-f-]{36}$/, 'SNS gave the message an id');
    const got = await eventually('the listener run', () =>
      received('tpc-listener').find((r) => r.payload.note === 'n-1'),
    );
    assert.equal(got.from, 'sender', 'the consumer sees the identity the mesh verified');
    assert.deepEqual(got.attributes, [], 'the mesh attribute is taken off before the handler');
    assert.equal(got.topic, 'arn:aws:sns:us-east-1:000000000000:tpc-notices');
    await eventually('the listener counts the record', () =>
      mesh.store
        .stats({ windowMs: 600_000 })
        .edges.find((e) => e.source === 'sender' && e.destination === 'listener' && e.reporter === 'destination'),
    );
    // picky's subscription lets through only the second message, published after the first.
    const picked = await eventually('the picky run', () =>
      received('tpc-picky').find((r) => r.payload.note === 'for-picky'),
    );
    assert.equal(picked.from, 'sender');
    assert.deepEqual(
      received('tpc-picky').map((r) => r.payload.note),
      ['for-picky'],
      'the filter policy kept the first message from picky',
    );
    await eventually('the listener gets both', () =>
      received('tpc-listener').find((r) => r.payload.note === 'for-picky'),
    );
  });
});
