/**
 * A template's `AWS::Lambda::Version` is published when CloudFormation creates it, and never again
 * while its logical id stays ("AWS::Lambda::Version", CloudFormation User Guide: a version is created
 * once; a change of the function alone updates $LATEST). So a deploy that changes only a function's
 * configuration, under the same Version resource, publishes nothing and moves no alias: the mesh's
 * policy changes deploy that way (the snapshot layer changes, the version does not). A new logical id
 * (aws-cdk-lib's `currentVersion` after a code change) publishes. A kept version must still run the
 * function's code: a hotswap publishes the function it rebuilt and no other.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import { SecretStore } from '../../local/endpoint/secret-store';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { oneStackAssembly } from '../support/one-stack-assembly';

const CODE = 'exports.handler = async () => process.env.STAGE;';

/**
 * A function `name` whose environment says `stage`, a version resource `versionId` of it, and `live` on
 * that version; `prefix` keeps the logical ids of several apart.
 */
function template(stage: string, versionId: string, name = 'versioned', prefix = '') {
  return {
    [`${prefix}Fn`]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Code: { ZipFile: name === 'versioned' ? CODE : `${CODE} // ${name}` },
        Environment: { Variables: { STAGE: stage } },
      },
    },
    [`${prefix}${versionId}`]: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: `${prefix}Fn` } } },
    [`${prefix}Live`]: {
      Type: 'AWS::Lambda::Alias',
      Properties: {
        FunctionName: { Ref: `${prefix}Fn` },
        Name: 'live',
        FunctionVersion: { 'Fn::GetAtt': [`${prefix}${versionId}`, 'Version'] },
      },
    },
  };
}

/** Where the deployment writes the inline code of `versioned`: the directory a hotswap replaces. */
const inlineDir = (work: string) =>
  join(work, `inline-${createHash('sha256').update(CODE).digest('hex').slice(0, 16)}`);

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

  it("keeps a version that runs the function's code: a hotswap publishes the function it rebuilt, no other", async () => {
    const work = mkdtempSync(join(tmpdir(), 'version-resource-work-'));
    const hotswapped = mkdtempSync(join(tmpdir(), 'version-resource-hotswap-'));
    writeFileSync(join(hotswapped, 'index.js'), "exports.handler = async () => 'hotswapped';");
    const dirs: string[] = [hotswapped];
    const registry = new FunctionRegistry();
    const state = newDeploymentState();
    const deploy = async (otherStage: string, codeOverrides?: ReadonlyMap<string, string>) => {
      const resources = { ...template('one', 'VersionA'), ...template(otherStage, 'VersionA', 'other', 'Other') };
      const dir = oneStackAssembly('version-resource', resources);
      dirs.push(dir);
      const targets = { registry, secrets: new SecretStore(), workDir: work, log: () => undefined };
      return applyAssembly(dir, targets, state, { codeOverrides });
    };
    const live = (fn: string) => registry.getAlias(fn, 'live')?.FunctionVersion;
    const liveCode = (fn: string) => registry.getSpec(fn, live(fn))?.codeSha256;
    try {
      await deploy('one');
      // GIVEN a deploy that changed only the other function's configuration (a policy change's snapshot)
      await deploy('two');
      assert.deepEqual([live('versioned'), live('other')], ['1', '1']);

      // WHEN a hotswap rebuilds the first function's code
      await deploy('two', new Map([[inlineDir(work), hotswapped]]));
      // THEN its live runs the new code; the other function publishes nothing and its live stays
      assert.equal(live('versioned'), '2');
      assert.equal(liveCode('versioned'), registry.getSpec('versioned')?.codeSha256);
      assert.deepEqual(
        registry.listVersions('other')?.map((v) => v.Version),
        ['$LATEST', '1'],
      );
      assert.equal(live('other'), '1');

      // WHEN the next round synthesizes the template's own code again, under the same Version resource
      await deploy('two');
      // THEN live runs that code, not the hotswapped one the resource last published
      assert.equal(liveCode('versioned'), registry.getSpec('versioned')?.codeSha256);
      assert.notEqual(live('versioned'), '2');
      assert.equal(live('other'), '1');
    } finally {
      for (const d of [...dirs, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
