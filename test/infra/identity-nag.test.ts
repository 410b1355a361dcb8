/**
 * cdk-nag's AwsSolutions pack over the example app (both releases): no unacknowledged error or
 * warning, and every acknowledgement carries a reason. Acknowledgements live in infra/ next to what
 * they cover (Mesh, MeshFunction, MeshIdentity). cdk-nag 3 reads them as aws-cdk-lib's
 * acknowledgements, cdk-nag 2 (an aspect, still in many apps) as each resource's `cdk_nag` metadata:
 * both run here.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { ShopStack } from '../../infra/shop-stack';
import { addNagPacks, type NagViolation, nagFindings } from '../support/nag-findings';
import { tempDir } from '../support/temp-dir';

function nag(release: 1 | 2, flags: Record<string, unknown> = {}) {
  const app = new App({ outdir: tempDir('identity-nag-'), context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new ShopStack(app, 'LambdaMeshShop', {
    release,
    env: { account: '123456789012', region: 'us-east-1' },
  });
  addNagPacks(app);
  let failed: unknown;
  try {
    app.synth();
  } catch (err) {
    failed = err;
  }
  return { stack, failed, ...nagFindings(app, stack) };
}

describe('cdk-nag AwsSolutions on the example app', () => {
  for (const release of [1, 2] as const) {
    it(`release ${release}: no unacknowledged finding in cdk-nag 3 or 2; every acknowledgement has a reason`, () => {
      const { stack, failed, open, acknowledged, open2, suppressed2 } = nag(release);
      assert.ok(stack.mesh.identity, 'identity is on in the example app');
      assert.deepEqual(open, []);
      assert.equal(failed, undefined);
      assert.ok(acknowledged.length > 0, 'the pack ran (the test can fail)');
      for (const a of acknowledged) assert.ok((a.reason ?? '').length >= 20, `${a.ruleName} needs a real reason`);
      // cdk-nag 2 reads the same acknowledgements from the resources' metadata.
      assert.deepEqual(open2, []);
      assert.ok(suppressed2.length > 0, 'cdk-nag 2 ran and read the acknowledgements (the test can fail)');
      // The identity resources themselves are clean apart from the acknowledged findings of the issuer
      // (identity secrets by name prefix) and of the provider framework that runs it at deploy (invoke of
      // issuer:*). Neither carries the account-wide logs policy: each writes a log group of its own.
      const identityFindings = acknowledged.filter((a) =>
        a.violatingConstructs.some((c) => c.constructPath.includes('/Mesh/Identity/')),
      );
      const where = (a: NagViolation) =>
        `${a.ruleName.replace(/\[.*$/, '')} ${a.violatingConstructs.some((c) => c.constructPath.includes('/IssuerProvider/')) ? 'provider' : 'issuer'}`;
      assert.deepEqual(identityFindings.map(where).sort(), ['AwsSolutions-IAM5 issuer', 'AwsSolutions-IAM5 provider']);
    });
  }

  it('no unacknowledged finding under the flags cdk init writes, where ARNs spell the partition (enablePartitionLiterals)', () => {
    const { failed, open, open2 } = nag(2, CURRENTLY_RECOMMENDED_FLAGS);
    assert.deepEqual(open, []);
    assert.equal(failed, undefined);
    assert.deepEqual(open2, []);
  });
});
