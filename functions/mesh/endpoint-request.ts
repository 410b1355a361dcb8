/**
 * Answers one request to the local HTTP endpoint (endpoint.ts): admits it (the sandbox's secret, a
 * loopback Host), runs `call()` for `POST /<service>` in the invocation the request belongs to, and
 * answers the result or the error as JSON. Its own file in the layer, required on the first
 * connection: a function that never uses the endpoint never loads it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { META_HEADER } from '../../shared/names';
import { admitEndpointRequest } from './endpoint-guard';
import { errorBody, MeshCallError } from './errors';
import type { MeshRuntime } from './mesh-runtime';

/** Names the invocation (its Lambda request id) a request belongs to, when several run at once. */
export const REQUEST_ID_HEADER = 'x-mesh-request-id';

/**
 * Invoke's synchronous request payload limit ("Lambda quotas", AWS Lambda Developer Guide): no call
 * could carry a larger body, so none is read past it.
 */
export const BODY_LIMIT = 6 * 1024 * 1024;

export async function handleEndpointRequest(
  runtime: () => MeshRuntime,
  secret: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const admission = admitEndpointRequest(req, secret);
    if (!admission.ok) throw new MeshCallError(`mesh endpoint: ${admission.reason}`, admission.status);
    const rt = runtime();
    // The invocation in flight as the head arrives: a body that ends after it did (a process of a
    // frozen sandbox, a slow writer) is still its call, past its deadline a timeout, not the next one's.
    const invocation = req.headers[REQUEST_ID_HEADER];
    const scope = rt.invocations.named(typeof invocation === 'string' ? invocation : undefined);
    const url = admission.path;
    const service = serviceOf(url);
    if (req.method !== 'POST')
      throw new MeshCallError(`use POST $MESH_ENDPOINT/<service> with a JSON body (got ${req.method} ${url})`, 405);
    const text = await readBody(req);
    let payload: unknown = {};
    if (text.trim() !== '') {
      try {
        payload = JSON.parse(text);
      } catch {
        throw new MeshCallError(`the body of POST /${service} must be JSON`, 400);
      }
    }
    const idk = req.headers[META_HEADER.idempotencyKey] ?? req.headers['idempotency-key'];
    const timeout = Number(req.headers['x-mesh-timeout-ms']);
    const result = await rt.invocations.within(scope, () =>
      rt.call(service, payload, {
        headers: req.headers as Record<string, string | string[] | undefined>,
        idempotencyKey: typeof idk === 'string' ? idk : undefined,
        timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
      }),
    );
    answer(res, 200, result === undefined ? null : result);
  } catch (err) {
    const { status, body } = errorBody(err);
    // A body left unread (a refusal, one past the limit) is not read on: the connection ends here.
    if (!req.complete) res.shouldKeepAlive = false;
    answer(res, status, body);
  }
}

function answer(res: ServerResponse, status: number, value: unknown): void {
  const s = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/** The first path segment, percent-decoded; a malformed escape is the client's error. */
function serviceOf(path: string): string {
  try {
    return decodeURIComponent(path.split('?')[0]!.split('/')[1] ?? '');
  } catch {
    throw new MeshCallError('malformed service name', 400);
  }
}

/** The body as text, up to BODY_LIMIT bytes; past it, a 413 at once (the rest is never read). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) reject(new MeshCallError(`body over ${BODY_LIMIT} bytes`, 413));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
