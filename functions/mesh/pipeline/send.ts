/**
 * Stage `send`: one attempt on the wire, through the call's transport (Lambda Invoke, or the HTTP
 * transport of a declared target), aborted at the attempt's timeout. It reports what the transport
 * saw, answer or error, and when; `classify` says what that means.
 */
import type { MeshMetadata } from '../../../shared/names';
import { EVENT_INVOKE_MAX_BYTES, envelopeOf, tooLarge } from '../async/event-envelope';
import type { InvokeRequest, InvokeResponse } from '../transport/lambda-invoke';
import type { AttemptContext } from './call-context';

/** What the transport saw of one attempt, and when it ended (the client's clock). */
export type Sent =
  | { readonly response: InvokeResponse; readonly endedAt: number }
  | { readonly error: unknown; readonly timedOut: boolean; readonly endedAt: number };

export function send(a: AttemptContext, clientContext: string, traceHeader: string | undefined): Promise<Sent> {
  return transmit(a, { payload: a.call.bytes, clientContext, traceHeader });
}

/**
 * One attempt of a `send`: to a channel, the payload and the metadata, which the channel's transport
 * carries as the channel allows; to a service, an Event invoke whose body is the envelope (Lambda passes
 * no ClientContext on Event invokes), held to Lambda's asynchronous payload limit before it is sent.
 */
export function sendAsync(a: AttemptContext, meta: MeshMetadata, traceHeader: string | undefined): Promise<Sent> {
  const { call } = a;
  if (call.channel) return transmit(a, { payload: call.bytes, clientContext: '', metadata: meta, traceHeader });
  const payload = envelopeOf(meta, call.bytes);
  if (payload.length > EVENT_INVOKE_MAX_BYTES) {
    const error = tooLarge(`the Event invoke of ${call.target}`, payload.length, EVENT_INVOKE_MAX_BYTES);
    return Promise.resolve({ error, timedOut: false, endedAt: call.client.now() });
  }
  return transmit(a, { payload, clientContext: '', invocationType: 'Event', traceHeader });
}

type Body = Pick<InvokeRequest, 'payload' | 'clientContext' | 'traceHeader' | 'invocationType' | 'metadata'>;

async function transmit(a: AttemptContext, body: Body): Promise<Sent> {
  const { call } = a;
  const ac = new AbortController();
  // The abort waits for the turn's I/O (setImmediate): a loop busy past the timeout then reads an answer
  // that had already come before ending the attempt, which would read an executed call as a timeout.
  const timer = setTimeout(() => setImmediate(() => ac.abort()), a.timeout.timeoutMs);
  try {
    const response = await call.transport.invoke({
      functionName: call.functionName,
      qualifier: a.qualifier,
      ...body,
      signal: ac.signal,
    });
    return { response, endedAt: call.client.now() };
  } catch (error) {
    return { error, timedOut: ac.signal.aborted, endedAt: call.client.now() };
  } finally {
    clearTimeout(timer);
  }
}
