/**
 * Stage `send`: one attempt on the wire, through the call's transport (Lambda Invoke, or the HTTP
 * transport of a declared target), aborted at the attempt's timeout. It reports what the transport
 * saw, answer or error, and when; `classify` says what that means.
 */
import type { InvokeResponse } from '../transport/lambda-invoke';
import type { AttemptContext } from './call-context';

/** What the transport saw of one attempt, and when it ended (the client's clock). */
export type Sent =
  | { readonly response: InvokeResponse; readonly endedAt: number }
  | { readonly error: unknown; readonly timedOut: boolean; readonly endedAt: number };

export async function send(a: AttemptContext, clientContext: string, traceHeader: string | undefined): Promise<Sent> {
  const { call } = a;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), a.timeout.timeoutMs);
  try {
    const response = await call.transport.invoke({
      functionName: call.functionName,
      qualifier: a.qualifier,
      payload: call.bytes,
      clientContext,
      traceHeader,
      signal: ac.signal,
    });
    return { response, endedAt: call.client.now() };
  } catch (error) {
    return { error, timedOut: ac.signal.aborted, endedAt: call.client.now() };
  } finally {
    clearTimeout(timer);
  }
}
