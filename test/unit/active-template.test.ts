/**
 * A template's Conditions, Fn::If, AWS::NoValue, Mappings and Parameters as CloudFormation applies them
 * before it creates anything (local/assembly/active-template.ts, condition-values.ts), and the
 * templates it refuses, named by stack and logical id.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { activeTemplate } from '../../local/assembly/active-template';
import { readCloudAssembly, type Template } from '../../local/assembly/cloud-assembly';

const here = { stackName: 'Shop', region: 'us-east-1', accountId: '000000000000' };
const queue = (more: object = {}) => ({ Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q' }, ...more });

/** The refusal `template` gets, as a message. */
function refusal(template: Template): string {
  try {
    activeTemplate(template, here);
  } catch (err) {
    assert.equal((err as Error).name, 'AssemblyScopeError');
    return (err as Error).message;
  }
  return assert.fail('the template was not refused');
}

describe('conditions', () => {
  const template: Template = {
    Parameters: { Stage: { Type: 'String', Default: 'dev' } },
    Conditions: {
      InEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
      IsDev: { 'Fn::Equals': ['dev', { Ref: 'Stage' }] },
      DevOutsideEu: { 'Fn::And': [{ Condition: 'IsDev' }, { 'Fn::Not': [{ Condition: 'InEu' }] }] },
      // As aws-cdk-lib writes CDKMetadataAvailable: Fn::Or of Fn::Or, each of at most 10.
      Known: {
        'Fn::Or': [
          { 'Fn::Or': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'ap-east-1'] }, { 'Fn::Equals': ['a', 'b'] }] },
          { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
        ],
      },
    },
    Resources: {
      EuOnly: queue({ Condition: 'InEu' }),
      DevOnly: queue({ Condition: 'DevOutsideEu' }),
      Metadata: { Type: 'AWS::CDK::Metadata', Condition: 'Known' },
    },
    Outputs: {
      EuQueue: { Value: { Ref: 'EuOnly' }, Condition: 'InEu' },
      DevQueue: { Value: { Ref: 'DevOnly' }, Condition: 'DevOutsideEu' },
    },
  };

  it('leaves out the resources and outputs whose condition is false in the stack region, and keeps the rest', () => {
    const active = activeTemplate(template, here);
    assert.deepEqual(Object.keys(active.Resources ?? {}), ['DevOnly', 'Metadata']);
    assert.deepEqual(Object.keys(active.Outputs ?? {}), ['DevQueue']);
  });

  it('evaluates them again in another region', () => {
    const active = activeTemplate(template, { ...here, region: 'eu-west-1' });
    assert.deepEqual(Object.keys(active.Resources ?? {}), ['EuOnly']);
    assert.deepEqual(Object.keys(active.Outputs ?? {}), ['EuQueue']);
  });
});

describe('Fn::If, AWS::NoValue and Fn::FindInMap', () => {
  it('picks the branch, removes the property or item AWS::NoValue stands for, and reads the mapping', () => {
    const active = activeTemplate(
      {
        Conditions: { Yes: { 'Fn::Equals': [1, '1'] }, No: { 'Fn::Not': [{ Condition: 'Yes' }] } },
        Mappings: { Regions: { 'us-east-1': { name: 'virginia' }, 'eu-west-1': { name: 'ireland' } } },
        Resources: {
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Environment: {
                Variables: {
                  PICKED: { 'Fn::If': ['Yes', 'yes', 'no'] },
                  GONE: { 'Fn::If': ['No', 'x', { Ref: 'AWS::NoValue' }] },
                  NAME: { 'Fn::FindInMap': ['Regions', { Ref: 'AWS::Region' }, 'name'] },
                  OR_DEFAULT: { 'Fn::FindInMap': ['Regions', 'sa-east-1', 'name', { DefaultValue: 'none' }] },
                },
              },
              Layers: ['a', { 'Fn::If': ['No', 'b', { Ref: 'AWS::NoValue' }] }],
              ReservedConcurrentExecutions: { Ref: 'AWS::NoValue' },
            },
          },
        },
      },
      here,
    );
    assert.deepEqual(active.Resources?.Fn?.Properties, {
      Environment: { Variables: { PICKED: 'yes', NAME: 'virginia', OR_DEFAULT: 'none' } },
      Layers: ['a'],
    });
  });

  it('lets the branch a false condition does not pick read a resource that condition left out', () => {
    const active = activeTemplate(
      {
        Conditions: { InEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } },
        Resources: {
          EuOnly: queue({ Condition: 'InEu' }),
          Reader: queue({ Properties: { QueueName: { 'Fn::If': ['InEu', { Ref: 'EuOnly' }, 'none'] } } }),
        },
      },
      here,
    );
    assert.deepEqual(active.Resources?.Reader?.Properties, { QueueName: 'none' });
  });
});

