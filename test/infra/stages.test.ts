/**
 * One mesh in several `Stage`s, as CDK Pipelines apps declare dev and prod: each stage synthesizes its
 * own mesh with its own snapshot layer and items, the app-wide name checks let stages aimed at different
 * environments be, and refuse stages aimed at the same account and region, where the mesh's table,
 * layers, secrets and function names would collide at deploy.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import type { PolicyItem } from '../../shared/policy';
import { DEMO, newApp, snapshotFromAssembly } from './infra-fixture';

const entry = join(DEMO, 'inventory.ts');
const DEV = { account: '111111111111', region: 'us-east-1' };
const PROD = { account: '222222222222', region: 'us-east-1' };

/** The shop in a stage: orders and payments, with the edge orders -> payments when `edge`. */
function shopStage(app: App, id: string, env: { account: string; region: string } | undefined, edge: boolean) {
  const stage = new Stage(app, id, { env });
  const stack = new Stack(stage, 'Shop');
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
  const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry });
  const payments = new MeshFunction(stack, 'Payments', { mesh, service: 'payments', entry });
  if (edge) orders.allowCallsTo(payments);
  return { stage, stack };
}

/** The keys (pk/sk) of the snapshot the stage's mesh ships. */
function snapshotKeys(stage: Stage, stack: Stack): string[] {
  const assembly = stage.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  const items = snapshotFromAssembly(template, assembly.directory).items as PolicyItem[];
  return items.map((i) => `${i.pk}/${i.sk}`);
}

describe('a mesh in several stages', () => {
  it('synthesizes dev and prod in two accounts, each with its own snapshot of its own items', () => {
    const app = newApp();
    const dev = shopStage(app, 'Dev', DEV, false);
    const prod = shopStage(app, 'Prod', PROD, true);
    app.synth();
    assert.deepEqual(snapshotKeys(dev.stage, dev.stack), ['orders/service', 'payments/service']);
    assert.deepEqual(snapshotKeys(prod.stage, prod.stack), [
      'orders/service',
      'payments/allow#orders',
      'payments/service',
    ]);
  });

  it('refuses a mesh name another stage already deploys to the same account and region', () => {
    // GIVEN dev in 111111111111/us-east-1
    const app = newApp();
    shopStage(app, 'Dev', DEV, false);
    // WHEN prod is aimed at the same account and region
    // THEN synth stops: the policy table shop-policy, the layers and every function name would collide
    assert.throws(
      () => shopStage(app, 'Prod', DEV, true),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.DUPLICATE_MESH);
        assert.match(
          err.message,
          /^Mesh Prod\/Shop\/Mesh: meshName "shop" is already used by Mesh Dev\/Shop\/Mesh in the same account and region/,
        );
        assert.match(
          err.message,
          /; give this mesh another meshName, or deploy stage Prod and stage Dev to different accounts or regions$/,
        );
        return true;
      },
    );
  });

  it('refuses a function name another stage already deploys to the same account and region', () => {
    // GIVEN dev's shop-orders in 111111111111/us-east-1, and prod's mesh under another name there
    const app = newApp();
    shopStage(app, 'Dev', DEV, false);
    const stack = new Stack(new Stage(app, 'Prod', { env: DEV }), 'Shop');
    const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop-prod' });
    // WHEN one of its functions takes shop-orders as its name
    // THEN synth stops, naming dev's function
    assert.throws(
      () => new MeshFunction(stack, 'Orders', { mesh, service: 'orders', functionName: 'shop-orders', entry }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.DUPLICATE_FUNCTION_NAME);
        assert.match(
          err.message,
          /is already the name of MeshFunction Dev\/Shop\/Orders \(mesh "shop", service "orders"\)/,
        );
        return true;
      },
    );
  });

  it('lets two stages without an environment be: each may be deployed to an account of its own', () => {
    const app = newApp();
    shopStage(app, 'Dev', undefined, false);
    const prod = shopStage(app, 'Prod', undefined, true);
    assert.equal(Stack.of(prod.stack).stackName, 'Prod-Shop');
  });
});
