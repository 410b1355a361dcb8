/** `mesh status`: services, functions, versions, live alias weights and the policy at a glance. */
import { LIVE_ALIAS } from '../../shared/names';
import { callerNotes } from '../../shared/telemetry/callers';
import { printable } from '../../shared/terminal-text';
import { type AliasState, canaryVersion, describeSplit } from '../alias-plan';
import { getLiveAlias, listVersions } from '../alias-store';
import { AWS_OPTIONS, type AwsFlags, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import { type Paint, painter, plain } from '../colour';
import type { CliContext } from '../context';
import { type ActiveDeployment, deploymentReader } from '../deployment-store';
import { describeDeployment, describeEndedDeployment } from '../deployment-summary';
import { type EffectiveEdge, effectiveEdges, renderEffectiveEdges } from '../effective-edges';
import type { EndedDeployment } from '../ended-deployment';
import { AwsCallError } from '../errors';
import { COMMAND_HELP } from '../help';
import { fitHelp } from '../help-fit';
import type { DiscoveredMesh } from '../mesh-discovery';
import type { RawItem } from '../policy-plan';
import { scanPolicy } from '../policy-store';
import { type PolicySummary, summarisePolicy } from '../policy-summary';
import { callerLines, formatTable, wrapWords } from '../table-format';
import { printableLine } from '../terminal-text';
import { frameMode, WATCH_OPTIONS, watchLoop, watchSettings } from '../watch';
import { weightToPercent } from '../weight';

export interface ServiceStatus {
  readonly service: string;
  readonly functionName: string;
  readonly versions: readonly string[];
  /** Undefined when the function has no `live` alias. */
  readonly alias?: {
    readonly name: string;
    readonly functionVersion: string;
    /** Lambda's AdditionalVersionWeights as stored: version -> fraction 0-1. */
    readonly weights: Readonly<Record<string, number>>;
    /** Every version the alias sends traffic to -> percent (stable included). */
    readonly traffic: Readonly<Record<string, number>>;
    readonly canary?: string;
  };
  readonly error?: string;
}

export interface StatusReport {
  readonly mesh: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly table?: string;
  readonly services: readonly ServiceStatus[];
  readonly policy: PolicySummary;
  readonly items: readonly RawItem[];
  /** CodeDeploy deployments shifting a `live` alias now (gated deploys). */
  readonly deployments?: readonly ActiveDeployment[];
  /** Each service's last deployment of the hour, when it ended without going live (Stopped, Failed). */
  readonly endedDeployments?: readonly EndedDeployment[];
  /** Why deployments could not be read, when they could not. */
  readonly deploymentsError?: string;
  /** What the mesh applies to each edge, and which item decides each part (effective-edges.ts). */
  readonly effective?: readonly EffectiveEdge[];
}

const OPTIONS = { ...AWS_OPTIONS, ...WATCH_OPTIONS } as const;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP.status, ctx.columns));
    return 0;
  }
  expectPositionals('status', positionals, []);
  const flags = awsFlags(values);
  const watch = watchSettings('status', values);
  // Each frame reads everything again: a function deployed meanwhile shows up in the next one.
  const frame = async () => {
    const report = await statusReport(flags, ctx);
    return flags.json
      ? JSON.stringify(report, null, watch ? 0 : 2)
      : renderStatus(report, Date.now(), painter(ctx, flags), ctx.columns);
  };
  if (watch) await watchLoop(ctx, watch, frameMode(ctx, flags), frame);
  else ctx.out(await frame());
  return 0;
}

/** Everything `mesh status` shows, read at once: discovery, then the aliases, the table and CodeDeploy. */
async function statusReport(flags: AwsFlags, ctx: CliContext): Promise<StatusReport> {
  const { mesh, clients } = await ctx.discover(flags);
  // Every read at once: the aliases, the table and CodeDeploy answer independently.
  const [services, items, deployments] = await Promise.all([
    Promise.all(mesh.services.map((s) => serviceStatus(clients, s.service, s.functionName))),
    mesh.table ? scanPolicy(clients, mesh.table) : Promise.resolve([] as RawItem[]),
    activeDeployments(flags, ctx, mesh),
  ]);
  return {
    mesh: mesh.name,
    region: await clients.region(),
    endpoint: clients.settings.endpoints.LAMBDA,
    table: mesh.table,
    services,
    policy: summarisePolicy(items),
    items,
    ...deployments,
    effective: effectiveEdges(
      items,
      new Map(services.flatMap((s) => (s.alias ? [[s.service, s.alias.traffic] as const] : []))),
    ),
  };
}

