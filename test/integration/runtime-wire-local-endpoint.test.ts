/**
 * The runtime's AWS wire against the local mesh's endpoint (local/endpoint: Lambda, Secrets Manager and
 * DynamoDB through the embedded dynalite), over real sockets: a caller with identity on and no snapshot
 * reads its identity secret (GetSecretValue), its target's policy (Query) and invokes the target's
 * `live` alias (Invoke), all signed by the runtime's own signer; the target is the mesh wrapper, which
 * reads its own policy from the table and verifies the caller's token before the handler runs.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { type Endpoint, SecretStore } from '../../local/endpoint';
import { IDENTITY } from '../../shared/names';
import { identityOf } from '../support/identity-fixture';
import { startSecretsEndpoint, type TestRegistry } from './local-endpoint-fixture';

const TABLE = 'shop-policy';

describe('runtime wire against the local endpoint', () => {
  let endpoint: Endpoint;
  let registry: TestRegistry;
  const lines: string[] = [];
  const savedEnv = { ...process.env };
  let env: Record<string, string>;

  before(async () => {
    const ca = await rotateCa('shop', undefined);
    const orders = await issueIdentity({ mesh: 'shop', service: 'orders', ca });
    const payments = await issueIdentity({ mesh: 'shop', service: 'payments', ca });
    ({ endpoint, registry } = await startSecretsEndpoint(new SecretStore()));
    endpoint.secrets.create({ name: IDENTITY.secretName('shop', 'orders'), secretString: JSON.stringify(orders) });
    await endpoint.dynamo.createPolicyTable(TABLE);
    await endpoint.dynamo.seedItems(TABLE, [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
    ]);
    env = {
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: 'test-session',
      MESH_POLICY_TABLE: TABLE,
    };
    // The callee: the mesh wrapper in front of a plain handler, its policy read from the same table.
    const paymentsRt = new MeshRuntime({
      env,
      config: { meshName: 'shop', service: 'payments' },
      policy: { snapshotPath: null },
      sink: (l) => lines.push(...l.split('\n')),
      identity: async () => identityOf(payments),
    });
    const wrapped = wrapHandler(paymentsRt, async (event: unknown) => ({ paid: event }));
    registry.add('shop-payments', (event, context) => wrapped(event, context as never));
    const v = registry.publishVersion('shop-payments');
    registry.createAlias('shop-payments', 'live', { FunctionVersion: v.Version });
    // The caller's identity comes the way the layer loads it: MESH_IDENTITY_SECRET, read from the process.
    Object.assign(process.env, env, { MESH_IDENTITY_SECRET: IDENTITY.secretName('shop', 'orders') });
  });
  after(async () => {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    (require('../../functions/mesh/identity') as typeof import('../../functions/mesh/identity')).resetIdentity();
    await endpoint.close();
  });

  test('identity, policy and Invoke on the wire: the callee verifies the token and serves', async () => {
    // Prepare
    const transport = new LambdaInvokeTransport({ env });
    const orders = new MeshRuntime({
      env: { ...env, MESH_IDENTITY_SECRET: IDENTITY.secretName('shop', 'orders') },
      config: { meshName: 'shop', service: 'orders' },
      policy: { snapshotPath: null },
      transport,
      sink: (l) => lines.push(...l.split('\n')),
    });
    // Act
    const out = await orders.call('payments', { amount: 7 });
    // Assess
    assert.deepEqual(out, { paid: { amount: 7 } });
    assert.equal(transport.path, 'wire');
    assert.ok(orders.policy.tableReads >= 1, 'the target policy came from the table');
    const served = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
    const callee = served.find((r) => r.reporter === 'destination');
    assert.equal(callee?.source, 'orders', 'the callee verified the caller before serving');
    assert.equal(callee?.outcome, 'success');
  });

  test('a missing identity secret is reported by its AWS name, and the call is refused before sending', async () => {
    process.env.MESH_IDENTITY_SECRET = IDENTITY.secretName('shop', 'nobody');
    (require('../../functions/mesh/identity') as typeof import('../../functions/mesh/identity')).resetIdentity();
    const orders = new MeshRuntime({
      env: { ...env, MESH_IDENTITY_SECRET: IDENTITY.secretName('shop', 'nobody') },
      config: { meshName: 'shop', service: 'orders' },
      policy: { snapshotPath: null },
      transport: new LambdaInvokeTransport({ env }),
      sink: (l) => lines.push(...l.split('\n')),
    });
    const err = (await orders.call('payments', {}).catch((e) => e)) as Error;
    assert.equal(err.name, 'MeshIdentityUnavailableError', err.message);
    assert.match(err.message, /ResourceNotFoundException/);
  });
});
