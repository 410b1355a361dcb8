/**
 * The data-plane identity stays small and x509-library-free (cold start): bundled as the layer
 * bundles it (the AWS wire client, which reads the identity secret, is a layer file of its own), it
 * pulls in no @peculiar/x509 / tsyringe / reflect-metadata and stays under 16 KB.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSync } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

describe('identity in the layer', () => {
  it('bundles without an x509 library, under 16 KB minified', () => {
    const out = buildSync({
      entryPoints: [
        join(ROOT, 'functions/mesh/identity/index.ts'),
        join(ROOT, 'functions/mesh/transport/mtls-http.ts'),
      ],
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['@aws-sdk/*', join(ROOT, 'functions/mesh/aws/index.ts')],
      write: false,
      outdir: '/tmp/identity-bundle',
      metafile: true,
    });
    const inputs = Object.keys(out.metafile!.inputs);
    assert.ok(
      !inputs.some((i) => /peculiar|tsyringe|reflect-metadata|asn1/.test(i)),
      inputs.filter((i) => i.includes('node_modules')).join(', '),
    );
    const identity = out.outputFiles.find((f) => f.path.endsWith('index.js'))!;
    assert.ok(identity.contents.byteLength < 16_384, `identity bundle is ${identity.contents.byteLength} bytes`);
  });
});
