/**
 * How a gated deployment shifts a `live` alias to the new version: CodeDeploy's traffic routing for
 * Lambda (all at once, canary, linear), as the constructs declare it, the local mesh runs it and the
 * CLI reports it. Pure: names and shapes in, steps out.
 */

/** A Lambda deployment config's traffic routing. Intervals in minutes, as CodeDeploy counts them. */
export type TrafficRouting =
  | { readonly type: 'AllAtOnce' }
  | { readonly type: 'TimeBasedCanary'; readonly percentage: number; readonly intervalMinutes: number }
  | { readonly type: 'TimeBasedLinear'; readonly percentage: number; readonly intervalMinutes: number };

/** One shift of a deployment: from `afterMs` after traffic starts to move, the new version's share. */
export interface TrafficStep {
  readonly afterMs: number;
  /** Share of the alias's traffic the new version gets, 0 to 1 (1 = the deployment is done shifting). */
  readonly weight: number;
}

const canary = (percentage: number, intervalMinutes: number): TrafficRouting => ({
  type: 'TimeBasedCanary',
  percentage,
  intervalMinutes,
});
const linear = (percentage: number, intervalMinutes: number): TrafficRouting => ({
  type: 'TimeBasedLinear',
  percentage,
  intervalMinutes,
});

/** CodeDeploy's predefined Lambda deployment configs ("Deployment configurations on an AWS Lambda compute platform"). */
export const PREDEFINED_LAMBDA_CONFIGS: Readonly<Record<string, TrafficRouting>> = {
  'CodeDeployDefault.LambdaAllAtOnce': { type: 'AllAtOnce' },
  'CodeDeployDefault.LambdaCanary10Percent5Minutes': canary(10, 5),
  'CodeDeployDefault.LambdaCanary10Percent10Minutes': canary(10, 10),
  'CodeDeployDefault.LambdaCanary10Percent15Minutes': canary(10, 15),
  'CodeDeployDefault.LambdaCanary10Percent30Minutes': canary(10, 30),
  'CodeDeployDefault.LambdaLinear10PercentEvery1Minute': linear(10, 1),
  'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes': linear(10, 2),
  'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes': linear(10, 3),
  'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes': linear(10, 10),
};

/** The default config of a gated deployment (and of CDK's LambdaDeploymentGroup). */
export const DEFAULT_LAMBDA_CONFIG = 'CodeDeployDefault.LambdaCanary10Percent5Minutes';

/**
 * The shifts of a routing: a canary gives the new version `percentage` and, one interval later, all of
 * the traffic; linear adds `percentage` every interval until all of it; all at once shifts at once.
 */
export function trafficSteps(routing: TrafficRouting): TrafficStep[] {
  if (routing.type === 'AllAtOnce') return [{ afterMs: 0, weight: 1 }];
  const interval = routing.intervalMinutes * 60_000;
  const share = routing.percentage / 100;
  if (routing.type === 'TimeBasedCanary') {
    return [
      { afterMs: 0, weight: share },
      { afterMs: interval, weight: 1 },
    ];
  }
  const steps: TrafficStep[] = [];
  for (let i = 0; ; i++) {
    const weight = Math.min(1, Math.round(share * (i + 1) * 1e6) / 1e6);
    steps.push({ afterMs: i * interval, weight });
    if (weight >= 1) return steps;
  }
}

/** Where a deployment stands `elapsedMs` after traffic started to move. */
export interface StepPosition {
  /** Index of the current step (0-based). */
  readonly index: number;
  readonly count: number;
  /** The new version's share now. */
  readonly weight: number;
  /** Time to the next shift, or undefined after the last one. */
  readonly nextShiftInMs?: number;
  /** The new version's share after the next shift. */
  readonly nextWeight?: number;
}

export function stepAt(steps: readonly TrafficStep[], elapsedMs: number): StepPosition {
  let index = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i]!.afterMs <= elapsedMs) index = i;
  const next = steps[index + 1];
  return {
    index,
    count: steps.length,
    weight: steps[index]!.weight,
    ...(next ? { nextShiftInMs: Math.max(0, next.afterMs - elapsedMs), nextWeight: next.weight } : {}),
  };
}

/** The whole time a routing takes to shift all traffic (a canary's bake time), ms. */
export function shiftDurationMs(routing: TrafficRouting): number {
  const steps = trafficSteps(routing);
  return steps[steps.length - 1]!.afterMs;
}

/** "canary 10% for 5 min, then all", "linear 10% every 1 min", "all at once". */
export function describeRouting(routing: TrafficRouting): string {
  if (routing.type === 'AllAtOnce') return 'all at once';
  const every = `${routing.intervalMinutes} min`;
  return routing.type === 'TimeBasedCanary'
    ? `canary ${routing.percentage}% for ${every}, then all`
    : `linear ${routing.percentage}% every ${every}`;
}

/**
 * A `TrafficRoutingConfig` as CloudFormation (`AWS::CodeDeploy::DeploymentConfig`, PascalCase) or the
 * CodeDeploy API (GetDeploymentConfig, camelCase) spells it; undefined when it is not a valid one.
 */
export function parseTrafficRouting(raw: unknown): TrafficRouting | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const type = r.Type ?? r.type;
  if (type === 'AllAtOnce') return { type: 'AllAtOnce' };
  const pick = (key: string) => {
    const inner = (r[key] ?? r[key[0]!.toLowerCase() + key.slice(1)]) as Record<string, unknown> | undefined;
    if (!inner || typeof inner !== 'object') return undefined;
    const prefix = key === 'TimeBasedCanary' ? 'Canary' : 'Linear';
    const percentage = Number(inner[`${prefix}Percentage`] ?? inner[`${prefix.toLowerCase()}Percentage`]);
    const intervalMinutes = Number(inner[`${prefix}Interval`] ?? inner[`${prefix.toLowerCase()}Interval`]);
    if (!(percentage > 0 && percentage <= 100) || !(Number.isInteger(intervalMinutes) && intervalMinutes >= 1)) {
      return undefined;
    }
    return { percentage, intervalMinutes };
  };
  if (type === 'TimeBasedCanary') {
    const c = pick('TimeBasedCanary');
    return c && { type, ...c };
  }
  if (type === 'TimeBasedLinear') {
    const l = pick('TimeBasedLinear');
    return l && { type, ...l };
  }
  return undefined;
}

/** The routing in the CodeDeploy API's shape (GetDeploymentConfig's `trafficRoutingConfig`). */
export function trafficRoutingApiShape(routing: TrafficRouting): Record<string, unknown> {
  if (routing.type === 'AllAtOnce') return { type: 'AllAtOnce' };
  return routing.type === 'TimeBasedCanary'
    ? {
        type: routing.type,
        timeBasedCanary: { canaryPercentage: routing.percentage, canaryInterval: routing.intervalMinutes },
      }
    : {
        type: routing.type,
        timeBasedLinear: { linearPercentage: routing.percentage, linearInterval: routing.intervalMinutes },
      };
}
