/**
 * Lambda Managed Instances for a mesh function: the function's capacity provider and its settings,
 * written on the function as `lambda.CapacityProvider.addFunction` writes them, for a provider made
 * in the app or imported by name or ARN alike (an imported one has no `addFunction`).
 */
import { Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';

/** Lambda's bounds on a function's execution environments in a capacity provider. */
const EXECUTION_ENVIRONMENTS = { min: 0, max: 15_000 } as const;

/** The capacity provider of a function on Lambda Managed Instances, with the function's settings there. */
export interface MeshCapacityProviderOptions extends lambda.CapacityProviderFunctionOptions {
  /** The capacity provider: a `lambda.CapacityProvider` of the app, or one imported by name or ARN. */
  readonly provider: lambda.ICapacityProvider;
}

/** Refuses scaling settings Lambda would refuse at deploy, naming the value and the fix. */
export function checkCapacityProvider(path: string, o: MeshCapacityProviderOptions): void {
  const scaling = o.latestPublishedScalingConfig ?? {};
  const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
  const refuse = (message: string) =>
    new MeshValidationError(
      MeshErrorCode.INVALID_CAPACITY_PROVIDER,
      `MeshFunction ${path}: capacityProvider.${message}`,
      path,
    );
  for (const key of ['minExecutionEnvironments', 'maxExecutionEnvironments'] as const) {
    const n = scaling[key];
    if (known(n) && !(Number.isInteger(n) && n >= EXECUTION_ENVIRONMENTS.min && n <= EXECUTION_ENVIRONMENTS.max)) {
      throw refuse(
        `latestPublishedScalingConfig.${key} must be a whole number from ${EXECUTION_ENVIRONMENTS.min} to ${EXECUTION_ENVIRONMENTS.max}, got ${n}`,
      );
    }
  }
  const { minExecutionEnvironments: min, maxExecutionEnvironments: max } = scaling;
  if (known(min) && known(max) && min > max) {
    throw refuse(
      `latestPublishedScalingConfig: minExecutionEnvironments (${min}) is above maxExecutionEnvironments (${max}); raise the maximum or lower the minimum`,
    );
  }
}

/** Puts the function on the capacity provider (AWS::Lambda::Function CapacityProviderConfig). */
export function useCapacityProvider(fn: lambda.Function, o: MeshCapacityProviderOptions): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  cfn.capacityProviderConfig = {
    lambdaManagedInstancesCapacityProviderConfig: {
      capacityProviderArn: o.provider.capacityProviderArn,
      perExecutionEnvironmentMaxConcurrency: o.perExecutionEnvironmentMaxConcurrency,
      executionEnvironmentMemoryGiBPerVCpu: o.executionEnvironmentMemoryGiBPerVCpu,
    },
  };
  cfn.publishToLatestPublished = o.publishToLatestPublished;
  const scaling = o.latestPublishedScalingConfig;
  if (scaling?.minExecutionEnvironments !== undefined || scaling?.maxExecutionEnvironments !== undefined) {
    cfn.functionScalingConfig = {
      minExecutionEnvironments: scaling.minExecutionEnvironments,
      maxExecutionEnvironments: scaling.maxExecutionEnvironments,
    };
  }
}
