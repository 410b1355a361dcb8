/**
 * One app, a stack per region (us-east-1 and eu-west-1) in one account: each stack has a function
 * that answers with its region and ARN, and a secret it may read. For the local mesh's regions test.
 * Usage: tsx app.ts <outdir>
 */
import { App, SecretValue, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

const [outdir] = process.argv.slice(2);
const app = new App({ outdir });
for (const region of ['us-east-1', 'eu-west-1']) {
  const stack = new Stack(app, `Regions-${region}`, { env: { account: '111122223333', region } });
  const secret = new secretsmanager.Secret(stack, 'Greeting', {
    secretName: 'regions/greeting',
    secretStringValue: SecretValue.unsafePlainText(`hello from ${region}`),
  });
  new lambda.Function(stack, 'Where', {
    functionName: 'where',
    runtime: lambda.Runtime.NODEJS_20_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(
      'exports.handler = async (_e, ctx) => ({ region: process.env.AWS_REGION, arn: ctx.invokedFunctionArn, secret: process.env.SECRET_ARN });',
    ),
    environment: { SECRET_ARN: secret.secretArn },
  });
}
app.synth();
