/**
 * The one synthesis `mesh local` and `npm start` share (local/watch/app-synth.ts), on a stand-in app
 * that writes what it was given: an environment-agnostic stack gets the local mesh's account and
 * region, whatever the machine's AWS settings, unless the caller names others.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { synthApp } from '../../local/watch/app-synth';

describe('app synthesis for the local mesh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-synth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'app.js'),
    `const { mkdirSync, writeFileSync } = require('node:fs');
     const e = process.env;
     mkdirSync(e.CDK_OUTDIR, { recursive: true });
     writeFileSync(e.CDK_OUTDIR + '/manifest.json', '{}'); // as every cloud assembly has
     writeFileSync(e.CDK_OUTDIR + '/seen.json', JSON.stringify({
       account: e.CDK_DEFAULT_ACCOUNT, region: e.CDK_DEFAULT_REGION, context: JSON.parse(e.CDK_CONTEXT_JSON) }));`,
  );
  writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js', context: { release: '2' } }));
  const seen = () => JSON.parse(readFileSync(join(dir, 'out', 'seen.json'), 'utf8'));

  it("synthesizes with the local mesh's account and region, cdk.json's context and the -c pairs", async () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012'; // as a shell with real AWS settings may have
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    try {
      await synthApp({ root: dir, context: { release: '1' } }, join(dir, 'out'));
    } finally {
      for (const [k, v] of [
        ['CDK_DEFAULT_ACCOUNT', saved.account],
        ['CDK_DEFAULT_REGION', saved.region],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const s = seen();
    assert.deepEqual([s.account, s.region], ['000000000000', 'us-east-1']);
    assert.equal(s.context.release, '1');
    assert.equal(s.context['aws:cdk:enable-asset-metadata'], true);
  });

  it('the caller may name another account and region', async () => {
    await synthApp(
      { root: dir, env: { CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-central-1' } },
      join(dir, 'out'),
    );
    assert.deepEqual([seen().account, seen().region, seen().context.release], ['111111111111', 'eu-central-1', '2']);
  });
});
