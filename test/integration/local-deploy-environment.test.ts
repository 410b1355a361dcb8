/**
 * A template's function answers GetFunction with an `Environment` when the template gives it one, even
 * empty, and without one when it gives none (CDK's output for a function without variables), as
 * Lambda answers a function created with or without one (recorded AWS responses: LocalStack's
 * test_lambda_api.py::TestLambdaVersions::test_version_lifecycle and
 * ::TestLambdaFunction::test_function_lifecycle).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import { SecretStore } from '../../local/endpoint/secret-store';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { oneStackAssembly } from '../support/one-stack-assembly';

const fn = (name: string, more: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    FunctionName: name,
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    Code: { ZipFile: 'exports.handler = async () => "ok";' },
    ...more,
  },
});

describe("a template function's Environment", () => {
  it('is answered as the template gives it: absent, empty or with variables', async () => {
    const dir = oneStackAssembly('function-environment', {
      Bare: fn('env-none'),
      Empty: fn('env-empty', { Environment: { Variables: {} } }),
      Vars: fn('env-vars', { Environment: { Variables: { STAGE: 'dev' } } }),
    });
    const work = mkdtempSync(join(tmpdir(), 'function-environment-work-'));
    try {
      const registry = new FunctionRegistry();
      await applyAssembly(
        dir,
        { registry, secrets: new SecretStore(), workDir: work, log: () => undefined },
        newDeploymentState(),
      );
      const environment = (name: string) => registry.getFunction(name)?.Environment;
      assert.equal(registry.getFunction('env-none')?.FunctionName, 'env-none');
      assert.equal('Environment' in (registry.getFunction('env-none') ?? {}), false);
      assert.deepEqual(environment('env-empty'), { Variables: {} });
      assert.deepEqual(environment('env-vars'), { Variables: { STAGE: 'dev' } });
    } finally {
      for (const d of [dir, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
