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

describe('app synthesis for the local mesh, as cdk synth runs the app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-synth-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A stack with no resources of its own (a placeholder, a stack of outputs), in an app with cdk init's
  // feature flags, among them template validation, whose errors (an empty template is one) fail the synth
  // (npm test turns validation off, CDK_VALIDATION=false, so the template is checked here instead).
  writeFileSync(
    join(dir, 'app.js'),
    `const { App, Stack } = require(${JSON.stringify(require.resolve('aws-cdk-lib'))});
     const app = new App();
     new Stack(app, 'Placeholder');
     app.synth();`,
  );
  const cdkJson = (extra: object) =>
    writeFileSync(
      join(dir, 'cdk.json'),
      JSON.stringify({ app: 'node app.js', context: { '@aws-cdk/core:validateAgainstDefaultRules': true }, ...extra }),
    );
  const template = () => JSON.parse(readFileSync(join(dir, 'out', 'Placeholder.template.json'), 'utf8'));

  it('reports the CDK version as the CLI does, unless cdk.json turns versionReporting off', async () => {
    // GIVEN cdk.json as cdk init writes it
    cdkJson({});
    // WHEN the local mesh synthesizes the app
    await synthApp({ root: dir }, join(dir, 'out'));
    // THEN the stack holds the CDK metadata `cdk synth` gives it, so its template is not empty
    assert.deepEqual(Object.keys(template().Resources), ['CDKMetadata']);
    // GIVEN an app that turns version reporting off, WHEN it synthesizes, THEN no metadata, as with the CLI
    cdkJson({ versionReporting: false });
    await synthApp({ root: dir }, join(dir, 'out'));
    assert.equal(template().Resources, undefined);
  });
});
