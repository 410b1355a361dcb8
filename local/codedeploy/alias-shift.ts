/**
 * The alias a local deployment shifts, on the local function registry: each step of the traffic shift
 * and a rollback become the alias's version and weights, as CodeDeploy's UpdateAlias calls set them.
 */
import type { FunctionRegistry } from '../registry/function-registry';
import type { CodeDeployDeps } from './codedeploy-engine';

export function registryAliasShift(registry: FunctionRegistry): Pick<CodeDeployDeps, 'setAlias'> {
  return {
    setAlias: (fn, alias, version, weights) =>
      void registry.putAlias(fn, alias, {
        FunctionVersion: version,
        RoutingConfig: Object.keys(weights).length > 0 ? { AdditionalVersionWeights: weights } : undefined,
      }),
  };
}
