/**
 * A function with a layer from outside the app (Powertools' published layer, by ARN): the local mesh
 * has no code for it, so it deploys the function without it and says what that means for the function.
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

const POWERTOOLS = 'arn:aws:lambda:us-east-1:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:27';

describe('a layer from outside the app', () => {
  it('is left out with a warning that names the layer and what the function loses', async () => {
    const dir = oneStackAssembly('external-layer', {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'app-traced',
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Code: { ZipFile: 'exports.handler = async () => "ok";' },
          Layers: [POWERTOOLS],
        },
      },
    });
    const work = mkdtempSync(join(tmpdir(), 'external-layer-work-'));
    try {
      const logged: string[] = [];
      const targets = {
        registry: new FunctionRegistry(),
        secrets: new SecretStore(),
        workDir: work,
        log: (l: string) => logged.push(l),
      };
      const report = await applyAssembly(dir, targets, newDeploymentState());
      assert.deepEqual(report.warnings, [
        `function app-traced: layer ${POWERTOOLS} is not in the assembly (a layer published outside the app); ` +
          'left out, so a module the function loads from it fails locally with Runtime.ImportModuleError',
      ]);
      assert.ok(logged.includes(`warning: ${report.warnings[0]}`), logged.join('\n'));
    } finally {
      for (const d of [dir, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
