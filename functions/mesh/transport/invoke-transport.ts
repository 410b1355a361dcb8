/**
 * What the call pipeline hands a transport for one attempt, and what it reads back: the shape every
 * transport has (Lambda Invoke on the wire or through the SDK, the HTTP transports; tests and benches
 * may give their own).
 */

import type { MeshMetadata } from '../../../shared/names';

export interface InvokeRequest {
  readonly functionName: string;
  readonly qualifier: string;
  readonly payload: Uint8Array;
  /** Base64 ClientContext ('' = none: an Event invoke carries its metadata in the payload's envelope). */
  readonly clientContext: string;
  /** `Event`: queued by Lambda, answered 202 (`mesh.send`). @default 'RequestResponse' */
  readonly invocationType?: 'RequestResponse' | 'Event';
  /** The mesh metadata of a message to a channel, which carries it as the channel allows (channel-transport.ts). */
  readonly metadata?: MeshMetadata;
  /** Sent as X-Amzn-Trace-Id when set. */
  readonly traceHeader?: string;
  readonly signal: AbortSignal;
}

export interface InvokeResponse {
  readonly statusCode: number;
  readonly functionError?: string;
  readonly executedVersion?: string;
  readonly payload: Uint8Array;
}

export interface InvokeTransport {
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
}
