/**
 * Hostile nested stacks against `mesh local`: a cloud assembly someone else wrote (a repository's
 * committed cdk.out) names each nested stack's template by a path of its own choosing. The local mesh
 * must read no file outside the assembly (a `..` path, a link out of it), refuse a stack that nests
 * itself or its parent instead of overflowing the stack, and refuse nesting too deep, too many nested
 * stacks or a template too big for CloudFormation instead of working for minutes: each refusal names
 * the nested stack and the fix.
 */
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCloudAssembly } from '../../local/assembly/cloud-assembly';
import { startLocalMesh } from '../../local/mesh-local';
import { rejection } from '../support/rejection';
import { tempDir } from '../support/temp-dir';

/** A cloud assembly of one stack `Top` whose template and further files are given by name. */
function assembly(files: Record<string, unknown>): string {
  const dir = tempDir('nested-hostile-');
  const artifacts = { Top: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Top.template.json' } } };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts }));
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

/** A nested stack whose template is the file at `path` (as CDK's asset metadata names it). */
const nested = (path: string) => ({
  Type: 'AWS::CloudFormation::Stack',
  Properties: { TemplateURL: 'https://example.com/template.json' },
  Metadata: { 'aws:asset:path': path },
});
const queue = { Type: 'AWS::SQS::Queue' };

/** A chain of `depth` nested stacks, each holding the next, the last one a queue. */
function chain(depth: number): Record<string, unknown> {
  const files: Record<string, unknown> = { 'Top.template.json': { Resources: { Level1: nested('level1.json') } } };
  for (let i = 1; i < depth; i++)
    files[`level${i}.json`] = { Resources: { [`Level${i + 1}`]: nested(`level${i + 1}.json`) } };
  files[`level${depth}.json`] = { Resources: { Jobs: queue } };
  return files;
}

const refusal = (message: RegExp) => (err: Error) => {
  assert.equal(err.name, 'AssemblyScopeError', err.stack);
  assert.match(err.message, message);
  return true;
};

describe('mesh local on hostile nested stacks', () => {
  it('reads no template outside the assembly, by a .. path or by a link', () => {
    const outside = tempDir('nested-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'root:x:0:0:the secret\n');
    const up = assembly({
      'Top.template.json': { Resources: { Steal: nested(`../${outside.split('/').pop()}/secret.txt`) } },
    });
    assert.throws(
      () => readCloudAssembly(up),
      refusal(/^the nested stack Top\/Steal: its template .*secret\.txt is outside the cloud assembly .*npx cdk synth/),
    );
    assert.throws(
      () => readCloudAssembly(up),
      (err: Error) => !err.message.includes('the secret'),
    );
    const linked = assembly({ 'Top.template.json': { Resources: { Steal: nested('linked.json') } } });
    symlinkSync(join(outside, 'secret.txt'), join(linked, 'linked.json'));
    assert.throws(() => readCloudAssembly(linked), refusal(/Top\/Steal: its template .*linked\.json is outside/));
  });

  it('reads a template of the assembly whose name starts with two dots', () => {
    const dotted = assembly({
      'Top.template.json': { Resources: { Child: nested('..child.json') } },
      '..child.json': { Resources: { Jobs: queue } },
    });
    const [read] = readCloudAssembly(dotted);
    assert.ok(Object.keys(read!.template.Resources ?? {}).some((id) => id.endsWith('Jobs')));
  });

  it('refuses a nested stack that holds itself or its parent, naming the loop', () => {
    const itself = assembly({ 'Top.template.json': { Resources: { Again: nested('Top.template.json') } } });
    assert.throws(() => readCloudAssembly(itself), refusal(/Top\/Again .*holds itself: Top -> Top\/Again/));
    const parent = assembly({
      'Top.template.json': { Resources: { Child: nested('child.json') } },
      'child.json': { Resources: { Back: nested('Top.template.json') } },
    });
    assert.throws(
      () => readCloudAssembly(parent),
      refusal(/Top\/Child\/Back .*holds itself: Top -> Top\/Child -> Top\/Child\/Back/),
    );
  });

  it('reads 20 levels of nesting, and refuses more, naming the stack past the limit', () => {
    const [read] = readCloudAssembly(assembly(chain(20)));
    assert.ok(
      Object.keys(read!.template.Resources ?? {}).some((id) => id.endsWith('Jobs')),
      'the deepest queue is read',
    );
    const deep = assembly(chain(60));
    assert.throws(() => readCloudAssembly(deep), refusal(/Top\/Level1\/.*\/Level21 is nested 21 deep.*at most 20/));
  });

  it('refuses more nested stacks than an account holds, before reading them all', () => {
    // Ten stacks of one template, each holding ten of the next: 11,110 stacks from five small files.
    const files: Record<string, unknown> = {};
    const fan = (next: string) => ({
      Resources: Object.fromEntries([...Array(10)].map((_, i) => [`S${i}`, nested(next)])),
    });
    files['Top.template.json'] = fan('f1.json');
    for (let i = 1; i < 4; i++) files[`f${i}.json`] = fan(`f${i + 1}.json`);
    files['f4.json'] = { Resources: { Jobs: queue } };
    assert.throws(() => readCloudAssembly(assembly(files)), refusal(/^stack Top: more than 2000 nested stacks/));
  });

  it("refuses a nested template past CloudFormation's 1 MB, and one that is not a file", () => {
    const big = { Resources: { Jobs: { ...queue, Metadata: { pad: 'x'.repeat(1024 * 1024) } } } };
    const huge = assembly({ 'Top.template.json': { Resources: { Big: nested('big.json') } }, 'big.json': big });
    assert.throws(
      () => readCloudAssembly(huge),
      refusal(/Top\/Big: its template .*big\.json is 1048\d{3} bytes; CloudFormation reads at most 1048576/),
    );
    const folder = assembly({ 'Top.template.json': { Resources: { Here: nested('.') } } });
    assert.throws(() => readCloudAssembly(folder), refusal(/Top\/Here: its template .* is not a file/));
  });

  it('refuses a template that nests past 256 levels, top-level or nested, instead of overflowing the stack', async () => {
    // Each Fn::Join opens three levels; 2,000 of them overflowed the local mesh's stack.
    let name = '"jobs"';
    for (let i = 0; i < 2000; i++) name = `{"Fn::Join":["",[${name}]]}`;
    const body = `{"Resources":{"Jobs":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":${name}}}}}`;
    const top = assembly({ 'Top.template.json': body });
    const err = await rejection(() => startLocalMesh({ assemblies: [top], port: 0, quiet: true }));
    refusal(/^the template .*Top\.template\.json nests deeper than 256 levels/)(err);
    const inner = assembly({ 'Top.template.json': { Resources: { Deep: nested('deep.json') } }, 'deep.json': body });
    assert.throws(
      () => readCloudAssembly(inner),
      refusal(/^the nested stack Top\/Deep: its template .*deep\.json nests deeper than 256 levels/),
    );
  });

  it('mesh local stops with the refusal, not a stack overflow', async () => {
    const itself = assembly({ 'Top.template.json': { Resources: { Again: nested('Top.template.json') } } });
    const err = await rejection(() => startLocalMesh({ assemblies: [itself], port: 0, quiet: true }));
    refusal(/Top\/Again .*holds itself/)(err as Error);
  });
});
