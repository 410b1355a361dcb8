/**
 * The local mesh holds each function to the IAM its template grants, end to end on real parts: the
 * functions' own SDK calls and the mesh's layer, signed with each sandbox's role session, through the
 * local endpoint. GIVEN a grant the template forgot, WHEN the function calls, THEN AWS's
 * AccessDeniedException, the mesh's typed refusal, and one log line naming the grant; with the grant
 * (the next release), or with enforcement off, the call is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { ENV, LIVE_ALIAS, MANAGED_BY, SORT_KEY, TABLE } from '../../shared/names';
import { clientConfig, exampleAssemblies, fixtureAssemblies } from '../support/example-assembly';

const json = (r: InvokeCommandOutput) => JSON.parse(Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8'));

/** A local mesh whose IAM log lines the test reads. */
async function meshOf(assemblies: string[], enforceIam = true) {
  const iamLines: string[] = [];
  const mesh = await startLocalMesh({
    assemblies,
    port: 0,
    quiet: true,
    enforceIam,
    log: (line) => {
      if (line.startsWith('IAM refused')) iamLines.push(line);
    },
  });
  return { mesh, iamLines, lambda: new LambdaClient(clientConfig(mesh.url)) };
}

/** The real SDK signing as `functionName`'s sandbox does: its role's session keys. */
function asSandbox(mesh: LocalMesh, functionName: string) {
  const spec = mesh.registry.getSpec(functionName, '$LATEST')!;
  const keys = new SandboxCredentials().issue(functionName, spec.role, mesh.registry.accountId)!;
  return { ...clientConfig(mesh.url), credentials: keys };
}

describe('IAM on the local mesh: a user function reading a table', () => {
  const releases = fixtureAssemblies();

  it('is refused without table.grantReadData(fn), as AWS refuses it, and served once the release grants it', async () => {
    const { mesh, iamLines, lambda } = await meshOf([releases.release1]);
    try {
      const refused = json(await lambda.send(new InvokeCommand({ FunctionName: 'fixture-reader' })));
      assert.equal(refused.error, 'AccessDeniedException', JSON.stringify(refused));
      assert.equal(refused.status, 400);
      assert.match(
        refused.message,
        /^User: arn:aws:sts::000000000000:assumed-role\/[\w-]+\/fixture-reader is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/fixture-policy because no identity-based policy allows the dynamodb:GetItem action$/,
      );
      assert.equal(iamLines.length, 1, iamLines.join('\n'));
      assert.match(
        iamLines[0]!,
        /^IAM refused fixture-reader .*dynamodb:GetItem on .*table\/fixture-policy .*grantReadData/,
      );

      await mesh.apply(releases.release2);
      const served = json(await lambda.send(new InvokeCommand({ FunctionName: 'fixture-reader' })));
      assert.deepEqual(served, { source: 'external' });
    } finally {
      lambda.destroy();
      await mesh.stop();
    }
  });

  it('is served with enforcement off (--no-iam), the grant still missing', async () => {
    const { mesh, iamLines, lambda } = await meshOf([releases.release1], false);
    try {
      const served = json(await lambda.send(new InvokeCommand({ FunctionName: 'fixture-reader' })));
      assert.deepEqual(served, { source: 'external' });
      assert.deepEqual(iamLines, []);
    } finally {
      lambda.destroy();
      await mesh.stop();
    }
  });
});

