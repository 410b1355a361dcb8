/**
 * Attack: an mTLS HTTP target (`auth: 'mtls'`) answered by another mesh service. Every service's
 * certificate comes from the mesh CA, and a service that serves HTTPS of its own has its host or address
 * in its certificate too (IssueOptions.dnsNames / ipAddresses). The transport took a server certificate
 * from the mesh CA by its SPIFFE ID or, failing that, by hostname: so ledger's server, reached at the
 * address payments is declared at (a DNS record or a route it controls), passed as payments, and got the
 * payload and an identity token signed for payments, which payments would take from ledger before its
 * deadline. With the mesh CA, only the target's SPIFFE ID passes now. Real identities from one mesh CA,
 * the real runtime and pipeline, node:https on 127.0.0.1.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { issueIdentity } from '../../functions/control/ca-issuer';
import { MeshRemoteError } from '../../functions/mesh/errors';
import type { IdentityLike } from '../../functions/mesh/mesh-runtime';
import { META_HEADER } from '../../shared/names';
import { identityOf, identityWorld } from '../support/identity-fixture';
import { httpTargetCaller, settled } from '../support/raw-http-target';

describe('an mTLS target answered by another mesh service', () => {
  let server: Server;
  let url = '';
  let orders: IdentityLike;
  const reached: { token?: string; peer?: string }[] = [];

  before(async () => {
    const w = await identityWorld();
    orders = (await identityOf(w.orders)) as unknown as IdentityLike;
    // ledger serves HTTPS of its own, so its certificate names its address too.
    const ledger = await identityOf(
      await issueIdentity({ mesh: 'shop', service: 'ledger', ca: w.ca, ipAddresses: ['127.0.0.1'] }),
    );
    const tls = ledger.tlsMaterial();
    server = createServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        reached.push({
          token: req.headers[META_HEADER.token] as string | undefined,
          peer: (req.socket as TLSSocket).getPeerCertificate().subjectaltname,
        });
        req.resume().on('end', () => res.end('{}'));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}/pay`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("ledger's certificate, valid for the address payments is declared at, is not payments': nothing is sent", async () => {
    const rt = httpTargetCaller({ url, auth: 'mtls' }, { identity: orders });
    const { error } = await settled(rt.call('payments', { amount: 5 }));
    assert.ok(error instanceof MeshRemoteError, `${String(error)}`);
    assert.match(error.message, /spiffe:\/\/shop\/svc\/payments/);
    assert.deepEqual(reached, [], 'no request, and so no token signed for payments, reached ledger');
  });
});
