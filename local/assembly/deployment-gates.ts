/**
 * Gated alias updates in a local deployment, as CloudFormation runs them: the CodeDeploy application,
 * deployment groups and configs and the CloudWatch alarms of a template go to the local CodeDeploy and
 * alarm registry, and an `AWS::Lambda::Alias` with a `CodeDeployLambdaAliasUpdate` update policy whose
 * version changes is not updated in place: a CodeDeploy deployment shifts it (CreateDeployment on the
 * wire, with the AppSpec CloudFormation would write). Creating the alias is no deployment, as on AWS.
 *
 * CloudFormation waits for the whole deployment; the local apply waits until traffic starts moving to
 * the new version (or the deployment ends, a failed pre-traffic check included), so the demo's traffic
 * is what the alarms judge while the deployment goes on.
 */
import { parseTrafficRouting } from '../../shared/deployment-config';
import type { AlarmRegistry } from '../cloudwatch/alarms';
import { parseAlarm } from '../cloudwatch/alarms';
import type { CodeDeployEngine, Deployment } from '../codedeploy/codedeploy-engine';
import type { FunctionRegistry } from '../registry/function-registry';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import type { Resolver } from './intrinsics';

/** The local CodeDeploy and alarms a deployment applies gates to. */
export interface DeploymentGates {
  readonly codeDeploy: CodeDeployEngine;
  readonly alarms: AlarmRegistry;
  /** CreateDeployment (an alias update), as CloudFormation calls it; resolves to the deployment id. */
  createDeployment(input: { applicationName: string; groupName: string; appSpecContent: string }): Promise<string>;
}

/** What the gate handlers need of the apply in progress. */
export interface GateContext {
  readonly gates?: DeploymentGates;
  readonly resolver: Resolver;
  warn(w: string): void;
}

/** A gated alias update this apply started. */
export interface GatedUpdate {
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
  readonly from: string;
  readonly to: string;
  /** The deployment's status when the apply went on (InProgress while traffic shifts). */
  readonly status: string;
}

type Props = Record<string, unknown>;

function resolved(ctx: GateContext, stack: AssemblyStack, r: TemplateResource): Props | undefined {
  return ctx.resolver.resolve(stack, r.Properties ?? {}) as Props | undefined;
}

export function applyCodeDeployApplication(ctx: GateContext, stack: AssemblyStack, id: string): void {
  ctx.gates?.codeDeploy.putApplication(ctx.resolver.physicalName(stack, id));
}

export function applyDeploymentConfig(ctx: GateContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  if (!ctx.gates) return;
  const p = resolved(ctx, stack, r);
  const routing = parseTrafficRouting(p?.TrafficRoutingConfig);
  if (!routing || (p?.ComputePlatform !== undefined && p.ComputePlatform !== 'Lambda')) {
    ctx.warn(
      `deployment config ${stack.id}/${id} is not a Lambda traffic-routing config the local mesh runs; left out`,
    );
    return;
  }
  ctx.gates.codeDeploy.putDeploymentConfig(ctx.resolver.physicalName(stack, id), routing);
}

export function applyDeploymentGroup(ctx: GateContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  if (!ctx.gates) return;
  const p = resolved(ctx, stack, r);
  const applicationName = typeof p?.ApplicationName === 'string' ? p.ApplicationName : undefined;
  if (!p || !applicationName) {
    ctx.warn(`deployment group ${stack.id}/${id} has no resolvable ApplicationName; left out`);
    return;
  }
  const alarms = (p.AlarmConfiguration ?? {}) as {
    Alarms?: { Name?: unknown }[];
    Enabled?: unknown;
    IgnorePollAlarmFailure?: unknown;
  };
  const rollback = (p.AutoRollbackConfiguration ?? {}) as { Enabled?: unknown; Events?: unknown };
  ctx.gates.codeDeploy.putDeploymentGroup({
    applicationName,
    name: ctx.resolver.physicalName(stack, id),
    configName:
      typeof p.DeploymentConfigName === 'string'
        ? p.DeploymentConfigName
        : 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    serviceRoleArn: typeof p.ServiceRoleArn === 'string' ? p.ServiceRoleArn : undefined,
    alarms: (alarms.Alarms ?? []).map((a) => String(a.Name)),
    alarmsEnabled: alarms.Enabled === true,
    ignorePollAlarmFailure: alarms.IgnorePollAlarmFailure === true,
    autoRollbackEvents: rollback.Enabled === true && Array.isArray(rollback.Events) ? rollback.Events.map(String) : [],
  });
}

export function applyAlarm(ctx: GateContext, stack: AssemblyStack, id: string, r: TemplateResource): void {
  if (!ctx.gates) return;
  const name = ctx.resolver.physicalName(stack, id);
  const p = resolved(ctx, stack, r);
  const def = p ? parseAlarm(name, p) : 'its properties have no local value';
  if (typeof def === 'string') {
    ctx.warn(`alarm ${stack.id}/${id} is not evaluated locally: ${def}`);
    return;
  }
  ctx.gates.alarms.put(def);
}

/**
 * The alias update as a CodeDeploy deployment when the resource asks for one, the alias exists and its
 * version changes; undefined when the alias is to be written as it is.
 */
export async function gatedAliasUpdate(
  ctx: GateContext,
  stack: AssemblyStack,
  r: TemplateResource,
  registry: FunctionRegistry,
  fn: string,
  aliasName: string,
  version: string,
): Promise<GatedUpdate | undefined> {
  const policy = r.UpdatePolicy?.CodeDeployLambdaAliasUpdate;
  const existing = registry.getAlias(fn, aliasName);
  if (!ctx.gates || !policy || !existing || existing.FunctionVersion === version) return undefined;
  const p = ctx.resolver.resolve(stack, policy) as Props | undefined;
  const applicationName = typeof p?.ApplicationName === 'string' ? p.ApplicationName : undefined;
  const groupName = typeof p?.DeploymentGroupName === 'string' ? p.DeploymentGroupName : undefined;
  if (!applicationName || !groupName) {
    ctx.warn(
      `alias ${fn}:${aliasName}: its CodeDeploy update policy names no resolvable application and group; updated at once`,
    );
    return undefined;
  }
  const hooks = (['BeforeAllowTraffic', 'AfterAllowTraffic'] as const).flatMap((h) => {
    const name = p?.[`${h}Hook`];
    return typeof name === 'string' && name !== '' ? [{ [h]: name }] : [];
  });
  const appSpecContent = JSON.stringify({
    version: 0.0,
    Resources: [
      {
        [fn]: {
          Type: 'AWS::Lambda::Function',
          Properties: { Name: fn, Alias: aliasName, CurrentVersion: existing.FunctionVersion, TargetVersion: version },
        },
      },
    ],
    ...(hooks.length ? { Hooks: hooks } : {}),
  });
  const deploymentId = await ctx.gates.createDeployment({ applicationName, groupName, appSpecContent });
  const d: Deployment = await ctx.gates.codeDeploy.untilTraffic(deploymentId);
  return {
    deploymentId,
    functionName: fn,
    alias: aliasName,
    from: existing.FunctionVersion,
    to: version,
    status: d.status,
  };
}