describe('templates CloudFormation refuses', () => {
  const inEu = { InEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } };

  it('a resource reading, or depending on, one its condition left out', () => {
    const reads = refusal({
      Conditions: inEu,
      Resources: {
        EuOnly: queue({ Condition: 'InEu' }),
        R: queue({ Properties: { X: { 'Fn::GetAtt': ['EuOnly', 'Arn'] } } }),
      },
    });
    assert.match(reads, /^stack Shop, resource R: it reads resource EuOnly, which its condition InEu leaves out here/);
    assert.match(reads, /give it the condition InEu too, or read EuOnly inside Fn::If \[InEu/);
    const waits = refusal({
      Conditions: inEu,
      Resources: { EuOnly: queue({ Condition: 'InEu' }), R: queue({ DependsOn: 'EuOnly' }) },
    });
    assert.match(waits, /^stack Shop, resource R: it reads resource EuOnly/);
    const output = refusal({
      Conditions: inEu,
      Resources: { EuOnly: queue({ Condition: 'InEu' }) },
      Outputs: { O: { Value: { Ref: 'EuOnly' } } },
    });
    assert.match(output, /^stack Shop, output O: it reads resource EuOnly/);
  });

  it('a condition that is not defined, or conditions in a cycle', () => {
    assert.match(
      refusal({ Resources: { Q: queue({ Condition: 'Missing' }) } }),
      /^stack Shop, resource Q: condition Missing is not in the template's Conditions: define it there/,
    );
    assert.match(
      refusal({ Resources: { Q: queue({ Properties: { QueueName: { 'Fn::If': ['Missing', 'a', 'b'] } } }) } }),
      /^stack Shop, resource Q: condition Missing is not in the template's Conditions/,
    );
    assert.match(
      refusal({ Conditions: { A: { Condition: 'B' }, B: { 'Fn::Not': [{ Condition: 'A' }] } }, Resources: {} }),
      /^stack Shop, condition [AB]: conditions refer to each other in a cycle \((A -> B -> A|B -> A -> B)\)/,
    );
  });

  it('condition functions with the wrong number of conditions, or reading what a condition may not', () => {
    const one = refusal({ Conditions: { C: { 'Fn::And': [{ 'Fn::Equals': ['a', 'a'] }] } }, Resources: {} });
    assert.match(one, /^stack Shop, condition C: Fn::And takes a list of 2 to 10, got/);
    const eleven = Array.from({ length: 11 }, () => ({ 'Fn::Equals': ['a', 'a'] }));
    assert.match(refusal({ Conditions: { C: { 'Fn::Or': eleven } }, Resources: {} }), /Fn::Or takes a list of 2 to 10/);
    assert.match(
      refusal({ Conditions: { C: { 'Fn::Equals': [{ Ref: 'Q' }, 'q'] } }, Resources: { Q: queue() } }),
      /^stack Shop, condition C: Ref Q is not a parameter or pseudo parameter/,
    );
    assert.match(
      refusal({ Conditions: { C: 'yes' }, Resources: {} }),
      /^stack Shop, condition C: "yes" is not a condition/,
    );
  });

  it('Fn::FindInMap with a key or a map the Mappings do not have', () => {
    const template = (arg: unknown[]): Template => ({
      Mappings: { Regions: { 'eu-west-1': { name: 'ireland' } } },
      Resources: { Q: queue({ Properties: { QueueName: { 'Fn::FindInMap': arg } } }) },
    });
    assert.equal(
      refusal(template(['Regions', { Ref: 'AWS::Region' }, 'name'])),
      'stack Shop, resource Q: Fn::FindInMap [Regions, us-east-1, name]: mapping Regions has no key us-east-1 (it has eu-west-1): add the key to the mapping',
    );
    assert.match(
      refusal(template(['Regions', 'eu-west-1', 'code'])),
      /mapping Regions has no key code \(it has name\)/,
    );
    assert.match(refusal(template(['Zones', 'a', 'b'])), /the template's Mappings have no Zones/);
  });

  it('keeps a parameter with no Default that no condition or mapping reads, its Ref left for the resolver', () => {
    const template = {
      Parameters: { Stage: { Type: 'String' } },
      Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { Ref: 'Stage' } } } },
    };
    assert.deepEqual(activeTemplate(template, here).Resources?.Q?.Properties, { QueueName: { Ref: 'Stage' } });
  });

  it('a parameter with no Default that a condition reads', () => {
    const template = {
      Parameters: { Stage: { Type: 'String' } },
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
      Resources: {},
    };
    assert.match(
      refusal(template),
      /^stack Shop, parameter Stage: a condition or mapping reads it, and it has no Default; .*"Parameters: \[Stage\] must have values"\): give it a default/,
    );
  });
});

