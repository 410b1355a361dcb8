/**
 * What a caller may learn from this function's mesh: a refusal says `denied` or `unauthenticated`
 * and the request id to quote to an operator; no mesh error leaves with a stack trace (it names files
 * and lines of this function). Reasons, deny notes and hints stay in this function's access log.
 * Not in errors.ts: the layer shares errors.ts through wrapper.js (the entry), whose exports are the public API.
 */
import { MeshError } from './errors';

/** The message of a refusal: what happened and the request id, nothing else. */
export function refusalMessage(service: string, what: 'denied' | 'unauthenticated', requestId: string): string {
  return `mesh: ${service} refused the call: ${what} (request ${requestId})`;
}

/** The error with only `name: message` as its stack, as it may travel to a caller. */
export function withoutStack<E extends Error>(err: E): E {
  err.stack = `${err.name}: ${err.message}`;
  return err;
}

/** Whether `err` is a mesh error, also one made by another copy of the runtime (a bundled one). */
export function isMeshError(err: unknown): err is Error {
  return err instanceof MeshError || (err instanceof Error && /^Mesh[A-Za-z]*Error$/.test(err.name));
}