async function serviceStatus(
  clients: Parameters<typeof getLiveAlias>[0],
  service: string,
  functionName: string,
): Promise<ServiceStatus> {
  const versions = await listVersions(clients, functionName);
  let alias: AliasState;
  try {
    alias = await getLiveAlias(clients, functionName);
  } catch (err) {
    // A function without `live` is worth showing, not worth failing the whole status for.
    if (err instanceof AwsCallError && err.code === 'ResourceNotFoundException') {
      return { service, functionName, versions, error: `no ${LIVE_ALIAS} alias` };
    }
    throw err;
  }
  const traffic: Record<string, number> = {};
  let extra = 0;
  for (const [v, w] of Object.entries(alias.weights)) {
    traffic[v] = weightToPercent(w);
    extra += traffic[v];
  }
  traffic[alias.functionVersion] = Math.round((100 - extra) * 1e4) / 1e4;
  const canary = canaryVersion(alias, versions);
  return {
    service,
    functionName,
    versions,
    alias: {
      name: LIVE_ALIAS,
      functionVersion: alias.functionVersion,
      weights: alias.weights,
      traffic,
      ...(canary ? { canary } : {}),
    },
  };
}

/** Each service's CodeDeploy deployment in progress; an endpoint without CodeDeploy has none. */
async function activeDeployments(
  flags: Parameters<typeof deploymentReader>[0],
  ctx: CliContext,
  mesh: DiscoveredMesh,
): Promise<Pick<StatusReport, 'deployments' | 'endedDeployments' | 'deploymentsError'>> {
  const reader = deploymentReader(flags, ctx);
  const each = async <T>(read: (service: string) => Promise<T | undefined>): Promise<T[]> =>
    (await Promise.all(mesh.services.map((s) => read(s.service)))).filter(
      (d): d is Awaited<T> => d !== undefined,
    ) as T[];
  try {
    const [deployments, endedDeployments] = await Promise.all([
      each((s) => reader.active(mesh.name, s)),
      each((s) => reader.lastEnded(mesh.name, s)),
    ]);
    return { deployments, endedDeployments };
  } catch (err) {
    if (err instanceof AwsCallError && err.code === 'UnknownOperationException')
      return { deployments: [], endedDeployments: [] };
    return { deploymentsError: (err as Error).message };
  } finally {
    reader.close();
  }
}

/**
 * Pure: the report as text (`now` places deployments on their schedule). `paint` marks what an operator
 * looks for: a canary's split yellow, what is broken or denied red (plain by default). With `width` (a
 * terminal's, or COLUMNS), every line fits it: prose breaks between words, a table's last column
 * (a note, a detail) onto lines of its own under it.
 */
export function renderStatus(r: StatusReport, now = Date.now(), paint: Paint = plain, width?: number): string {
  const where = r.endpoint ? `${r.region}, endpoint ${r.endpoint}` : r.region;
  const prose = (line: string) => wrapWords(line, width, '  ');
  return [
    prose(printableLine(`Mesh ${r.mesh} — policy table ${r.table ?? '(none)'} (${where})`)),
    '',
    servicesTable(r.services, paint, width),
    ...deploymentsSection(r, now).map(prose),
    ...policySections(r.policy, paint, width),
    ...(r.effective?.length
      ? [
          '',
          prose('EFFECTIVE PER EDGE (what the mesh applies, and the item that decides it)'),
          renderEffectiveEdges(r.effective, width),
        ]
      : []),
    ...(r.policy.invalid.length
      ? [
          '',
          prose('INVALID ITEMS (ignored by the mesh; fix with `mesh policy set`)'),
          ...r.policy.invalid.map((x) => prose(`  ${paint('red', printable(x.error))}`)),
        ]
      : []),
  ].join('\n');
}

