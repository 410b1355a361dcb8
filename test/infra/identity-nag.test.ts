/**
 * cdk-nag's AwsSolutions pack over the example app (both releases): no unacknowledged error or
 * warning, and every acknowledgement carries a reason. Acknowledgements live in infra/ next to what
 * they cover (Mesh, MeshFunction, MeshIdentity).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ShopStack } from '../../infra/shop-stack';
import { tempDir } from '../support/temp-dir';

interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
  reason?: string;
}

function nag(release: 1 | 2) {
  const outdir = tempDir('identity-nag-');
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ShopStack(app, 'LambdaMeshShop', {
    release,
    env: { account: '123456789012', region: 'us-east-1' },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let failed: unknown;
  try {
    app.synth();
  } catch (err) {
    failed = err;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: Violation[]; suppressedViolations?: Violation[] }[];
  };
  return { stack, failed, report };
}

describe('cdk-nag AwsSolutions on the example app', () => {
  for (const release of [1, 2] as const) {
    it(`release ${release}: no unacknowledged finding; every acknowledgement has a reason`, () => {
      const { stack, failed, report } = nag(release);
      assert.ok(stack.mesh.identity, 'identity is on in the example app');
      const open = report.pluginReports.flatMap((p) => p.violations);
      assert.deepEqual(
        open.map(
          (v) => `${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
        ),
        [],
      );
      assert.equal(failed, undefined);
      const acknowledged = report.pluginReports.flatMap((p) => p.suppressedViolations ?? []);
      assert.ok(acknowledged.length > 0, 'the pack ran (the test can fail)');
      for (const a of acknowledged) assert.ok((a.reason ?? '').length >= 20, `${a.ruleName} needs a real reason`);
      // The identity resources themselves are clean apart from the acknowledged findings of the issuer
      // (identity secrets by name prefix) and of the provider framework that runs it at deploy (invoke of
      // issuer:*). Neither carries the account-wide logs policy: each writes a log group of its own.
      const identityFindings = acknowledged.filter((a) =>
        a.violatingConstructs.some((c) => c.constructPath.includes('/Mesh/Identity/')),
      );
      const where = (a: Violation) =>
        `${a.ruleName.replace(/\[.*$/, '')} ${a.violatingConstructs.some((c) => c.constructPath.includes('/IssuerProvider/')) ? 'provider' : 'issuer'}`;
      assert.deepEqual(identityFindings.map(where).sort(), ['AwsSolutions-IAM5 issuer', 'AwsSolutions-IAM5 provider']);
    });
  }
});
