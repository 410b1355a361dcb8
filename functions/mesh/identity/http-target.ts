/**
 * Picks the transport for a service item that points at a URL (shared/policy.ts `url`, `auth`):
 * `iam` -> SigV4 (Lambda Function URLs with AWS_IAM), `mtls` -> mesh client certificate, `none` ->
 * plain HTTP(S). Transports are cached per URL+auth (agents and signers are reused across calls).
 * B's pipeline: `const t = item.url ? await httpTargetTransport(item, service, identity) : lambdaTransport`.
 */
import { ENV } from '../../../shared/names';
import type { ServiceItem } from '../../../shared/policy';
import {
  type HttpTransport,
  type HttpTransportRequest,
  invokeOverHttp,
  mtlsHttpTransport,
} from '../transport/mtls-http';
import { sigv4HttpTransport } from '../transport/sigv4-http';
import { httpExchange, metadataHeaders } from './http-exchange';
import type { Identity } from './identity';

const cache = new Map<string, HttpTransport>();

export function httpTargetTransport(
  item: Pick<ServiceItem, 'url' | 'auth' | 'pk'>,
  identity: Identity | undefined,
): HttpTransport {
  if (!item.url) throw new Error(`service ${item.pk} has no url; use the Lambda Invoke transport`);
  // Function URLs default to IAM; other HTTPS targets to mTLS.
  const auth = item.auth ?? (/\.lambda-url\.[a-z0-9-]+\.on\.aws$/.test(new URL(item.url).hostname) ? 'iam' : 'mtls');
  const key = `${auth} ${item.url}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let t: HttpTransport;
  if (auth === 'iam') t = sigv4HttpTransport({ url: item.url });
  else if (auth === 'mtls') {
    if (!identity)
      throw new Error(
        `service ${item.pk} needs mTLS but this function has no identity (${ENV.identitySecret} unset); turn identity on or set auth "iam"/"none"`,
      );
    t = mtlsHttpTransport({ url: item.url, identity, targetService: item.pk });
  } else {
    const base = new URL(item.url);
    const send = (req: HttpTransportRequest) =>
      httpExchange({
        url: new URL(req.path ?? '', base),
        method: req.method,
        headers: { 'content-type': req.contentType ?? 'application/json', ...metadataHeaders(req.metadata) },
        body: req.payload,
        signal: req.signal,
        timeoutMs: req.timeoutMs,
      });
    t = { kind: 'none', send, invoke: invokeOverHttp(send) };
  }
  cache.set(key, t);
  return t;
}
