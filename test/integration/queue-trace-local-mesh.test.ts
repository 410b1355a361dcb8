/**
 * A function triggered by a queue stays in its invocation's trace (test/support/async-app: `legacy`
 * reads the `orders` queue, written from outside the mesh, and calls `payments`), on the local mesh
 * with the real constructs, layer and runtime. Lambda gives each invocation of an SQS mapping a trace:
 * the message's, when its sender set the AWSTraceHeader system attribute, else a new one; the
 * function's segment and the subsegment of its call share it ("Using AWS Lambda with AWS X-Ray", AWS
 * Lambda Developer Guide; "Tracing event-driven applications", AWS X-Ray Developer Guide).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MessageSystemAttributeValue, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import type { Trace, TraceSpan } from '../../shared/telemetry/trace-assembler';
import { newSegmentId, newTraceId } from '../../shared/trace-header';
import { eventuallyValue } from '../support/eventually-value';
import { asyncFixtureAssembly, clientConfig } from '../support/example-assembly';

/** The trace's tree as `kind name` lines, children indented under their parent: what an assertion compares. */
function shape(spans: readonly TraceSpan[], indent = ''): string[] {
  return spans.flatMap((s) => [`${indent}${s.kind} ${s.name}`, ...shape(s.children, `${indent}  `)]);
}

describe('local mesh: a queue-triggered function stays in its invocation trace', () => {
  let mesh: LocalMesh;
  let sqs: SQSClient;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [asyncFixtureAssembly()], port: 0, quiet: true });
    sqs = new SQSClient(clientConfig(mesh.url));
  });
  after(async () => {
    sqs?.destroy();
    await mesh?.stop();
  });

  const sendOrder = (order: string, system?: Record<string, MessageSystemAttributeValue>) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: `${mesh.url}/000000000000/asy-orders`,
        MessageBody: JSON.stringify({ order }),
        MessageSystemAttributes: system,
      }),
    );
  const eventually = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 20_000) =>
    eventuallyValue(what, get, ms);
  /** The trace, once every hop of it has arrived (segments come over UDP). */
  const completed = (id: string): Trace | undefined => {
    const t = mesh.store.trace(id);
    return t?.complete && t.services.includes('asy-payments') ? t : undefined;
  };
  /** The legacy invocation's segment, the subsegment of its call to payments, and payments' segment. */
  const ONE_TRACE = ['segment asy-legacy', '  subsegment payments', '    segment asy-payments'];

  test('a plain message: the consumer, its call and the callee are one trace', async () => {
    const seen = new Set(mesh.store.traces(1000).map((t) => t.id));
    await sendOrder('o-plain');
    // Before the fix the call went out with no trace: payments' segment was a trace of its own.
    const id = await eventually('a new trace through payments', () => {
      const t = mesh.store.traces(50).find((s) => !seen.has(s.id) && completed(s.id));
      return t?.id;
    });
    const trace = mesh.store.trace(id)!;
    assert.deepEqual(shape(trace.roots), ONE_TRACE);
    // A message without AWSTraceHeader starts the invocation's trace: its segment has no parent.
    assert.equal(trace.roots[0]!.parentId, undefined);
  });

  test("a message sent with AWSTraceHeader: the invocation joins the sender's trace", async () => {
    const root = newTraceId();
    const parent = newSegmentId();
    await sendOrder('o-traced', {
      AWSTraceHeader: { DataType: 'String', StringValue: `Root=${root};Parent=${parent};Sampled=1` },
    });
    const trace = await eventually("payments in the sender's trace", () => completed(root));
    assert.deepEqual(shape(trace.roots), ONE_TRACE);
    // The invocation hangs under the sender's segment (not in this store: the sender is outside).
    assert.equal(trace.roots[0]!.parentId, parent);
  });
});
