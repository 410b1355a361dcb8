/**
 * Picks the transport for an HTTP target the deployment declared (shared/http-target.ts, from
 * MESH_HTTP_TARGETS): `iam` -> SigV4 (Lambda Function URLs with AWS_IAM), `mtls` -> mesh client
 * certificate, `none` -> plain HTTP(S). Transports are cached per service+URL+auth (agents and signers
 * are reused across calls). A transport to a target that may not see the caller's identity token
 * (plain http, `auth: none`) drops it from every request, whatever the caller handed it.
 */

import { carriesIdentityToken, type HttpTarget } from '../../../shared/http-target';
import { ENV, type MeshMetadata } from '../../../shared/names';
import { type HttpTransport, type HttpTransportRequest, httpTransport, plainSend } from '../transport/http-transport';
import type { Identity } from './identity';

const cache = new Map<string, HttpTransport>();

export function httpTargetTransport(
  service: string,
  target: HttpTarget,
  identity: Identity | undefined,
): HttpTransport {
  const key = `${service} ${target.auth} ${target.url}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const t = withoutTokenUnlessAllowed(target, transportFor(service, target, identity));
  cache.set(key, t);
  return t;
}

/** Each transport's module is required by the first target that needs it (its own file in the layer). */
function transportFor(service: string, target: HttpTarget, identity: Identity | undefined): HttpTransport {
  if (target.auth === 'iam') {
    const { sigv4HttpTransport } = require('../transport/sigv4-http') as typeof import('../transport/sigv4-http');
    return sigv4HttpTransport({ url: target.url });
  }
  if (target.auth === 'mtls') {
    if (!identity)
      throw new Error(
        `service ${service} needs mTLS but this function has no identity (${ENV.identitySecret} unset); ` +
          'turn identity on or declare its endpoint with auth "iam"',
      );
    const { mtlsHttpTransport } = require('../transport/mtls-http') as typeof import('../transport/mtls-http');
    return mtlsHttpTransport({ url: target.url, identity, targetService: service });
  }
  return httpTransport('none', plainSend(new URL(target.url)));
}

/** The transport itself, or one that strips `tok` from the metadata before anything is sent. */
function withoutTokenUnlessAllowed(target: HttpTarget, t: HttpTransport): HttpTransport {
  if (carriesIdentityToken(target)) return t;
  const send = (req: HttpTransportRequest) => t.send({ ...req, metadata: withoutToken(req.metadata) });
  return httpTransport(t.kind, send);
}

function withoutToken(meta: Partial<MeshMetadata>): Partial<MeshMetadata> {
  const { tok: _dropped, ...rest } = meta;
  return rest;
}

// For the SigV4 and mTLS transports, each its own file in the layer (LAYER_FILES in build.ts).
export * from '../transport/http-transport';
export * from './http-exchange';