function servicesTable(services: StatusReport['services'], paint: Paint, width: number | undefined): string {
  return formatTable(
    ['SERVICE', 'FUNCTION', 'VERSIONS', `${LIVE_ALIAS.toUpperCase()} TRAFFIC`, 'CANARY'],
    services.map((s) => [
      s.service,
      s.functionName,
      s.versions.join(',') || '-',
      s.alias ? liveSplit(s.alias, paint) : s.error ? paint('red', s.error) : '-',
      s.alias?.canary ? paint('yellow', `v${s.alias.canary}`) : '-',
    ]),
    { width },
  );
}

/** The live alias's split, yellow while part of it goes to another version than the stable one. */
function liveSplit(alias: NonNullable<ServiceStatus['alias']>, paint: Paint): string {
  const text = describeSplit({ functionVersion: alias.functionVersion, weights: alias.weights });
  return Object.values(alias.weights).some((w) => w > 0) ? paint('yellow', text) : text;
}

function deploymentsSection(r: StatusReport, now: number): string[] {
  const out: string[] = [];
  if (r.deployments?.length) {
    out.push('', 'DEPLOYMENTS IN PROGRESS (CodeDeploy owns these live aliases; `mesh rollback <service>` stops one)');
    for (const d of r.deployments)
      out.push(...describeDeployment(withAliasWeight(d, r.services), now).map(printableLine));
  }
  if (r.endedDeployments?.length) {
    out.push('', 'DEPLOYMENTS THAT DID NOT GO LIVE (the last hour)');
    for (const d of r.endedDeployments) {
      const alias = r.services.find((s) => s.service === d.service)?.alias;
      out.push(...describeEndedDeployment(d, now, alias && describeSplit(alias)).map(printableLine));
    }
  }
  if (r.deploymentsError) out.push('', `DEPLOYMENTS: not readable (${printable(r.deploymentsError)})`);
  return out;
}

/**
 * Pure: the deployment with its new version's share as the `live` alias holds it. The alias is what
 * Lambda routes by; CodeDeploy's target weight can lag it (during a rollback it read 0% while the alias
 * still sent 10% to the new version). A version the alias does not name takes none of the traffic.
 */
export function withAliasWeight(d: ActiveDeployment, services: readonly ServiceStatus[]): ActiveDeployment {
  const alias = services.find((s) => s.service === d.service)?.alias;
  if (!alias || d.to === undefined) return d;
  return { ...d, weight: (alias.traffic[d.to] ?? 0) / 100 };
}

/** Who may call whom, then one table per kind of item the table holds (none when there are none). */
function policySections(p: StatusReport['policy'], paint: Paint, width: number | undefined): string[] {
  const edges = p.edges.length
    ? formatTable(
        ['FROM', 'TO', 'STATE', 'BY', 'NOTE'],
        p.edges.map((e) => [
          e.from,
          e.to,
          e.state === 'denied' ? paint('red', 'DENIED') : 'allowed',
          e.managedBy,
          e.reason ?? '',
        ]),
        { width },
      )
    : '  (no edges: every call is denied by default)';
  const callers = callerLines(callerNotes(p.edges.map((e) => e.from))).map((l) => wrapWords(l, width));
  const kind = (title: string, column: string, rows: readonly { service: string; detail: string }[]) =>
    rows.length
      ? [
          '',
          title,
          formatTable(
            ['SERVICE', column],
            rows.map((x) => [x.service, x.detail]),
            { width },
          ),
        ]
      : [];
  return [
    '',
    'WHO MAY CALL WHOM',
    edges,
    ...callers,
    ...kind('ROUTES', 'ROUTE', p.routes),
    ...kind('TRAFFIC POLICY', 'POLICY', p.traffic),
    ...kind('FAULT INJECTION', 'FAULT', p.faults),
  ];
}

/** For `--json` consumers that only want the mesh shape. */
export type { DiscoveredMesh };
