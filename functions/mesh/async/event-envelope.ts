/**
 * How the mesh metadata travels with an asynchronous message, the payload left as the caller sent it.
 * An Event invoke carries no ClientContext (AWS Lambda API Reference, "Invoke": the client context is
 * passed on synchronous invocations only), so its body is an envelope the callee's wrapper opens:
 * `{"lambda-mesh": <metadata>, "payload": <the caller's JSON, byte for byte>}`. An EventBridge event's
 * detail is the same envelope (PutEvents entries have no attributes). Pure: bytes in, bytes out.
 */
import { META, type MeshMetadata } from '../../../shared/names';

/**
 * Largest Event invoke request, bytes (AWS Lambda Developer Guide, "Lambda quotas": 1 MB for
 * asynchronous invocation). The envelope counts: that is what Lambda measures.
 */
export const EVENT_INVOKE_MAX_BYTES = 1024 * 1024;

const OPEN = Buffer.from(`{"${META.envelopeKey}":`);
const MIDDLE = Buffer.from(`,"${META.envelopePayloadKey}":`);
const CLOSE = Buffer.from('}');

/** The envelope around `payload` (the JSON bytes the caller's token binds), spliced in unchanged. */
export function envelopeOf(meta: MeshMetadata, payload: Uint8Array): Buffer {
  return Buffer.concat([OPEN, Buffer.from(JSON.stringify(meta)), MIDDLE, payload, CLOSE]);
}

/**
 * The error a message over its channel's size limit fails with, before anything is sent: named as AWS
 * names it (so the call ends as a client error, never retried), with the size and what to do.
 */
export function tooLarge(what: string, bytes: number, limit: number): Error {
  const e = new Error(
    `${what} is ${bytes} bytes with the mesh metadata, over the ${limit}-byte limit; ` +
      'send a smaller payload (e.g. put the data in S3 and send its key)',
  );
  e.name = 'RequestTooLargeException';
  Object.assign(e, { $metadata: { httpStatusCode: 413 } });
  return e;
}
