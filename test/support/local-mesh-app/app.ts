/**
 * The local mesh's fixture app: a CDK app whose functions each exercise one Lambda behaviour (layers,
 * timeouts, crashes, reserved concurrency, a two-release canary), so the local runtime is tested
 * on a real synthesized assembly independent of the example app. Usage: tsx app.ts <outdir> <release>
 */
import { join } from 'node:path';
import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

const [outdir, releaseArg] = process.argv.slice(2);
const release = Number(releaseArg ?? '2');
export const FIXTURE_TABLE = 'fixture-policy';

const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': release === 1 } });
const stack = new Stack(app, 'LocalMeshFixture', { env: { account: '000000000000', region: 'us-east-1' } });
const code = lambda.Code.fromAsset(join(__dirname, 'code'));
const layer = new lambda.LayerVersion(stack, 'Greeting', { code: lambda.Code.fromAsset(join(__dirname, 'layer')) });
const table = new dynamodb.Table(stack, 'Policy', {
  tableName: FIXTURE_TABLE,
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
});
const secret = new secretsmanager.Secret(stack, 'Secret', { secretName: 'fixture-secret' });

function fn(id: string, handler: string, extra: Partial<lambda.FunctionProps> = {}): lambda.Function {
  return new lambda.Function(stack, id, {
    functionName: `fixture-${id.toLowerCase()}`,
    runtime: lambda.Runtime.NODEJS_20_X,
    code,
    handler: `index.${handler}`,
    timeout: Duration.seconds(3),
    memorySize: 256,
    ...extra,
  });
}

const hello = fn('Hello', 'hello', {
  layers: [layer],
  environment: {
    GREETING_FILE: '/opt/greetings/hello.txt',
    TABLE_NAME: table.tableName,
    TABLE_ARN: table.tableArn,
    SECRET_ID: secret.secretName,
  },
});
fn('Slow', 'slow', { timeout: Duration.seconds(1) });
fn('Crash', 'crash');
fn('Busy', 'busy', { reservedConcurrentExecutions: 1 });
fn('Metrics', 'metrics');
fn('Echo', 'echo');
fn('Reject', 'reject');

// The canary: release 2 changes configuration and declares its canary on stable "1".
const canary = fn('Canary', 'hello', {
  layers: [layer],
  environment: { GREETING_FILE: '/opt/greetings/hello.txt', RELEASE: String(release) },
});
const current = canary.currentVersion;
new lambda.Alias(
  stack,
  'CanaryLive',
  release === 1
    ? { aliasName: 'live', version: current }
    : {
        aliasName: 'live',
        version: lambda.Version.fromVersionAttributes(stack, 'CanaryStable', { lambda: canary, version: '1' }),
        additionalVersions: [{ version: current, weight: 0.25 }],
      },
);

const peer = new lambda.Alias(stack, 'HelloLive', { aliasName: 'live', version: hello.currentVersion });
// Its role may invoke the peer, as on AWS: without the grant, IAM refuses the call.
peer.grantInvoke(fn('Caller', 'caller', { environment: { PEER_ARN: peer.functionArn } }));

// Reads the table: release 1 forgot the grant, release 2 has it.
const reader = fn('Reader', 'reader', { environment: { TABLE_NAME: table.tableName } });
if (release === 2) table.grantReadData(reader);

new CustomResource(stack, 'Seed', {
  serviceToken: hello.functionArn,
  resourceType: 'Custom::MeshPolicy',
  properties: {
    TableName: table.tableName,
    Items: JSON.stringify([
      { pk: 'fixture-hello', sk: 'allow#external', source: 'external', managedBy: 'deploy' },
      ...(release === 1 ? [{ pk: 'fixture-hello', sk: 'allow#retired', source: 'retired', managedBy: 'deploy' }] : []),
    ]),
  },
});

app.synth();
