/**
 * The checks of `mesh check`, as a table the way `linkerd check` keeps them: one row per check, each
 * with what it checks, how to fix a failure, and a small pure function over the facts gathered about
 * one mesh function (check-facts.ts). Adding a check is adding a row. No I/O here.
 */
import { ENV, LAYER, LIVE_ALIAS, POLICY_RESOURCE_TYPE, SORT_KEY } from '../../shared/names';
import type { FunctionFacts } from './check-facts';
import { checkAllowedEdges, checkDeclaredEdges, checkItems, checkSplitSource } from './check-policy';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found, when it is not a plain pass. */
  readonly detail?: string;
  /** How to fix a failure or warning. */
  readonly fix?: string;
  /** Commands that fix it, complete with the AWS flags the check ran with: they work when pasted. */
  readonly commands?: readonly string[];
}

/** The facts of a function whose configuration could be read: what every row judges. */
export type ConfiguredFacts = FunctionFacts & { readonly config: NonNullable<FunctionFacts['config']> };

/** A row's judgement; `fix` replaces the row's hint when this failure needs another fix. */
export interface Verdict {
  readonly status: CheckStatus;
  readonly detail?: string;
  readonly fix?: string;
  /** Commands that fix this failure (see CheckResult). */
  readonly commands?: readonly string[];
}

export interface CheckRow {
  /** What is checked, as the report names it. */
  readonly description: string;
  /** How to fix the row's usual failure, for this function. */
  hint(f: ConfiguredFacts): string;
  check(f: ConfiguredFacts): Verdict;
}

const LATEST = '$LATEST';

const layerName = (arn: string) => arn.split(':')[6] ?? arn;

export const CHECKS: readonly CheckRow[] = [
  {
    description: 'mesh layer attached',
    hint: (f) =>
      `wrap the function in MeshFunction (it adds the mesh layer), or add Mesh's layer to ${f.functionName} and redeploy`,
    check: ({ config: c }) => {
      // Mesh names its layer's description "Lambda Mesh runtime ..." when the name does not say.
      const mesh = c.layers.find(
        (arn) => /mesh/i.test(layerName(arn)) || /lambda mesh/i.test(c.layerDescriptions?.[arn] ?? ''),
      );
      if (mesh) return { status: 'pass', detail: layerName(mesh) };
      return {
        status: 'fail',
        detail: c.layers.length
          ? `layers: ${c.layers.map(layerName).join(', ')}; none is the mesh layer`
          : 'the function has no layers',
      };
    },
  },
  {
    description: 'handler redirected to the mesh wrapper',
    hint: () =>
      `set the handler to ${LAYER.wrapperHandler} and ${ENV.handler} to the app's handler (MeshFunction does both), then redeploy`,
    check: ({ config: c }) => {
      const userHandler = c.env[ENV.handler];
      if (c.handler === LAYER.wrapperHandler && userHandler)
        return { status: 'pass', detail: `app handler ${userHandler}` };
      return {
        status: 'fail',
        detail:
          c.handler !== LAYER.wrapperHandler
            ? `handler is ${JSON.stringify(c.handler)}, not ${LAYER.wrapperHandler}`
            : `${ENV.handler} is unset, so the wrapper cannot find the app's handler`,
      };
    },
  },
  {
    description: 'X-Ray tracing Active',
    hint: (f) =>
      `set tracing: lambda.Tracing.ACTIVE (MeshFunction's default) and redeploy, or: aws lambda update-function-configuration --function-name ${f.functionName} --tracing-config Mode=Active`,
    check: ({ config: c }) =>
      c.tracingMode === 'Active'
        ? { status: 'pass' }
        : { status: 'fail', detail: `TracingConfig.Mode is ${c.tracingMode ?? 'unset'}` },
  },
  {
    description: `alias ${LIVE_ALIAS}`,
    hint: (f) => `grant yourself lambda:GetAlias on ${f.functionName}, or check --region / --endpoint-url`,
    check: checkAlias,
  },
  {
    description: 'identity readable',
    hint: (f) =>
      `let the identity rotation issue a certificate (it writes AWSCURRENT), and grant the function secretsmanager:GetSecretValue on ${f.secret?.id}`,
    check: checkIdentity,
  },
  {
    description: 'policy table reachable',
    hint: (f) =>
      `deploy the Mesh (it owns the table ${f.table?.name}), wait until it is ACTIVE, and check --region / --endpoint-url`,
    check: checkTable,
  },
  {
    description: 'policy items valid',
    hint: () => 'remove the item, or write a corrected one with `mesh policy set`',
    check: checkItems,
  },
  {
    description: 'edges granted in IAM are allowed by the table',
    hint: () => 'allow the edge with `mesh policy allow`, or remove the grant and redeploy',
    check: checkDeclaredEdges,
  },
  {
    description: 'edges allowed by the table are granted in IAM',
    hint: () => 'declare the edge with allowCallsTo and deploy, or remove the allow item',
    check: checkAllowedEdges,
  },
  {
    description: 'one source decides the split',
    hint: () => 'remove the route item so the alias decides the split',
    check: checkSplitSource,
  },
];

