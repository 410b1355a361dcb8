/**
 * Stage `sign`: who vouches for a call and what each attempt carries. `connect` resolves this
 * function's identity once per call (none yet: the call is refused as unauthenticated, nothing is
 * sent) and picks the transport; `sign` writes an attempt's mesh metadata, its token bound to the
 * payload, idempotency key, deadline, (HTTP) request line and the metadata the callee acts on.
 */
import { carriesIdentityToken, type HttpTarget } from '../../../shared/http-target';
import { ASYNC_TOKEN_LIFETIME_S, channelSpiffeId, ENV, type MeshMetadata } from '../../../shared/names';
import { encodeClientContext } from '../client-context';
import type { Identity } from '../identity/identity';
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
  if (call.channel)
    return Object.assign(call, { transport: channelTransport(call), signer: identity, overHttp: false });
  const http = httpTargetOf(call);
  if (http && call.mode === 'send') {
    throw new MeshCallError(
      `mesh: cannot send to ${call.target}: it is reached over HTTP (${http.url}), and an asynchronous send is ` +
        'an Event invoke; call it with mesh.call, or send to a queue, topic or bus it consumes',
    );
  }
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
 * The token binds what reaches the callee: over HTTP only the attempt travels (`x-mesh-attempt`; the
 * mirror mark and routing headers have no header there), over Invoke all three.
 */
export function sign(call: ReadyCall, deadline: number, attempt: number, trc?: string, mirrorCopy = false): string {
  const { service } = call.client.deps;
  const idk = call.idempotencyKey;
  const carried = { ...call.carried, ...(mirrorCopy ? { mir: 1 as const } : {}) };
  const context = call.overHttp ? { att: attempt } : { att: attempt, ...carried };
  const meta: MeshMetadata = {
    v: 1,
    src: service,
    dl: deadline,
    att: attempt,
    idk,
    ...(trc ? { trc } : {}),
    ...(call.signer
      ? { tok: call.signer.sign({ target: call.target, payload: call.bytes, idempotencyKey: idk, deadline, context }) }
      : {}),
    ...carried,
  };
  return encodeClientContext(meta);
}

/**
 * The mesh metadata of one attempt of a `send`: no deadline (the message may wait in a queue and be
 * delivered again), a token that outlives the wait, addressed to the channel (any of its consumers)
 * or the target service, bound to the payload, idempotency key and the metadata the consumer acts on
 * (attempt, mirror mark, routing headers). `ch` names the channel.
 */
export function signAsync(call: ReadyCall, attempt: number, trc?: string): MeshMetadata {
  const { service, meshName } = call.client.deps;
  const idk = call.idempotencyKey;
  const audience = call.channel ? channelSpiffeId(meshName, call.target) : call.target;
  return {
    v: 1,
    src: service,
    att: attempt,
    idk,
    ...(trc ? { trc } : {}),
    ...(call.signer
      ? {
          tok: call.signer.sign({
            target: audience,
            payload: call.bytes,
            idempotencyKey: idk,
            lifetimeS: ASYNC_TOKEN_LIFETIME_S,
            // The envelope and the message attribute carry the whole metadata.
            context: { att: attempt, ...call.carried },
          }),
        }
      : {}),
    ...call.carried,
    ...(call.channel ? { ch: call.target } : {}),
  };
}

/** The channel's transport, one per channel for the client's life (its connection is kept alive). */
function channelTransport(call: AuthorizedCall): InvokeTransport {
  const { client, target } = call;
  let t = client.channelTransports.get(target);
  if (!t) {
    const make =
      client.deps.channelTransport ??
      ((name, c) =>
        (require('../transport/channel-transport') as typeof import('../transport/channel-transport')).channelTransport(
          name,
          c,
          process.env,
        ));
    try {
      t = make(target, call.channel!);
    } catch (err) {
      throw new MeshCallError(`mesh: cannot send to ${target}: ${(err as Error).message}`);
    }
    client.channelTransports.set(target, t);
  }
  return t;
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

/**
 * An HTTP target's tokens also bind the request line the HTTP transports send (POST to the URL). Read
 * from identity's file of the layer, loaded already whenever there is an identity to sign with.
 */
function signingHttp(identity: Signer | undefined, url: string): Signer | undefined {
  if (!identity) return undefined;
  const http = (require('../identity') as typeof import('../identity')).requestLineOfUrl(url);
  return { sign: (input) => identity.sign({ ...input, http }) };
}
