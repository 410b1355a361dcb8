/**
 * The base64 ClientContext of an outbound Invoke, which carries the mesh metadata. Apart from
 * metadata.ts, which every inbound path loads: only calls write one, and its error class would make
 * each layer file that reads metadata require the file that holds the errors.
 */
import { META, type MeshMetadata } from '../../shared/names';
import { MeshCallError } from './errors';

/** Lambda's cap on the base64 ClientContext of an Invoke (API_Invoke.html). */
export const CLIENT_CONTEXT_MAX_BYTES = 3583;

/**
 * The base64 ClientContext of an outbound Invoke. Throws a MeshCallError naming the size when it
 * passes Lambda's 3,583-byte cap (Lambda would answer a bare 400 instead).
 */
export function encodeClientContext(meta: MeshMetadata): string {
  const b64 = Buffer.from(`{"custom":{"${META.clientContextKey}":${JSON.stringify(meta)}}}`).toString('base64');
  if (b64.length > CLIENT_CONTEXT_MAX_BYTES) {
    throw new MeshCallError(
      `mesh metadata is ${b64.length} bytes as base64 ClientContext, over Lambda's ${CLIENT_CONTEXT_MAX_BYTES}-byte cap ` +
        `(token ${meta.tok?.length ?? 0} chars, trace header ${meta.trc?.length ?? 0} chars); shorten the identity certificate chain or the idempotency key`,
    );
  }
  return b64;
}
