/**
 * Stage `sign`: who vouches for a call and what each attempt carries. `connect` resolves this
 * function's identity once per call (none yet: the call is refused as unauthenticated, nothing is
 * sent) and picks the transport; `sign` writes an attempt's mesh metadata, its token bound to the
 * payload, idempotency key, deadline and (HTTP) request line.
 */
import { carriesIdentityToken, type HttpTarget } from '../../../shared/http-target';
import { ENV, type MeshMetadata } from '../../../shared/names';
import type { Identity } from '../identity/identity';
import { requestLineOfUrl } from '../identity/request-binding';
import { encodeClientContext } from '../metadata';
import type { InvokeTransport } from '../transport/lambda-invoke';
import type { AuthorizedCall, ReadyCall, Signer } from './call-context';
import { MeshCallError, MeshError } from './errors';
import { ended } from './record';

export async function connect(call: AuthorizedCall): Promise<ReadyCall> {
  let identity: Signer | undefined;
  try {
    // A function in another region verifies tokens against its own region's CA: sign with this
    // service's identity there.
    identity = await call.client.deps.identity(call.detour?.region);
  } catch (err) {
    // No identity yet: nothing is sent; the caller's log and metrics say so (runtime's identity loader).
    const e =
      err instanceof MeshError ? err : new MeshCallError(`mesh: cannot sign the call to ${call.target}: ${err}`);
    throw ended(call, 'unauthenticated', e, { refused: true });
  }
  // An HTTP target (Function URL with SigV4, mTLS, or plain) exists only as the deployment declared
  // it, never by a policy item: the same pipeline over the HTTP transport, loaded on first use. The
  // identity token goes only where the transport verifies who answers, and there it binds the
  // request line too.
  const http = httpTargetOf(call);
  if (!http) return Object.assign(call, { transport: call.client.deps.transport, signer: identity, overHttp: false });
  return Object.assign(call, {
    transport: httpTransport(call.target, http, identity),
    signer: carriesIdentityToken(http) ? signingHttp(identity, http.url) : undefined,
    overHttp: true,
  });
}

/**
 * The base64 ClientContext of one attempt (or, `mirrorCopy`, of the mirror) to `deadline`; `trc`
 * continues the trace. The callee counts a mirror copy apart from real traffic (mirror_requests_total).
 */
export function sign(call: ReadyCall, deadline: number, attempt: number, trc?: string, mirrorCopy = false): string {
  const { service } = call.client.deps;
  const idk = call.idempotencyKey;
  const meta: MeshMetadata = {
    v: 1,
    src: service,
    dl: deadline,
    att: attempt,
    idk,
    ...(trc ? { trc } : {}),
    ...(call.signer
      ? { tok: call.signer.sign({ target: call.target, payload: call.bytes, idempotencyKey: idk, deadline }) }
      : {}),
    ...call.carried,
    ...(mirrorCopy ? { mir: 1 as const } : {}),
  };
  return encodeClientContext(meta);
}

function httpTargetOf(call: AuthorizedCall): HttpTarget | undefined {
  const declared = call.client.deps.httpTargets;
  // The function in another region is Invoked by its ARN, whatever the target declared here.
  if (!declared || call.detour?.functionArn) return undefined;
  if (!declared.ok) {
    // Fail closed: a call must not fall back to Invoke when its declared route cannot be read.
    throw new MeshCallError(
      `mesh: ${ENV.httpTargets} is malformed (${declared.error}); ` +
        'MeshFunction sets it at deploy, so redeploy the function',
      500,
    );
  }
  return declared.targets.get(call.target);
}

function httpTransport(target: string, http: HttpTarget, signer: Signer | undefined): InvokeTransport {
  const { httpTargetTransport } = require('../identity/http-target') as typeof import('../identity/http-target');
  try {
    // The signer is this function's Identity (identity/index.ts loadIdentity): it carries the mTLS material too.
    return httpTargetTransport(target, http, signer as Identity | undefined);
  } catch (err) {
    throw new MeshCallError(`mesh: cannot call ${target} at ${http.url}: ${(err as Error).message}`);
  }
}

/** An HTTP target's tokens also bind the request line the HTTP transports send (POST to the URL). */
function signingHttp(identity: Signer | undefined, url: string): Signer | undefined {
  if (!identity) return undefined;
  const http = requestLineOfUrl(url);
  return { sign: (input) => identity.sign({ ...input, http }) };
}
