import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ASSETS, DEPLOYMENT, SORT_KEY } from '../../shared/names';
import type { Mesh } from '../mesh';
import type { MeshFunction } from '../mesh-function';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';
import { controlFunctionCode } from './asset-code';
import type { MeshIdentity } from './identity';
import { acknowledgeNag } from './nag-acknowledgement';
import { controlFunction } from './own-logs-role';

/** Room for MESH_DEPLOY_CHECKS in the hook's environment (Lambda allows 4 KB; the identity secret ARN takes ~120 bytes). */
const CHECKS_MAX_BYTES = 3_800;

/** One gated function, as the hook checks it. */
interface Gated {
  readonly fn: MeshFunction;
  readonly functionName: string;
  readonly request: unknown;
}

/**
 * The mesh's pre-traffic hook (functions/control/deploy-hook.ts), shared by its gated functions of one
 * stack (a nested stack has its own: the hook names each new version, which the version's alias waits
 * for, so across stacks it would be a cycle): one
 * function with its own mesh identity (`mesh-deploy-check`), invoked by CodeDeploy before traffic
 * shifts. Per gated function it may: invoke that deploy's new version and nothing else, read that
 * function's deployments and report their hook status (its deployment group); and the function's
 * policy admits it (`allow#mesh-deploy-check`).
 */
export class PreTrafficHook extends Construct {
  public readonly function: lambda.Function;
  private readonly gated = new Map<string, Gated>();

  constructor(scope: Construct, id: string, mesh: Mesh, identity: MeshIdentity | undefined) {
    super(scope, id);
    this.function = controlFunction(this, 'Function', {
      code: controlFunctionCode(ASSETS.deployHook),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      memorySize: 256,
      // A ping and a request to a version that may start cold, each capped at 25 s.
      timeout: Duration.seconds(60),
      description: `Checks each new version of mesh ${mesh.meshName}'s gated functions before traffic shifts to it`,
      environment: {
        [DEPLOYMENT.checksEnv]: Lazy.string({ produce: () => this.checksJson() }),
      },
    });
    this.node.addValidation({ validate: () => this.checkSize() });
    // It calls as a service of the mesh: it needs an identity when the mesh has them. One identity for
    // the hooks of every stack, kept in the mesh's: nested stacks refer to it, never to each other.
    identity?.addService(DEPLOYMENT.checkSource, this.function, mesh);
    acknowledgeNag(
      this,
      'AwsSolutions-L1',
      'The hook runs on nodejs22.x, the runtime the mesh is built and tested for',
    );
  }

  /**
   * Checks `fn`'s new versions from now on: the hook may invoke this deploy's version (by its ARN, which
   * changes every deploy) and read the group's deployments; the service admits the hook as a caller.
   */
  add(fn: MeshFunction, functionName: string, request: unknown, group: codedeploy.ILambdaDeploymentGroup): void {
    this.gated.set(fn.service, { fn, functionName, request });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.version.functionArn] }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        // The deployment's group names the service; its target, the function and version it shifts to.
        // CodeDeploy authorizes these calls on a deployment against its deployment group, as it does
        // PutLifecycleEventHookExecutionStatus (aws-cdk-lib's grant and AWS SAM's hook policies scope
        // that one to the group too), so nothing here needs a wildcard resource.
        actions: ['codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets', 'codedeploy:GetDeploymentTarget'],
        resources: [group.deploymentGroupArn],
      }),
    );
    fn.mesh.addPolicyItem({
      pk: fn.service,
      sk: SORT_KEY.allow(DEPLOYMENT.checkSource),
      source: DEPLOYMENT.checkSource,
      description: 'the pre-traffic check of gated deployments (ping, declared request)',
    });
    // The hook signs as itself: its identity is issued before any deployment asks for the check.
    const issued = fn.mesh.identity?.issuedResource(DEPLOYMENT.checkSource);
    if (issued) fn.liveAlias.node.addDependency(issued);
  }

  private checksJson(): string {
    const out: Record<string, unknown> = {};
    for (const [service, g] of [...this.gated].sort(([a], [b]) => a.localeCompare(b))) {
      out[service] = {
        functionName: g.functionName,
        version: g.fn.version.version,
        ...(g.request !== undefined ? { request: g.request } : {}),
      };
    }
    return Stack.of(this).toJsonString(out);
  }

  private checkSize(): string[] {
    // Versions are tokens at synth (a few digits at deploy): count the rest of the value.
    const bytes = [...this.gated].reduce(
      (n, [service, g]) =>
        n +
        service.length +
        g.functionName.length +
        60 +
        (g.request === undefined ? 0 : JSON.stringify(g.request).length),
      0,
    );
    if (bytes <= CHECKS_MAX_BYTES) return [];
    const biggest = [...this.gated].sort(
      ([, a], [, b]) => JSON.stringify(b.request ?? '').length - JSON.stringify(a.request ?? '').length,
    )[0];
    return [
      new MeshValidationError(
        MeshErrorCode.INVALID_DEPLOYMENT,
        `${this.node.path}: the pre-traffic checks of ${this.gated.size} gated functions take about ${bytes} bytes of the hook's ${DEPLOYMENT.checksEnv}, over the ${CHECKS_MAX_BYTES} Lambda's 4 KB environment leaves` +
          (biggest?.[1].request !== undefined
            ? `; shorten the declared requests (largest: ${biggest[0]}'s, ${JSON.stringify(biggest[1].request).length} bytes)`
            : '; split the functions over more than one mesh'),
        this,
      ).message,
    ];
  }
}
