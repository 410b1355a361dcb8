/**
 * The alias a local deployment shifts, on the local function registry: what Lambda would refuse of the
 * AppSpec's function, alias and versions (checked before anything moves), then each step of the
 * traffic shift and a rollback as the alias's version and weights, as CodeDeploy's UpdateAlias calls
 * set them. Without the check, a step wrote whatever the AppSpec named into the alias.
 */
import type { FunctionRegistry } from '../registry/function-registry';
import type { AppSpec, CodeDeployDeps } from './codedeploy-engine';

type Problem = { code: string; message: string } | undefined;

export function registryAliasShift(registry: FunctionRegistry): Pick<CodeDeployDeps, 'setAlias' | 'targetProblem'> {
  return {
    targetProblem: (spec) => targetProblem(registry, spec),
    setAlias: (fn, alias, version, weights) =>
      void registry.putAlias(fn, alias, {
        FunctionVersion: version,
        RoutingConfig: Object.keys(weights).length > 0 ? { AdditionalVersionWeights: weights } : undefined,
      }),
  };
}

/**
 * A deployment moves an existing alias from the version it is on to another published version
 * (CodeDeploy User Guide, "AppSpec 'resources' section (AWS Lambda deployments only)"); the error codes
 * are ErrorInformation's (CodeDeploy API Reference).
 */
function targetProblem(registry: FunctionRegistry, spec: AppSpec): Problem {
  const fn = spec.functionName;
  if (!registry.hasFunction(fn)) {
    return {
      code: 'INVALID_LAMBDA_FUNCTION',
      message: `The Lambda function ${fn} named in the AppSpec does not exist; name a function of this account.`,
    };
  }
  const invalid = (message: string) => ({ code: 'INVALID_LAMBDA_CONFIGURATION', message });
  const alias = registry.getAlias(fn, spec.alias);
  if (!alias) return invalid(`The alias ${fn}:${spec.alias} does not exist; a deployment shifts an existing alias.`);
  const published = (registry.listVersions(fn) ?? []).map((v) => v.Version).filter((v) => v !== '$LATEST');
  for (const [field, version] of [
    ['CurrentVersion', spec.currentVersion],
    ['TargetVersion', spec.targetVersion],
  ] as const) {
    if (!published.includes(version)) {
      return invalid(
        `The AppSpec's ${field} ${version} is not a published version; published versions of ${fn}: ${published.join(', ') || 'none'}.`,
      );
    }
  }
  if (spec.currentVersion === spec.targetVersion) {
    return invalid(`The AppSpec's CurrentVersion and TargetVersion are both ${spec.targetVersion}; nothing to shift.`);
  }
  if (alias.FunctionVersion !== spec.currentVersion) {
    return invalid(
      `The alias ${fn}:${spec.alias} points to version ${alias.FunctionVersion}, not to the AppSpec's CurrentVersion ${spec.currentVersion}; name the version the alias is on.`,
    );
  }
  return undefined;
}