/**
 * Pure: the checks for one function. Every row reads the function's configuration: when it could not
 * be read, that is the one failure reported.
 */
export function evaluateFunction(f: FunctionFacts): CheckResult[] {
  if (!f.config) {
    return [
      {
        check: 'function configuration readable',
        status: 'fail',
        detail: f.configError ?? 'no configuration',
        fix: `grant yourself lambda:GetFunctionConfiguration on ${f.functionName}, or check --region / --endpoint-url`,
      },
    ];
  }
  const facts = f as ConfiguredFacts;
  return CHECKS.map((row) => {
    const v = row.check(facts);
    const failed = v.status === 'fail' || v.status === 'warn';
    const fix = failed ? (v.fix ?? row.hint(facts)) : undefined;
    return {
      check: row.description,
      status: v.status,
      ...(v.detail ? { detail: v.detail } : {}),
      ...(fix ? { fix } : {}),
      ...(failed && v.commands?.length ? { commands: v.commands } : {}),
    };
  });
}

function checkAlias(f: ConfiguredFacts): Verdict {
  const fn = f.functionName;
  if (f.aliasError) return { status: 'fail', detail: f.aliasError };
  const newest = (f.mesh?.versions.get(f.service) ?? []).at(-1);
  const cmd = (tool: 'mesh' | 'aws', args: string) => f.mesh?.command(tool, args) ?? `${tool} ${args}`;
  // With no published version, one is published first (the function's current code).
  const publish = newest ? [] : [cmd('aws', `lambda publish-version --function-name ${fn}`)];
  if (!f.alias) {
    return {
      status: 'fail',
      detail: `${fn} has no alias ${LIVE_ALIAS}`,
      fix: `deploy with MeshFunction (it publishes a version and points ${LIVE_ALIAS} at it), or create the alias on the newest published version`,
      commands: newest
        ? [cmd('aws', `lambda create-alias --function-name ${fn} --name ${LIVE_ALIAS} --function-version ${newest}`)]
        : [],
    };
  }
  const { functionVersion, weights } = f.alias;
  if ([functionVersion, ...Object.keys(weights)].includes(LATEST)) {
    return {
      status: 'fail',
      detail: `${LIVE_ALIAS} routes to ${LATEST}, which is not a published version`,
      fix: `point ${LIVE_ALIAS} at the newest published version (mesh promote ${f.service} does)`,
      commands: [...publish, cmd('mesh', `promote ${f.service}`)],
    };
  }
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  if (total > 1) {
    return {
      status: 'fail',
      detail: `additional version weights add up to ${total}`,
      fix: `give the canary a share from 0 to 100 percent: mesh shift ${f.service} <percent>`,
    };
  }
  const split = Object.entries(weights)
    .map(([v, w]) => `v${v} ${Math.round(w * 100)}%`)
    .join(', ');
  return { status: 'pass', detail: `v${functionVersion}${split ? ` + canary ${split}` : ''}` };
}

function checkIdentity(f: ConfiguredFacts): Verdict {
  const s = f.secret;
  if (!s) return { status: 'skip', detail: `identity off (${ENV.identitySecret} unset)` };
  if (s.describeError) {
    return {
      status: 'fail',
      detail: `DescribeSecret ${s.id}: ${s.describeError}`,
      fix: `check that ${ENV.identitySecret} names an existing secret (deploy the Mesh with identity on), and that you may secretsmanager:DescribeSecret it`,
    };
  }
  if (s.readError) return { status: 'fail', detail: `GetSecretValue ${s.id}: ${s.readError}` };
  if (s.empty) return { status: 'fail', detail: `secret ${s.id} has no current value` };
  return { status: 'pass', detail: s.id };
}

function checkTable(f: ConfiguredFacts): Verdict {
  const t = f.table;
  if (!t) {
    return {
      status: 'fail',
      detail: `${ENV.policyTable} is unset`,
      fix: `wrap the function in MeshFunction (it sets ${ENV.policyTable}) and redeploy`,
    };
  }
  if (t.describeError) return { status: 'fail', detail: `DescribeTable ${t.name}: ${t.describeError}` };
  if (t.status !== 'ACTIVE') return { status: 'fail', detail: `table ${t.name} is ${t.status}` };
  if (t.queryError) {
    return {
      status: 'fail',
      detail: `Query ${t.name} for ${f.service}: ${t.queryError}`,
      fix: `grant dynamodb:Query on ${t.name} (the function needs it too: Mesh grants it to every MeshFunction)`,
    };
  }
  if (!t.registered) {
    return {
      status: 'warn',
      detail: `${t.name} has ${t.items ?? 0} items for ${f.service} and no "${SORT_KEY.service}" registration`,
      fix: `redeploy so the ${POLICY_RESOURCE_TYPE} resource seeds the service's items, or \`mesh policy\` to add them`,
    };
  }
  return { status: 'pass', detail: `${t.name}, ${t.items} items` };
}
