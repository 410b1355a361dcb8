/**
 * The stage `mesh local --stage` serves: by its path, or by its own id, as CDK Pipelines apps name
 * their stages (declared inside the pipeline's stack, their path is `<PipelineStack>/<id>`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { App, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { StageNotFoundError, servedAssembly } from '../../local/assembly/stage-assembly';

describe('mesh local --stage: the stage it serves', () => {
  let dir = '';
  let out = '';

  before(() => {
    // GIVEN a CDK Pipelines app: its stages Dev and Prod inside the pipeline's stack, and a second
    // pipeline whose stage is also named Prod
    dir = mkdtempSync(join(tmpdir(), 'stage-assembly-'));
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stageIn = (scope: Stack, id: string) =>
      new CfnResource(new Stack(new Stage(scope, id), 'Shop'), 'Thing', { type: 'AWS::SNS::Topic' });
    const pipeline = new Stack(app, 'ShopPipeline');
    stageIn(pipeline, 'Dev');
    stageIn(pipeline, 'Prod');
    stageIn(new Stack(app, 'OtherPipeline'), 'Prod');
    out = app.synth().directory;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a stage by its path, or by its id when only one stage has it', () => {
    assert.equal(servedAssembly(out, 'ShopPipeline/Dev'), join(out, 'assembly-ShopPipeline-Dev'));
    assert.equal(servedAssembly(out, 'Dev'), join(out, 'assembly-ShopPipeline-Dev'));
    assert.equal(servedAssembly(out, 'OtherPipeline/Prod'), join(out, 'assembly-OtherPipeline-Prod'));
  });

  it('refuses an id two stages have, naming their paths', () => {
    assert.throws(
      () => servedAssembly(out, 'Prod'),
      (err: unknown) =>
        err instanceof StageNotFoundError &&
        err.message ===
          '--stage "Prod": 2 stages have that id (ShopPipeline/Prod, OtherPipeline/Prod); name one by its path',
    );
  });

  it('refuses a stage the app lacks, naming its stages', () => {
    assert.throws(
      () => servedAssembly(out, 'Test'),
      (err: unknown) =>
        err instanceof StageNotFoundError &&
        err.message ===
          '--stage "Test": the app has no such stage; its stages: ShopPipeline/Dev, ShopPipeline/Prod, OtherPipeline/Prod',
    );
  });
});
