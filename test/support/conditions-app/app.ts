/**
 * A region-agnostic stack written the way a platform team's existing app often is: a CfnParameter with
 * a default, CfnConditions on it and on the region, a CfnMapping read with Fn.findInMap, and what
 * aws-cdk-lib writes itself into such a stack (a regional fact read from its region mapping with
 * Fn::FindInMap; CDKMetadata under CDKMetadataAvailable, the regions that take it). `cnd-report`'s
 * environment picks values with Fn.conditionIf, one of them AWS::NoValue; `cnd-eu-only` and the `cnd-eu-audit` queue exist only in eu-west-1, `cnd-home-audit`
 * everywhere else. Usage: tsx app.ts <outdir>
 */
import { App, Aws, CfnCondition, CfnMapping, CfnOutput, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FactName } from 'aws-cdk-lib/region-info';

const [outdir] = process.argv.slice(2);
// Analytics on, as the CDK CLI has it: CDKMetadata exists only under CDKMetadataAvailable (the regions that take it).
// The partitions a new app's cdk.json names: what aws-cdk-lib writes region mappings for.
const context = { '@aws-cdk/core:target-partitions': ['aws', 'aws-cn'] };
const app = new App({ outdir, analyticsReporting: true, context });
const stack = new Stack(app, 'Conditional');

const stage = new CfnParameter(stack, 'Stage', { type: 'String', default: 'dev' });
const isProd = new CfnCondition(stack, 'IsProd', { expression: Fn.conditionEquals(stage.valueAsString, 'prod') });
const inEu = new CfnCondition(stack, 'InEu', { expression: Fn.conditionEquals(Aws.REGION, 'eu-west-1') });
const outsideEu = new CfnCondition(stack, 'OutsideEu', { expression: Fn.conditionNot(inEu) });
const tiers = new CfnMapping(stack, 'Tiers', {
  mapping: { 'us-east-1': { tier: 'primary' }, 'eu-west-1': { tier: 'standby' } },
});

const fn = (id: string, functionName: string, environment?: Record<string, string>) =>
  new lambda.Function(stack, id, {
    functionName,
    runtime: lambda.determineLatestNodeRuntime(stack),
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => process.env;'),
    environment,
  });

fn('Report', 'cnd-report', {
  STAGE: stage.valueAsString,
  TIER: tiers.findInMap(Aws.REGION, 'tier'),
  AUDIT: Fn.conditionIf(isProd.logicalId, 'full', Aws.NO_VALUE).toString(),
  REGION_KIND: Fn.conditionIf(inEu.logicalId, 'eu', 'elsewhere').toString(),
  // aws-cdk-lib's own region mapping: an agnostic stack reads a regional fact with Fn::FindInMap.
  WEBSITE_ENDPOINT: stack.regionalFact(FactName.S3_STATIC_WEBSITE_ENDPOINT),
});
const euOnly = fn('EuOnly', 'cnd-eu-only');
(euOnly.node.defaultChild as lambda.CfnFunction).cfnOptions.condition = inEu;

const euAudit = new sqs.Queue(stack, 'EuAudit', { queueName: 'cnd-eu-audit' });
(euAudit.node.defaultChild as sqs.CfnQueue).cfnOptions.condition = inEu;
new CfnOutput(stack, 'EuAuditUrl', { value: euAudit.queueUrl, condition: inEu });
const homeAudit = new sqs.Queue(stack, 'HomeAudit', { queueName: 'cnd-home-audit' });
(homeAudit.node.defaultChild as sqs.CfnQueue).cfnOptions.condition = outsideEu;

app.synth();