describe('nested stacks', () => {
  it("keep their own conditions, parameters and mappings, and take the nested stack's condition along", () => {
    // GIVEN a stack holding two nested stacks, one of them only in eu-west-1, each with a condition
    // and a mapping of the same names, and a parameter the parent passes
    const dir = mkdtempSync(join(tmpdir(), 'nested-conditions-'));
    const nested = (file: string, more: object = {}) => ({
      Type: 'AWS::CloudFormation::Stack',
      Properties: { TemplateURL: 'unused', Parameters: { Stage: 'prod' } },
      Metadata: { 'aws:asset:path': file },
      ...more,
    });
    const inner: Template = {
      Parameters: { Stage: { Type: 'String' } },
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
        IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      },
      Mappings: { Sizes: { prod: { n: 'large' } } },
      Resources: {
        Prod: queue({
          Condition: 'IsProd',
          Properties: { QueueName: { 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'n'] } },
        }),
        Dev: queue({ Condition: 'IsDev' }),
        Always: queue({ Properties: { QueueName: { 'Fn::If': ['IsDev', 'dev', 'prod'] } } }),
      },
    };
    try {
      writeFileSync(join(dir, 'inner.json'), JSON.stringify(inner));
      writeFileSync(
        join(dir, 'S.template.json'),
        JSON.stringify({
          Conditions: { InEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } },
          Resources: { A: nested('inner.json'), B: nested('inner.json', { Condition: 'InEu' }) },
        }),
      );
      const artifacts = { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts }));
      const [stack] = readCloudAssembly(dir);

      // WHEN the stack deploys in us-east-1
      const active = activeTemplate(stack!.template, { ...here, stackName: 'S' });

      // THEN A's resources follow A's conditions, and none of B's exist
      assert.deepEqual(Object.keys(active.Resources ?? {}).sort(), ['A', 'AAlways', 'AProd']);
      assert.deepEqual(active.Resources?.AProd?.Properties, { QueueName: 'large' });
      assert.deepEqual(active.Resources?.AAlways?.Properties, { QueueName: 'prod' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
