/**
 * Synth-time checks: each error names the construct, the bad value and the fix. Built without
 * bundling (nothing here needs code).
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Duration, Errors, Lazy, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { DEMO, ENV, meshStack, newApp } from './infra-fixture';

describe('validation at synth', () => {
  it('refuses a canary weight outside 0..1', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Payments', 'payments', { canary: { weight: 1.5, stableVersion: '1' } }),
      /MeshFunction Test\/Payments: canary.weight must be between 0 and 1, got 1.5/,
    );
    assert.throws(() => fn('Payments2', 'payments', { canary: { weight: -0.1, stableVersion: '1' } }), /got -0.1/);
  });

  it('refuses a canary whose stable version is not a published version number', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Payments', 'payments', { canary: { weight: 0.1, stableVersion: '$LATEST' } }),
      /Test\/Payments: canary.stableVersion must be a published version number such as "1", got "\$LATEST"/,
    );
  });

  it('refuses a service calling itself', () => {
    const { fn } = meshStack();
    const orders = fn('Orders', 'orders');
    assert.throws(() => orders.allowCallsTo(orders), /MeshFunction Test\/Orders: service "orders" cannot call itself/);
  });

  it('refuses two functions with the same service name in one mesh', () => {
    const { fn } = meshStack();
    fn('Orders', 'orders');
    assert.throws(
      () => fn('Orders2', 'orders'),
      /MeshFunction Test\/Orders2: service "orders" is already taken in mesh "shop" by Test\/Orders; give each function its own service name/,
    );
  });

  it('refuses a second mesh of the same name in one stack, or in another stack of the same account and region', () => {
    // GIVEN a mesh "shop" in Test (123456789012, us-east-1)
    const { app, stack } = meshStack();
    const fix = 'give this mesh another meshName, or pass Test/Mesh to its MeshFunctions';
    // WHEN a second "shop" joins the same stack, or another stack of the same environment
    // THEN synth stops before either would collide at deploy (table, layer, dashboard, secrets, functions)
    assert.throws(
      () => new Mesh(stack, 'Again', { meshName: 'shop' }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.DUPLICATE_MESH);
        assert.equal(err.constructPath, 'Test/Again');
        assert.equal(
          err.message,
          'Mesh Test/Again: meshName "shop" is already used by Mesh Test/Mesh in the same account and region, and the ' +
            'name makes the policy table, the layer, the dashboard, the identity secrets and every function name, so ' +
            `the two would collide at deploy; ${fix}`,
        );
        return true;
      },
    );
    // In another stack, Test/Mesh cannot be its functions' mesh (a mesh and its functions deploy in one
    // stack): the fix names the stack to declare them in instead.
    const sibling = new Stack(app, 'Sibling', { env: ENV });
    assert.throws(
      () => new Mesh(sibling, 'Mesh', { meshName: 'shop', tableName: 'other-table' }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.DUPLICATE_MESH);
        assert.match(
          err.message,
          /^Mesh Sibling\/Mesh: meshName "shop" is already used by Mesh Test\/Mesh in the same/,
        );
        assert.match(
          err.message,
          /; give this mesh another meshName, or declare its MeshFunctions in stack Test with Test\/Mesh \(a mesh and its functions deploy in one stack\)$/,
        );
        return true;
      },
    );
  });

  it('refuses two meshes of one name in stacks without an environment, and allows it in another region or stage', () => {
    // GIVEN an app whose stacks name no environment: `cdk deploy --all` puts them in one account and region
    const app = newApp();
    new Mesh(new Stack(app, 'A'), 'Mesh', { meshName: 'shop' });
    assert.throws(
      () => new Mesh(new Stack(app, 'B'), 'Mesh', { meshName: 'shop' }),
      /meshName "shop" is already used by Mesh A\/Mesh/,
    );
    // WHEN the same name goes to another region (a failover copy), or to another stage (another account, say)
    const west = new Stack(app, 'West', { env: { ...ENV, region: 'us-west-2' } });
    const staged = new Stack(new Stage(app, 'Beta'), 'A');
    // THEN each is its own mesh
    assert.equal(new Mesh(west, 'Mesh', { meshName: 'shop' }).meshName, 'shop');
    assert.equal(new Mesh(staged, 'Mesh', { meshName: 'shop' }).meshName, 'shop');
  });

  it('refuses a function whose name another mesh function of the account and region has already', () => {
    // GIVEN mesh "shop" with service "a-b": its function is shop-a-b
    const app = newApp();
    const stack = new Stack(app, 'Test', { env: ENV });
    const shop = new Mesh(stack, 'Shop', { meshName: 'shop' });
    const shopA = new Mesh(stack, 'ShopA', { meshName: 'shop-a' });
    const entry = join(DEMO, 'inventory.ts');
    new MeshFunction(stack, 'AB', { mesh: shop, service: 'a-b', entry });
    // WHEN mesh "shop-a" declares service "b" (also shop-a-b), or a function of "shop" takes it as functionName
    // THEN synth stops, naming both functions, instead of a deploy failing on a name Lambda already has
    const refused = (path: string, mine: string) => (err: unknown) => {
      assert.ok(err instanceof MeshValidationError, String(err));
      assert.equal(err.code, MeshErrorCode.DUPLICATE_FUNCTION_NAME);
      assert.equal(
        err.message,
        `MeshFunction ${path}: function name "shop-a-b" (${mine}) is already the name of MeshFunction Test/AB ` +
          '(mesh "shop", service "a-b") in the same account and region, where Lambda function names are unique; ' +
          'give one of them another service name, or pass a functionName of its own',
      );
      return true;
    };
    assert.throws(
      () => new MeshFunction(stack, 'B', { mesh: shopA, service: 'b', entry }),
      refused('Test/B', 'mesh "shop-a", service "b"'),
    );
    assert.throws(
      () => new MeshFunction(stack, 'X', { mesh: shop, service: 'x', functionName: 'shop-a-b', entry }),
      refused('Test/X', 'mesh "shop", service "x"'),
    );
    const sibling = new Stack(app, 'Sibling', { env: ENV });
    const siblingMesh = new Mesh(sibling, 'Mesh', { meshName: 'other' });
    assert.throws(
      () => new MeshFunction(sibling, 'B', { mesh: siblingMesh, service: 'b', functionName: 'shop-a-b', entry }),
      refused('Sibling/B', 'mesh "other", service "b"'),
    );
    // A stack of another region holds its own names
    const west = new Stack(app, 'West', { env: { ...ENV, region: 'us-west-2' } });
    const westMesh = new Mesh(west, 'Mesh', { meshName: 'shop-a' });
    assert.equal(new MeshFunction(west, 'B', { mesh: westMesh, service: 'b', entry }).service, 'b');
  });

  it('refuses an edge to a function of another mesh', () => {
    const { stack, fn } = meshStack();
    const other = new Mesh(stack, 'Other', { meshName: 'other' });
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments', { mesh: other });
    assert.throws(
      () => orders.allowCallsTo(payments),
      /Test\/Orders: cannot call Test\/Payments \(service "payments"\): it is in mesh "other", this function is in mesh "shop"; put both in one mesh$/,
    );
  });

  it('refuses an edge to a mesh of another stack, saying that one mesh is one stack', () => {
    // GIVEN a stack per service, each with a mesh of its own (a MeshFunction must share its mesh's stack)
    const { app, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payStack = new Stack(app, 'PayStack', { env: ENV });
    const payments = new MeshFunction(payStack, 'Payments', {
      mesh: new Mesh(payStack, 'Mesh', { meshName: 'pay' }),
      service: 'payments',
      entry: join(DEMO, 'payments.ts'),
    });
    // WHEN orders declares the edge, THEN the fix names the stacks to bring together
    assert.throws(
      () => orders.allowCallsTo(payments),
      /Test\/Orders: cannot call PayStack\/Payments \(service "payments"\): it is in mesh "pay", this function is in mesh "shop"; put both in one mesh, and so in one stack \(a mesh and its functions deploy together\): declare PayStack\/Payments in stack Test, or Test\/Orders in stack PayStack$/,
    );
  });

  it('refuses a function declared in another stack than its mesh, naming both stacks and the fix', () => {
    // GIVEN a mesh in stack Test and a second stack of the same app
    const { app, mesh } = meshStack();
    const other = new Stack(app, 'Other', { env: ENV });
    // WHEN a function of that mesh is declared in the second stack
    // THEN synth stops at the function, instead of at aws-cdk's cyclic reference between the stacks
    assert.throws(
      () => new MeshFunction(other, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'inventory.ts') }),
      {
        code: MeshErrorCode.MESH_IN_OTHER_STACK,
        message:
          'MeshFunction Other/Orders: it is in stack Other and its mesh Test/Mesh in stack Test; a mesh and its functions ' +
          'deploy in one stack. Create the MeshFunction in stack Test (inside a construct of your own there if you like), ' +
          'or in a NestedStack of it (each nested stack is a template of its own, the way past 500 resources), ' +
          'or give stack Other a Mesh of its own',
      },
    );
    // A construct of the user's own inside the mesh's stack is the same stack.
    const { stack, mesh: shop } = meshStack();
    new MeshFunction(new Construct(stack, 'Services'), 'Orders', {
      mesh: shop,
      service: 'orders',
      entry: join(DEMO, 'inventory.ts'),
    });
    // So is a nested stack of it, at any depth; a nested stack of another stack is not.
    const deep = new NestedStack(new NestedStack(stack, 'Outer'), 'Inner');
    new MeshFunction(deep, 'Payments', { mesh: shop, service: 'payments', entry: join(DEMO, 'inventory.ts') });
    assert.throws(
      () =>
        new MeshFunction(new NestedStack(other, 'Nested'), 'Payments', {
          mesh,
          service: 'payments',
          entry: join(DEMO, 'inventory.ts'),
        }),
      { code: MeshErrorCode.MESH_IN_OTHER_STACK },
    );
  });

  it("refuses a role made in another stack, whose policy would refer to the mesh's stack, naming the fix", () => {
    // GIVEN a shared stack that makes the role, as a platform's security team does
    const { app, stack, mesh, fn } = meshStack();
    const shared = new Stack(app, 'Shared', { env: ENV });
    const lambdaRole = (scope: Construct, id: string) =>
      new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const role = lambdaRole(shared, 'PaymentsRole');
    // WHEN a function of the mesh's stack takes it
    // THEN synth stops at the function, instead of at aws-cdk's cyclic reference between the stacks
    assert.throws(() => fn('Payments', 'payments', { role }), {
      code: MeshErrorCode.ROLE_IN_OTHER_STACK,
      message:
        "MeshFunction Test/Payments: role Shared/PaymentsRole is made in stack Shared, so the mesh's grants (its policy " +
        "reads, its identity secret, its targets) would go into that role's policy in stack Shared, which would then " +
        'refer to stack Test while this function refers to the role: a cycle CloudFormation cannot deploy. Import the ' +
        "role in stack Test, role: iam.Role.fromRoleArn(this, 'PaymentsRole', <the role>.roleArn), and the grants go " +
        'into a policy of stack Test; or make the role in stack Test',
    });
    // The import the message names synthesizes, its grants beside the function.
    fn('Orders', 'orders', { role: iam.Role.fromRoleArn(stack, 'PaymentsRole', role.roleArn) });
    app.synth();
    // A role of the mesh's stack serves a function of its nested stack, and the other way round.
    const nested = new NestedStack(stack, 'Nested');
    fn('Search', 'search', { role: lambdaRole(nested, 'SearchRole') });
    const entry = join(DEMO, 'inventory.ts');
    new MeshFunction(nested, 'Stock', { mesh, service: 'stock', entry, role: lambdaRole(stack, 'StockRole') });
  });

  it('refuses a bad service name', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Orders', 'Orders_Service'),
      /service "Orders_Service" is not a valid service name; use lower-case letters/,
    );
  });

  it('refuses a bad mesh name', () => {
    const stack = new Stack(newApp(), 'Test', { env: ENV });
    assert.throws(
      () => new Mesh(stack, 'Mesh', { meshName: 'My Mesh' }),
      /Mesh Test\/Mesh: meshName "My Mesh" is not valid/,
    );
  });

  it('refuses a function name over 64 characters', () => {
    const { fn } = meshStack('a-rather-long-mesh-name-for-a-shop');
    assert.throws(
      () => fn('Orders', 'orders-and-their-many-line-items'),
      /function name "a-rather-long-mesh-name-for-a-shop-orders-and-their-many-line-items" has 67 characters, over Lambda's 64; use a shorter service or mesh name/,
    );
  });

  it('refuses a function name that is a token', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Orders', 'orders', { functionName: Lazy.string({ produce: () => 'x' }) }),
      /functionName must be a literal string/,
    );
  });

  it("refuses environment variables over Lambda's 4 KB, and counts a reference by its key only", () => {
    // GIVEN a function whose own environment is too large, and one that holds a reference
    const { app, fn, mesh } = meshStack();
    fn('Orders', 'orders', { environment: { BIG: 'x'.repeat(4000) } });
    fn('Payments', 'payments', { environment: { TABLE_ARN: mesh.table.tableArn } });
    // WHEN synthesized THEN only the first fails, naming the size and the largest variable
    assert.throws(
      () => app.synth(),
      (err: Error) => {
        assert.match(
          err.message,
          /MeshFunction Test\/Orders: environment variables take \d+ bytes, over Lambda's 4096-byte limit \(largest: BIG, 4000 bytes\)/,
        );
        assert.doesNotMatch(err.message, /Test\/Payments/);
        return true;
      },
    );
  });

  it('refuses an environment entry the mesh sets itself, naming it and where its value comes from', () => {
    // GIVEN a user's MESH_SERVICE, which addEnvironment would silently replace with the service prop
    const { fn } = meshStack();
    assert.throws(
      () => fn('Orders', 'orders', { environment: { TABLE: 'orders', MESH_SERVICE: 'billing' } }),
      (err: Error) => {
        assert.ok(err instanceof MeshValidationError);
        assert.equal(err.code, MeshErrorCode.RESERVED_ENVIRONMENT);
        assert.match(
          err.message,
          /MeshFunction Test\/Orders: environment sets MESH_SERVICE, which the mesh sets itself and would overwrite; remove MESH_SERVICE from environment \(the service prop names the service\)/,
        );
        return true;
      },
    );
    assert.throws(
      () => fn('Payments', 'payments', { environment: { MESH_POLICY_TTL_MS: '1000' } }),
      /environment sets MESH_POLICY_TTL_MS, .* \(set the Mesh prop policyTtl\)/,
    );
  });

  it("keeps the mesh's knobs it never sets (MESH_LOG_LEVEL, MESH_ROUTE_HEADERS) as the user gave them", () => {
    const { stack, fn } = meshStack();
    fn('Orders', 'orders', { environment: { MESH_LOG_LEVEL: 'debug', MESH_ROUTE_HEADERS: 'x-tenant' } });
    const vars = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((r) => r.Properties?.Environment?.Variables)
      .find((v) => v?.MESH_SERVICE === 'orders');
    assert.equal(vars?.MESH_LOG_LEVEL, 'debug');
    assert.equal(vars?.MESH_ROUTE_HEADERS, 'x-tenant');
  });

  it('refuses at synth a deploy-time item of a name that is no service or channel of the mesh', () => {
    // GIVEN an item declared before its function joins, and one whose pk is a typo
    const { app, fn, mesh } = meshStack();
    mesh.addPolicyItem({ pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } });
    mesh.addPolicyItem({ pk: 'paymnets', sk: 'traffic', timeoutMs: 2000 });
    fn('Orders', 'orders');
    fn('Payments', 'payments');
    // WHEN synthesized THEN only the typo fails, naming the mesh's services and the fix
    assert.throws(
      () => app.synth(),
      (err: Error) => {
        assert.ok(
          err.message.includes(
            'Mesh Test/Mesh: the policy items of "paymnets" belong to no service or channel of mesh "shop" ' +
              '(services: orders, payments; channels: none); fix the pk in addPolicyItem, or add a MeshFunction with service "paymnets"',
          ),
          err.message,
        );
        assert.doesNotMatch(err.message, /items of "payments"/);
        return true;
      },
    );
  });

  it('refuses at synth a deploy-time allow item for a caller that is no service of the mesh', () => {
    // GIVEN an edge from a service that was removed from the app, kept by hand, beside the usual ones
    const { app, fn, mesh } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    orders.allowCallsTo(payments);
    orders.allowExternal();
    mesh.addPolicyItem({ pk: 'payments', sk: 'allow#refunds', source: 'refunds' });
    // WHEN synthesized THEN that item fails, naming what it would let in and the fix
    assert.throws(
      () => app.synth(),
      (err: Error) => {
        assert.ok(
          err.message.includes(
            'Mesh Test/Mesh: the policy item payments/allow#refunds admits "refunds", which is no service of mesh "shop" ' +
              '(services: orders, payments): a certificate a removed service of that name left behind would be let in, ' +
              'and so would any later service that takes the name; remove the item, or add a MeshFunction with service "refunds"',
          ),
          err.message,
        );
        assert.doesNotMatch(err.message, /allow#orders|allow#external/);
        return true;
      },
    );
  });

  it('refuses an edge whose settings the policy model rejects, naming the field and range', () => {
    const { fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    assert.throws(
      () => orders.allowCallsTo(payments, { retries: { maxAttempts: 20 } }),
      /payments\/allow#orders: retries.maxAttempts = 20 must be an integer between 1 and 10/,
    );
    assert.throws(
      () => orders.allowCallsTo(payments, { timeout: Duration.seconds(1), perTryTimeout: Duration.seconds(2) }),
      /perTryTimeoutMs = 2000 must not exceed timeoutMs = 1000/,
    );
  });

  it("refuses an edge timeout longer than the caller's own timeout, which Lambda would cut short", () => {
    const { fn } = meshStack();
    // GIVEN orders on Lambda's default timeout (3 s) and checkout on 10 s
    const orders = fn('Orders', 'orders');
    const checkout = fn('Checkout', 'checkout', { timeout: Duration.seconds(10) });
    const payments = fn('Payments', 'payments');
    // WHEN an edge's timeout or per-try timeout outlasts the caller
    // THEN synth names the edge, both values and both ways out
    assert.throws(() => orders.allowCallsTo(payments, { timeout: Duration.seconds(5) }), {
      code: MeshErrorCode.INVALID_EDGE,
      message:
        "MeshFunction Test/Orders: allowCallsTo(payments) timeout is 5000 ms, longer than the function's own timeout of " +
        "3000 ms (Lambda's default), so it would never apply: Lambda ends the invocation first. Give the edge a timeout " +
        "of at most 3000 ms, or raise the function's timeout (e.g. timeout: Duration.seconds(10))",
    });
    assert.throws(
      () => checkout.allowCallsTo(payments, { perTryTimeout: Duration.seconds(12) }),
      /Test\/Checkout: allowCallsTo\(payments\) perTryTimeout is 12000 ms, longer than the function's own timeout of 10000 ms, so/,
    );
    // Timeouts within the caller's are declared as before.
    orders.allowCallsTo(payments, { timeout: Duration.seconds(3), perTryTimeout: Duration.seconds(1) });
    checkout.allowCallsTo(payments, { timeout: Duration.seconds(10) });
  });

  it('refuses the same edge declared twice with different settings', () => {
    const { fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const payments = fn('Payments', 'payments');
    orders.allowCallsTo(payments, { timeout: Duration.seconds(1) });
    assert.throws(
      () => orders.allowCallsTo(payments, { timeout: Duration.seconds(2) }),
      /payments\/allow#orders declared twice with different settings/,
    );
  });

  it('asks for an entry when neither entry nor code is given', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Orders', 'orders', { entry: undefined }),
      /entry is required, and there is no \S+\.Orders\.ts \(nor [^)]+\) to take by NodejsFunction's convention; pass the path of the handler file/,
    );
  });

  it('refuses a runtime older than Node.js 20, which cannot run the layer, and takes 20 and later', () => {
    const { fn } = meshStack();
    for (const runtime of [lambda.Runtime.NODEJS_18_X, lambda.Runtime.NODEJS_16_X]) {
      assert.throws(() => fn('Old', 'old', { runtime }), {
        code: MeshErrorCode.INVALID_RUNTIME,
        message: `MeshFunction Test/Old: runtime ${runtime.name} cannot run the mesh's layer, which needs Node.js 20 or later; use lambda.Runtime.NODEJS_22_X (the default) or another nodejs20.x or later runtime`,
      });
    }
    for (const [id, runtime] of [
      ['Twenty', lambda.Runtime.NODEJS_20_X],
      ['TwentyFour', lambda.Runtime.NODEJS_24_X],
      ['Latest', lambda.Runtime.NODEJS_LATEST],
    ] as const) {
      fn(id, id.toLowerCase(), { runtime });
    }
  });

  it('gives every refusal a stable code and the construct path, as aws-cdk validation errors do', () => {
    // GIVEN one refusal made before the construct exists, one on a method of a live construct, one deep in the mesh
    const { fn, mesh } = meshStack();
    const orders = fn('Orders', 'orders');
    const cases: [() => unknown, MeshErrorCode, string][] = [
      [
        () => fn('Payments', 'payments', { canary: { weight: 2, stableVersion: '1' } }),
        MeshErrorCode.INVALID_CANARY,
        'Test/Payments',
      ],
      [() => orders.allowCallsTo(orders), MeshErrorCode.INVALID_EDGE, 'Test/Orders'],
      [() => mesh.addPolicyItem({ pk: 'orders', sk: 'nonsense' }), MeshErrorCode.INVALID_POLICY_ITEM, 'Test/Mesh'],
      [() => fn('Orders2', 'Orders'), MeshErrorCode.INVALID_SERVICE_NAME, 'Test/Orders2'],
    ];
    for (const [act, code, path] of cases) {
      // WHEN / THEN
      assert.throws(act, (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, code);
        assert.equal(err.constructPath, path);
        assert.ok(Errors.isValidationError(err), 'aws-cdk recognises it as a validation error');
        return true;
      });
    }
  });
});
