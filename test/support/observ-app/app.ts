/**
 * The observability fixture app: a three-hop mesh (frontend -> orders -> payments, and a denied
 * frontend -> admin) wired like MeshFunction wires functions (the mesh env, wrapper handler,
 * layer, tracing Active, alias live; Custom::MeshPolicy items and the invoke grants of the allowed
 * edges; payments'
 * canary in release 2). Its layer is a stand-in runtime (see layer/), so the telemetry path is tested
 * through the local mesh independently of the real runtime. Usage: tsx app.ts <outdir> <release>
 */
import { join } from 'node:path';
import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV, LAYER, LIVE_ALIAS } from '../../../shared/names';

const [outdir, releaseArg] = process.argv.slice(2);
const release = Number(releaseArg ?? '2');
export const OBSERV_MESH = 'observ';

const app = new App({ outdir });
const stack = new Stack(app, 'ObservFixture', { env: { account: '000000000000', region: 'us-east-1' } });
const table = new dynamodb.Table(stack, 'Policy', {
  tableName: `${OBSERV_MESH}-policy`,
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
});
const layer = new lambda.LayerVersion(stack, 'MeshLayer', {
  layerVersionName: `${OBSERV_MESH}-mesh-runtime`,
  code: lambda.Code.fromAsset(join(__dirname, 'layer')),
});
const code = lambda.Code.fromAsset(join(__dirname, 'code'));

function service(name: string, extraEnv: Record<string, string> = {}) {
  return new lambda.Function(stack, name, {
    functionName: `${OBSERV_MESH}-${name}`,
    runtime: lambda.Runtime.NODEJS_20_X,
    code,
    layers: [layer],
    handler: LAYER.wrapperHandler,
    tracing: lambda.Tracing.ACTIVE,
    timeout: Duration.seconds(10),
    memorySize: 256,
    environment: {
      [ENV.meshName]: OBSERV_MESH,
      [ENV.service]: name,
      [ENV.handler]: `index.${name}`,
      [ENV.policyTable]: table.tableName,
      ...extraEnv,
    },
  });
}

const fns: Record<string, lambda.Function> = {};
for (const name of ['frontend', 'orders', 'admin']) {
  const fn = service(name, name === 'frontend' ? { MESH_TEST_DENY: 'admin' } : {});
  fns[name] = fn;
  new lambda.Alias(stack, `${name}Live`, { aliasName: LIVE_ALIAS, version: fn.currentVersion });
}
const payments = service('payments', release === 2 ? { FAIL: '1' } : {});
// The IAM wall of each allowed edge, as allowCallsTo grants it (frontend -> admin stays undeclared).
fns.orders!.grantInvoke(fns.frontend!);
payments.grantInvoke(fns.orders!);
new lambda.Alias(
  stack,
  'paymentsLive',
  release === 1
    ? { aliasName: LIVE_ALIAS, version: payments.currentVersion }
    : {
        aliasName: LIVE_ALIAS,
        version: lambda.Version.fromVersionAttributes(stack, 'PaymentsStable', { lambda: payments, version: '1' }),
        additionalVersions: [{ version: payments.currentVersion, weight: 0.5 }],
      },
);

new CustomResource(stack, 'Seed', {
  serviceToken: payments.functionArn,
  resourceType: 'Custom::MeshPolicy',
  properties: {
    TableName: table.tableName,
    Items: JSON.stringify([
      ...['frontend', 'orders', 'payments', 'admin'].map((s) => ({
        pk: s,
        sk: 'service',
        managedBy: 'deploy',
        functionName: `${OBSERV_MESH}-${s}`,
      })),
      { pk: 'frontend', sk: 'allow#external', source: 'external', managedBy: 'deploy' },
      { pk: 'orders', sk: 'allow#frontend', source: 'frontend', managedBy: 'deploy' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
    ]),
  },
});
app.synth();
