/**
 * The token rides in the Invoke ClientContext, whose base64 form Lambda caps at 3,583 bytes together
 * with the rest of the mesh metadata. Measured with the longest names the mesh allows.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { MAX_TOKEN_CHARS } from '../../functions/mesh/identity';
import { META, type MeshMetadata } from '../../shared/names';
import { identityOf } from '../support/identity-fixture';

const CLIENT_CONTEXT_MAX_BASE64 = 3583;

describe('identity token size', () => {
  it('fits the ClientContext with the longest service and mesh names and full metadata', async () => {
    const mesh = 'm'.repeat(40);
    const caller = 'a'.repeat(40);
    const target = 'b'.repeat(40);
    const ca = await rotateCa(mesh, undefined);
    const id = await identityOf(await issueIdentity({ mesh, service: caller, ca }));
    // A token that binds the attempt and the mirror mark carries claim ctx too.
    const tok = id.sign({ target, payload: 'x'.repeat(1000), context: { att: 10, mir: 1 } });
    assert.ok(tok.length <= MAX_TOKEN_CHARS, `token ${tok.length} chars > ${MAX_TOKEN_CHARS}`);
    const meta: MeshMetadata = {
      v: 1,
      src: caller,
      tok,
      dl: Date.now() + 900_000,
      att: 10,
      idk: 'c0ffee00-0000-4000-8000-000000000000',
      trc: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      mir: 1,
    };
    const clientContext = Buffer.from(JSON.stringify({ custom: { [META.clientContextKey]: meta } })).toString('base64');
    console.log(
      `identity token ${tok.length} chars; ClientContext ${clientContext.length}/${CLIENT_CONTEXT_MAX_BASE64} base64 bytes`,
    );
    assert.ok(
      clientContext.length <= CLIENT_CONTEXT_MAX_BASE64,
      `ClientContext ${clientContext.length} > ${CLIENT_CONTEXT_MAX_BASE64}`,
    );
    // Leave B room to grow the metadata: at least 1,000 base64 bytes to spare in the worst case.
    assert.ok(
      CLIENT_CONTEXT_MAX_BASE64 - clientContext.length >= 1000,
      `only ${CLIENT_CONTEXT_MAX_BASE64 - clientContext.length} bytes to spare`,
    );
  });
});
