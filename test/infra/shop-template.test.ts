/**
 * Snapshot of the example app's template (release 2): any change to what the constructs emit shows
 * up in review. Asset hashes and hash-suffixed version ids are normalised, so a code change in a
 * handler or the runtime does not churn the snapshot. Update: `UPDATE_SNAPSHOTS=1 npm test -- test/infra/shop-template`.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { CloudFormationValidatePlugin } from 'aws-cdk-lib';
import { ENV, shopApp } from './infra-fixture';

const FILE = join(__dirname, 'snapshots', 'shop-release2.template.json');
const REPO = resolve(__dirname, '..', '..');

/**
 * Replaces content hashes (asset keys, version logical ids) and the checkout's absolute path (in
 * asset metadata) with placeholders, so the snapshot holds in any clone.
 */
export function normalise(template: unknown): unknown {
  const text = JSON.stringify(template, null, 1)
    .split(REPO)
    .join('<repo>')
    .replace(/[0-9a-f]{64}/g, '<asset-hash>')
    .replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1<hash>');
  return JSON.parse(text);
}

describe('example app template', () => {
  let shop: ReturnType<typeof shopApp>;
  before(() => {
    shop = shopApp(2);
  });

  it('matches the committed snapshot', () => {
    const actual = normalise(shop.template.toJSON());
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      mkdirSync(join(FILE, '..'), { recursive: true });
      writeFileSync(FILE, `${JSON.stringify(actual, null, 1)}\n`);
    }
    assert.ok(existsSync(FILE), `${FILE} is missing; run UPDATE_SNAPSHOTS=1 npm test -- test/infra/shop-template`);
    assert.deepEqual(actual, JSON.parse(readFileSync(FILE, 'utf8')));
  });

  it('passes the CloudFormation validation that cdk synth runs, without a single finding', () => {
    // `npm test` turns that validation off in its synths (CDK_VALIDATION=false in scripts/test.js: it
    // costs each test process seconds of CPU). Here it runs on every template of the example app, and a
    // warning fails the test as an error does (at synth, its findings are only printed).
    const stackTemplates = readdirSync(shop.assemblyDir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => ({
        stackConstructPath: f,
        templatePath: join(shop.assemblyDir, f),
        accountId: ENV.account,
        region: ENV.region,
      }));
    assert.ok(stackTemplates.length > 0, `no template in ${shop.assemblyDir}`);
    const report = new CloudFormationValidatePlugin().validate({
      appConstruct: shop.app,
      templatePaths: stackTemplates.map((t) => t.templatePath),
      stackTemplates,
    });
    assert.deepEqual(
      report.violations.map((v) => `${v.ruleName} ${v.severity}: ${v.description}`),
      [],
    );
    assert.equal(report.success, true);
  });
});
