/**
 * A fallback into another region must reach what the edge itself reaches: the target's alias and
 * published versions, never $LATEST. Lambda evaluates an Invoke by the ARN it names, and an unqualified
 * name invokes $LATEST ("Versioning, aliases and resource policies", AWS Lambda Developer Guide): a
 * grant on the bare function ARN lets the caller's code (or anyone holding its role) run the other
 * region's unpublished code, past every canary's gate, which a deny on `:$LATEST` does not stop. The
 * mesh itself always names a qualifier when it fails over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { meshStack } from '../infra/infra-fixture';

const WEST = 'arn:aws:lambda:us-west-2:123456789012:function:shop-payments';

describe('a fallback in another region', () => {
  it("grants the other region's function qualified only", () => {
    const { app, stack, fn } = meshStack();
    fn('Orders', 'orders').allowCallsTo(fn('Payments', 'payments'), { fallback: { functionArn: WEST } });
    app.synth();
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => String(p.Metadata?.['aws:cdk:path']).startsWith('Test/Orders/'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Effect: string; Action: unknown; Resource: unknown }[])
      .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('lambda:InvokeFunction'));
    const west = statements.flatMap((s) => [s.Resource].flat()).filter((r) => String(r).startsWith(WEST));
    assert.deepEqual(west, [`${WEST}:*`], 'the alias and versions, not the bare function ($LATEST)');
  });
});