describe('IAM on the local mesh: the example shop', () => {
  let mesh: LocalMesh;
  let iamLines: string[];
  let lambda: LambdaClient;
  let db: DynamoDBClient;
  const checkout = () =>
    lambda.send(
      new InvokeCommand({
        FunctionName: 'shop-frontend',
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ action: 'checkout', sku: 'sku-1', quantity: 1 })),
      }),
    );

  before(async () => {
    ({ mesh, iamLines, lambda } = await meshOf([exampleAssemblies()!.release1]));
    db = new DynamoDBClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    db?.destroy();
    await mesh?.stop();
  });

  it('serves a checkout through every hop with every grant the constructs wrote', async () => {
    const r = await checkout();
    assert.equal(r.FunctionError, undefined, JSON.stringify(json(r)));
    assert.deepEqual(iamLines, []);
  });

  it('an edge the policy table allows but CDK never declared: AccessDeniedException on the wire, MeshDeniedError in the mesh', async () => {
    // The real SDK as frontend's sandbox signs: its role holds no Invoke of payments.
    const asFrontend = new LambdaClient(asSandbox(mesh, 'shop-frontend'));
    try {
      const err = await asFrontend
        .send(new InvokeCommand({ FunctionName: 'shop-payments', Qualifier: LIVE_ALIAS }))
        .then(
          () => assert.fail('served'),
          (e: Error & { $metadata: { httpStatusCode?: number } }) => e,
        );
      assert.equal(err.name, 'AccessDeniedException');
      assert.equal(err.$metadata.httpStatusCode, 403);
      assert.match(
        err.message,
        /assumed-role\/[\w-]+\/shop-frontend is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:shop-payments:live because/,
      );
    } finally {
      asFrontend.destroy();
    }
    // An operator allows frontend -> payments in the table: the mesh's own check passes, IAM does not.
    const table = mesh.registry.getSpec('shop-frontend', '$LATEST')!.environment.MESH_POLICY_TABLE!;
    const key = { [TABLE.partitionKey]: { S: 'payments' }, [TABLE.sortKey]: { S: SORT_KEY.allow('frontend') } };
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key, source: { S: 'frontend' }, managedBy: { S: MANAGED_BY.operator } },
      }),
    );
    try {
      const r = await lambda.send(
        new InvokeCommand({
          FunctionName: 'shop-frontend',
          Qualifier: LIVE_ALIAS,
          Payload: Buffer.from(JSON.stringify({ action: 'pay-direct' })),
        }),
      );
      const body = json(r);
      assert.equal(body.denied, true, `frontend reached payments: ${JSON.stringify(body)}`);
      assert.ok(
        iamLines.some((l) => /^IAM refused shop-frontend .*dynamodb:Query on .*\(partition payments\)/.test(l)),
        iamLines.join('\n'),
      );
    } finally {
      await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
  });

  it("another service's identity secret: its resource policy's Deny refuses a role whose own policy reads every secret", async () => {
    const role = mesh.registry.getSpec('shop-payments', '$LATEST')!.role!.split('/').pop()!;
    const secretId = mesh.registry.getSpec('shop-frontend', '$LATEST')!.environment[ENV.identitySecret]!;
    // A user's broad grant on payments' role, as secretsmanager:GetSecretValue on * would be.
    mesh.endpoint.iam.put(role, 'ReadsEverySecret', {
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    const asPayments = new SecretsManagerClient(asSandbox(mesh, 'shop-payments'));
    try {
      const err = await asPayments.send(new GetSecretValueCommand({ SecretId: secretId })).then(
        () => assert.fail('served'),
        (e: Error) => e,
      );
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(
        err.message,
        /shop-payments is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:shop\/identity\/frontend-\w+ with an explicit deny in a resource-based policy$/,
      );
    } finally {
      asPayments.destroy();
      mesh.endpoint.iam.delete(role, 'ReadsEverySecret');
    }
  });

  it("a grant the constructs forgot (orders' Invoke of payments): the checkout is refused, MeshDeniedError, one line naming the edge", async () => {
    const role = mesh.registry.getSpec('shop-orders', '$LATEST')!.role!.split('/').pop()!;
    const iam = mesh.endpoint.iam;
    const [name] = iam.names(role);
    const original = iam.document(role, name!)!;
    const doc = JSON.parse(original) as { Statement: { Action: unknown; Effect: string; Resource: unknown }[] };
    // Drop payments from orders' Invoke grant, as a construct that forgot it would have written it.
    const withoutPayments = doc.Statement.map((s) =>
      s.Action === 'lambda:InvokeFunction' && s.Effect === 'Allow'
        ? { ...s, Resource: [s.Resource].flat().filter((r) => !String(r).includes('shop-payments')) }
        : s,
    );
    iam.put(role, name!, { ...doc, Statement: withoutPayments });
    const before = iamLines.length;
    try {
      const r = await checkout();
      const body = JSON.stringify(json(r));
      assert.equal(r.FunctionError, 'Unhandled', body);
      assert.match(body, /MeshDeniedError|denied/);
      const lines = iamLines.slice(before);
      assert.ok(
        lines.some((l) =>
          /^IAM refused shop-orders .*lambda:InvokeFunction on arn:aws:lambda:us-east-1:000000000000:function:shop-payments:live; declare the edge in CDK: caller\.allowCallsTo\(target\)/.test(
            l,
          ),
        ),
        lines.join('\n'),
      );
    } finally {
      iam.put(role, name!, original);
    }
    const again = await checkout();
    assert.equal(again.FunctionError, undefined, 'served again with the grant back');
  });
});
