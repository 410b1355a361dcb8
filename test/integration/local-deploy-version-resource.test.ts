/**
 * A template's `AWS::Lambda::Version` is published when CloudFormation creates it, and never again
 * while its logical id stays ("AWS::Lambda::Version", CloudFormation User Guide: a version is created
 * once; a change of the function alone updates $LATEST). So a deploy that changes only a function's
 * configuration, under the same Version resource, publishes nothing and moves no alias: the mesh's
 * policy changes deploy that way (the snapshot layer changes, the version does not). A new logical id
 * (aws-cdk-lib's `currentVersion` after a code change) publishes.
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

/** A function whose environment says `stage`, a version resource `versionId` of it, and `live` on that version. */
function template(stage: string, versionId: string) {
  return {
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'versioned',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Code: { ZipFile: 'exports.handler = async () => process.env.STAGE;' },
        Environment: { Variables: { STAGE: stage } },
      },
    },
    [versionId]: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } } },
    Live: {
      Type: 'AWS::Lambda::Alias',
      Properties: {
        FunctionName: { Ref: 'Fn' },
        Name: 'live',
        FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
      },
    },
  };
}

describe("a template's Lambda version", () => {
  it('is published once per logical id: a change of the function alone publishes none and moves no alias', async () => {
    const work = mkdtempSync(join(tmpdir(), 'version-resource-work-'));
    const dirs: string[] = [];
    const registry = new FunctionRegistry();
    const state = newDeploymentState();
    const deploy = async (stage: string, versionId: string) => {
      const dir = oneStackAssembly('version-resource', template(stage, versionId));
      dirs.push(dir);
      return applyAssembly(dir, { registry, secrets: new SecretStore(), workDir: work, log: () => undefined }, state);
    };
    const versions = () => registry.listVersions('versioned')?.map((v) => v.Version);
    try {
      await deploy('one', 'VersionA');
      assert.deepEqual(versions(), ['$LATEST', '1']);
      assert.equal(registry.getAlias('versioned', 'live')?.FunctionVersion, '1');

      // WHEN only the function's configuration changes, under the same Version resource
      await deploy('two', 'VersionA');
      // THEN $LATEST has it; no version is published and live stays
      assert.deepEqual(registry.getFunction('versioned')?.Environment, { Variables: { STAGE: 'two' } });
      assert.deepEqual(versions(), ['$LATEST', '1']);
      assert.equal(registry.getAlias('versioned', 'live')?.FunctionVersion, '1');

      // WHEN a new Version resource comes
      await deploy('two', 'VersionB');
      // THEN it is published, and live moves to it
      assert.deepEqual(versions(), ['$LATEST', '1', '2']);
      assert.equal(registry.getAlias('versioned', 'live')?.FunctionVersion, '2');
    } finally {
      for (const d of [...dirs, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
