/**
 * Snapshot of the example app's template (release 2): any change to what the constructs emit shows
 * up in review. Asset hashes and hash-suffixed version ids are normalised, so a code change in a
 * handler or the runtime does not churn the snapshot. Update: `UPDATE_SNAPSHOTS=1 npm test -- test/infra/shop-template`.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { shopApp } from './infra-fixture';

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
  it('matches the committed snapshot', () => {
    const { template } = shopApp(2);
    const actual = normalise(template.toJSON());
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      mkdirSync(join(FILE, '..'), { recursive: true });
      writeFileSync(FILE, `${JSON.stringify(actual, null, 1)}\n`);
    }
    assert.ok(existsSync(FILE), `${FILE} is missing; run UPDATE_SNAPSHOTS=1 npm test -- test/infra/shop-template`);
    assert.deepEqual(actual, JSON.parse(readFileSync(FILE, 'utf8')));
  });
});
