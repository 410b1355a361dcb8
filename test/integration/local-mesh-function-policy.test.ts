/**
 * A function's resource policy is one policy per qualifier, and IAM evaluates what it holds (AWS Lambda
 * Developer Guide, "Using Lambda aliases in event sources and permissions policies"; API Reference,
 * "AddPermission"): a statement a template's AWS::Lambda::Permission declares and one AddPermission adds
 * sit in the same policy, GetPolicy shows both, RemovePermission takes either away, and each grants an
 * invoke through the ARN it was added to only. GIVEN a caller whose role grants no Invoke and a target
 * with a version and a `live` alias, WHEN the caller invokes with the real SDK signed as its role's
 * session and an operator edits the policy over the wire, THEN what the policy holds decides.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  GetPolicyCommand,
  InvokeCommand,
  LambdaClient,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { clientConfig } from '../support/example-assembly';
import { arnOf, type Failure, failureOf, fn, role } from '../support/iam-template';
import { oneStackAssembly } from '../support/one-stack-assembly';

const ACCOUNT = '000000000000';
const CALLER_ROLE = `arn:aws:iam::${ACCOUNT}:role/caller-role`;

/** The target's Permission to the caller's role, on the function (`fn.addPermission`) or on its alias. */
function template(permissionOn: 'function' | 'alias'): Record<string, unknown> {
  return {
    CallerRole: role('caller-role'),
    OwnerRole: role('owner-role'),
    Caller: fn('app-caller', 'CallerRole'),
    Target: fn('app-target', 'OwnerRole'),
    TargetVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Target' } } },
    TargetLive: {
      Type: 'AWS::Lambda::Alias',
      Properties: {
        FunctionName: { Ref: 'Target' },
        Name: 'live',
        FunctionVersion: { 'Fn::GetAtt': ['TargetVersion', 'Version'] },
      },
    },
    TargetInvoke: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: permissionOn === 'function' ? arnOf('Target') : { Ref: 'TargetLive' },
        Principal: arnOf('CallerRole'),
      },
    },
  };
}

describe('IAM on the local mesh: a function policy per qualifier, from the template and from AddPermission', () => {
  const dirs = [template('function'), template('alias')].map((t) => oneStackAssembly('function-policy', t));
  let mesh: LocalMesh;
  let caller: LambdaClient;
  let operator: LambdaClient;

  /** Whether the caller's Invoke of the target (`qualifier`: a version or alias) is served or refused. */
  const invokes = async (qualifier?: string): Promise<'served' | 'refused'> => {
    try {
      await caller.send(new InvokeCommand({ FunctionName: 'app-target', Qualifier: qualifier }));
      return 'served';
    } catch (err) {
      assert.equal((err as Failure).name, 'AccessDeniedException', (err as Error).message);
      return 'refused';
    }
  };
  /** The Sids of the target's policy (of `qualifier`), none when GetPolicy finds no policy. */
  const sids = async (qualifier?: string): Promise<string[]> => {
    try {
      const { Policy } = await operator.send(
        new GetPolicyCommand({ FunctionName: 'app-target', Qualifier: qualifier }),
      );
      return (JSON.parse(Policy!) as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid);
    } catch (err) {
      assert.equal((err as Failure).name, 'ResourceNotFoundException', (err as Error).message);
      return [];
    }
  };

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [dirs[0]!], port: 0, quiet: true });
    const spec = mesh.registry.getSpec('app-caller', '$LATEST')!;
    const keys = new SandboxCredentials().issue('app-caller', spec.role, ACCOUNT)!;
    caller = new LambdaClient({ ...clientConfig(mesh.url), credentials: keys });
    operator = new LambdaClient(clientConfig(mesh.url));
    // The caller's sandbox, started once, holds the keys its session signs with.
    await operator.send(new InvokeCommand({ FunctionName: 'app-caller' }));
  });
  after(async () => {
    caller?.destroy();
    operator?.destroy();
    await mesh?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("GetPolicy shows the template's statement under its logical id, on the function only", async () => {
    assert.deepEqual(await sids(), ['TargetInvoke']);
    assert.deepEqual(await sids('live'), []);
  });

  it('a grant on the function serves the unqualified ARN only: its alias and version are refused', async () => {
    assert.equal(await invokes(), 'served');
    assert.equal(await invokes('live'), 'refused');
    assert.equal(await invokes('1'), 'refused');
  });

  it('AddPermission on the alias serves invokes through the alias, not of the version it points to', async () => {
    await operator.send(
      new AddPermissionCommand({
        FunctionName: 'app-target',
        Qualifier: 'live',
        StatementId: 'caller-live',
        Action: 'lambda:InvokeFunction',
        Principal: CALLER_ROLE,
      }),
    );
    assert.equal(await invokes('live'), 'served');
    assert.equal(await invokes('1'), 'refused');
    assert.deepEqual(await sids('live'), ['caller-live']);
    assert.deepEqual(await sids(), ['TargetInvoke']);
  });

  it("AddPermission does not take a Sid the template's statement holds", async () => {
    const taken = await failureOf(
      operator.send(
        new AddPermissionCommand({
          FunctionName: 'app-target',
          StatementId: 'TargetInvoke',
          Action: 'lambda:InvokeFunction',
          Principal: CALLER_ROLE,
        }),
      ),
    );
    assert.equal(taken.name, 'ResourceConflictException');
  });

  it("RemovePermission takes away the template's statement and the added one: both invokes are refused", async () => {
    await operator.send(new RemovePermissionCommand({ FunctionName: 'app-target', StatementId: 'TargetInvoke' }));
    await operator.send(
      new RemovePermissionCommand({ FunctionName: 'app-target', Qualifier: 'live', StatementId: 'caller-live' }),
    );
    assert.equal(await invokes(), 'refused');
    assert.equal(await invokes('live'), 'refused');
    assert.deepEqual(await sids(), []);
  });

  it("a redeploy of the stack puts the template's statement back", async () => {
    await mesh.apply(dirs[0]!);
    assert.deepEqual(await sids(), ['TargetInvoke']);
    assert.equal(await invokes(), 'served');
  });

  it('a Permission the template moves to the alias leaves the function and serves the alias, not its version', async () => {
    await mesh.apply(dirs[1]!);
    assert.deepEqual(await sids(), []);
    assert.deepEqual(await sids('live'), ['TargetInvoke']);
    assert.equal(await invokes(), 'refused');
    assert.equal(await invokes('1'), 'refused');
    assert.equal(await invokes('live'), 'served');
  });
});
