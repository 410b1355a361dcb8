/**
 * `MeshFunction.addHttpEndpoint`: the deployment is the only source of an HTTP target. Each caller of
 * the target gets it in MESH_HTTP_TARGETS (edges and endpoints declared in any order), a Function URL
 * with AWS_IAM brings the caller's lambda:InvokeFunctionUrl grant, a bad declaration fails at synth, and
 * the policy items carry no URL.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Errors, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { parseHttpTargets } from '../../shared/http-target';
import { ENV as NAMES } from '../../shared/names';
import { addNagPacks, nagFindings } from '../support/nag-findings';
import { DEMO, ENV, newApp } from './infra-fixture';
import { resourceText } from './invoke-grants';

function shop() {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
  const fn = (id: string, service: string) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, 'inventory.ts') });
  return {
    app,
    stack,
    mesh,
    frontend: fn('Frontend', 'frontend'),
    orders: fn('Orders', 'orders'),
    ledger: fn('Ledger', 'ledger'),
    payments: fn('Payments', 'payments'),
  };
}

function envOf(template: Template, service: string): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === service,
  )!;
  return fn.Properties.Environment.Variables;
}

function statementsOf(template: Template, construct: string): any[] {
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    String(p.Metadata?.['aws:cdk:path']).startsWith(`Test/${construct}/`),
  )!;
  return policy.Properties.PolicyDocument.Statement;
}

describe('MeshFunction.addHttpEndpoint', () => {
  it("puts a literal endpoint in its callers' MESH_HTTP_TARGETS only, and in no policy item", () => {
    // GIVEN ledger reached over mTLS, declared after the edge
    const { stack, mesh, frontend, orders, ledger } = shop();
    orders.allowCallsTo(ledger);
    ledger.addHttpEndpoint({ url: 'https://ledger.internal.example/api', auth: 'mtls' });
    frontend.allowCallsTo(orders);
    // WHEN synthesized
    const template = Template.fromStack(stack);
    // THEN orders knows the endpoint, frontend (which calls orders by Invoke) has no variable
    const declared = parseHttpTargets(envOf(template, 'orders')[NAMES.httpTargets] as string);
    assert.ok(declared.ok);
    assert.deepEqual([...declared.targets], [['ledger', { url: 'https://ledger.internal.example/api', auth: 'mtls' }]]);
    assert.equal(envOf(template, 'frontend')[NAMES.httpTargets], undefined);
    assert.equal(envOf(template, 'ledger')[NAMES.httpTargets], undefined);
    // No policy item names a URL: the table cannot be the source of one.
    assert.ok(mesh.policyItems().every((i) => !('url' in i) && !('auth' in i)));
    // mTLS needs no IAM grant for the URL.
    assert.ok(statementsOf(template, 'Orders').every((s) => ![s.Action].flat().includes('lambda:InvokeFunctionUrl')));
  });

  it('with a Function URL (AWS_IAM): the token resolves at deploy and callers may invoke the URL', () => {
    // GIVEN payments' live alias behind a Function URL with IAM auth
    const { stack, orders, payments } = shop();
    orders.allowCallsTo(payments);
    const url = payments.liveAlias.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    payments.addHttpEndpoint({ url: url.url });
    // WHEN synthesized
    const template = Template.fromStack(stack);
    // THEN orders' variable references the URL resource, with auth iam
    const value = JSON.stringify(envOf(template, 'orders')[NAMES.httpTargets]);
    assert.match(value, /Fn::Join/);
    assert.match(value, /FunctionUrl/);
    assert.match(value, /\\"auth\\":\\"iam\\"/);
    // AND orders' role may call that function's URLs, and only AWS_IAM ones
    const [grant] = statementsOf(template, 'Orders').filter((s) =>
      [s.Action].flat().includes('lambda:InvokeFunctionUrl'),
    );
    assert.deepEqual(grant.Condition, { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } });
    assert.deepEqual([grant.Action].flat(), ['lambda:InvokeFunctionUrl']);
    assert.deepEqual([grant.Resource].flat().map(resourceText), [
      'arn:<AWS::Partition>:lambda:us-east-1:123456789012:function:shop-payments',
      'arn:<AWS::Partition>:lambda:us-east-1:123456789012:function:shop-payments:*',
    ]);
  });

  it('stays cdk-nag (AwsSolutions) clean, in cdk-nag 3 and 2', () => {
    const { app, stack, orders, payments } = shop();
    orders.allowCallsTo(payments);
    payments.addHttpEndpoint({ url: payments.liveAlias.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM }).url });
    addNagPacks(app);
    Template.fromStack(stack);
    const { open, acknowledged, open2, suppressed2 } = nagFindings(app, stack);
    assert.ok(acknowledged.length > 0 && suppressed2.length > 0, 'the packs ran');
    assert.deepEqual([...open, ...open2], []);
  });

  it('refuses a bad declaration at synth, naming the value and the fix', () => {
    const { ledger } = shop();
    assert.throws(
      () => ledger.addHttpEndpoint({ url: 'http://ledger.example/' }),
      /Ledger: HTTP target "ledger": url = "http:\/\/ledger.example\/" must be https \(plain http only on 127.0.0.1/,
    );
    // A mesh validation error, as every other refusal at synth: a stable code and the construct's path.
    assert.throws(
      () => ledger.addHttpEndpoint({ url: 'https://ledger.example/', auth: 'sigv4' as never }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.INVALID_HTTP_ENDPOINT);
        assert.equal(err.constructPath, 'Test/Ledger');
        assert.ok(Errors.isValidationError(err), 'aws-cdk recognises it as a validation error');
        return true;
      },
    );
    assert.throws(
      () => ledger.addHttpEndpoint({ url: 'https://ledger.example/', auth: 'basic' as never }),
      /auth = "basic" must be one of iam, mtls, none/,
    );
    assert.throws(
      () => ledger.addHttpEndpoint({ url: 'https://user:pw@ledger.example/' }),
      /url must not carry credentials/,
    );
    ledger.addHttpEndpoint({ url: 'https://ledger.example/', auth: 'mtls' });
    ledger.addHttpEndpoint({ url: 'https://ledger.example/', auth: 'mtls' }); // the same again: a no-op
    assert.throws(
      () => ledger.addHttpEndpoint({ url: 'https://other.example/', auth: 'mtls' }),
      /already has an HTTP endpoint \(mtls\); declare one endpoint per service/,
    );
  });
});
