/**
 * The checks of `mesh check` that read the whole mesh: every stored policy item against the schema
 * and the published versions, each edge's two walls (IAM and the table) against each other, and who
 * decides a service's split. Each failure that an operator can fix from the command line comes with
 * the commands that fix it (`commands`), written with the same AWS flags the check ran with, so they
 * work when pasted. Pure: the facts are gathered by `gatherMeshFacts` (the one adapter here).
 */
import { breakerPartition, LIVE_ALIAS, MANAGED_BY, SORT_KEY, TABLE } from '../../shared/names';
import { type AllowItem, type DenyItem, parsePolicyItem, routeDecidesSplit } from '../../shared/policy';
import { listVersions } from '../alias-store';
import type { AwsClients } from '../aws-clients';
import type { DiscoveredMesh } from '../mesh-discovery';
import type { RawItem } from '../policy-plan';
import { scanPolicy } from '../policy-store';
import { unpublishedVersions } from '../published-versions';
import { describeWeights, validRoute } from '../route-guard';
import type { InvokeGrants } from './check-iam';

/** What `mesh check` knows of the whole mesh, shared by every function's rows. */
export interface MeshFacts {
  /** Every item of the policy table; undefined when it could not be read (`itemsError`). */
  readonly items?: readonly RawItem[];
  readonly itemsError?: string;
  /** service -> function name. */
  readonly functions: ReadonlyMap<string, string>;
  /** service -> its published versions. */
  readonly versions: ReadonlyMap<string, readonly string[]>;
  /** service -> what its role may invoke; an Error when IAM could not be read. */
  readonly grants: ReadonlyMap<string, InvokeGrants | Error>;
  /** service -> the channels it sends to and consumes (an edge through a channel needs no invoke grant). */
  readonly channels?: ReadonlyMap<string, { readonly out: readonly string[]; readonly in: readonly string[] }>;
  /** A command line with the AWS flags the check ran with (`mesh ...` or `aws ...`). */
  command(tool: 'mesh' | 'aws', args: string): string;
}

/** A row's verdict over mesh facts (the same shape as check-table.ts `Verdict`). */
export interface MeshVerdict {
  readonly status: 'pass' | 'fail' | 'warn' | 'skip';
  readonly detail?: string;
  readonly fix?: string;
  /** Commands that fix the failure, each complete. */
  readonly commands?: readonly string[];
}

/** The facts one function's mesh rows read. */
export interface ServiceMeshFacts {
  readonly service: string;
  readonly alias?: { readonly functionVersion: string; readonly weights: Readonly<Record<string, number>> };
  readonly mesh?: MeshFacts;
}

const isDeploy = (i: RawItem) => i.managedBy === MANAGED_BY.deploy;

/** `mesh policy delete` of one item, with `--force` when the deployment owns it. */
function deleteCommand(m: MeshFacts, service: string, item: RawItem): string {
  return m.command(
    'mesh',
    `policy delete ${service} ${String(item[TABLE.sortKey])}${isDeploy(item) ? ' --force' : ''}`,
  );
}

/** Every item of the service (and its breaker partition) passes the schema and names only published versions. */
export function checkItems(f: ServiceMeshFacts): MeshVerdict {
  const m = f.mesh;
  if (!m?.items) return { status: 'skip', detail: m?.itemsError ?? 'the policy table was not read' };
  const own = m.items.filter(
    (i) => i[TABLE.partitionKey] === f.service || i[TABLE.partitionKey] === breakerPartition(f.service),
  );
  const problems: { item: RawItem; error: string }[] = [];
  for (const item of own) {
    const res = parsePolicyItem(item);
    const unpublished = unpublishedVersions(item, m.versions.get(f.service) ?? [], m.functions.get(f.service) ?? '');
    if (!res.ok) problems.push({ item, error: res.error });
    else if (unpublished) problems.push({ item, error: unpublished });
  }
  if (problems.length === 0) return { status: 'pass', detail: `${own.length} items` };
  return {
    status: 'fail',
    detail: problems.map((p) => p.error).join('; '),
    fix: 'remove the item (or write a corrected one with `mesh policy set`)',
    commands: problems.map((p) => deleteCommand(m, f.service, p.item)),
  };
}

/** How the table answers `from -> to`: allowed, or denied and by what. */
function tableSays(items: readonly RawItem[], from: string, to: string): { allowed: boolean; by: string } {
  let allow: AllowItem | undefined;
  let deny: DenyItem | undefined;
  for (const i of items) {
    if (i[TABLE.partitionKey] !== to) continue;
    const res = parsePolicyItem(i);
    if (i[TABLE.sortKey] === SORT_KEY.deny(from)) {
      // A malformed deny still denies (the runtime fails closed).
      deny = res.ok ? (res.item as DenyItem) : ({ pk: to, sk: SORT_KEY.deny(from), source: from } as DenyItem);
    } else if (i[TABLE.sortKey] === SORT_KEY.allow(from) && res.ok) allow = res.item as AllowItem;
  }
  if (deny) return { allowed: false, by: `${to}/${deny.sk}` };
  if (allow) return { allowed: true, by: `${to}/${allow.sk}` };
  return { allowed: false, by: `no ${to}/${SORT_KEY.allow(from)} (deny by default)` };
}

/** The mesh services this service's role may invoke, by IAM. */
function granted(m: MeshFacts, service: string): string[] | Error {
  const g = m.grants.get(service);
  if (!g) return [];
  if (g instanceof Error) return g;
  return [...m.functions].filter(([s, fn]) => s !== service && (g.any || g.functions.has(fn))).map(([s]) => s);
}

/** Every edge IAM lets this service call is allowed by the table too (else every such call is denied). */
export function checkDeclaredEdges(f: ServiceMeshFacts): MeshVerdict {
  const m = f.mesh;
  if (!m?.items) return { status: 'skip', detail: m?.itemsError ?? 'the policy table was not read' };
  const targets = granted(m, f.service);
  if (targets instanceof Error) return iamUnreadable(targets);
  const denied = targets.map((to) => ({ to, says: tableSays(m.items!, f.service, to) })).filter((x) => !x.says.allowed);
  if (denied.length === 0) return { status: 'pass', detail: targets.length ? `to ${targets.join(', ')}` : 'no edges' };
  return {
    status: 'fail',
    detail: denied
      .map((d) => `IAM lets ${f.service} invoke ${d.to}, but the table denies it (${d.says.by}): every call is refused`)
      .join('; '),
    fix: 'allow the edge in the table (or remove the grant from the role and redeploy)',
    commands: denied.map((d) => m.command('mesh', `policy allow ${f.service} ${d.to}`)),
  };
}

/** Every edge the table allows from this service is granted by IAM too (else Lambda refuses every call). */
export function checkAllowedEdges(f: ServiceMeshFacts): MeshVerdict {
  const m = f.mesh;
  if (!m?.items) return { status: 'skip', detail: m?.itemsError ?? 'the policy table was not read' };
  const targets = granted(m, f.service);
  if (targets instanceof Error) return iamUnreadable(targets);
  const allowedTo = [...m.functions.keys()].filter(
    (to) => to !== f.service && tableSays(m.items!, f.service, to).allowed,
  );
  // A consumer allows its senders' records: the edge goes through a queue, topic or bus, not an Invoke.
  const missing = allowedTo.filter((to) => !targets.includes(to) && !throughChannel(m, f.service, to));
  if (missing.length === 0)
    return { status: 'pass', detail: allowedTo.length ? `to ${allowedTo.join(', ')}` : 'no edges' };
  const items = missing.map(
    (to) => m.items!.find((i) => i[TABLE.partitionKey] === to && i[TABLE.sortKey] === SORT_KEY.allow(f.service))!,
  );
  return {
    status: 'fail',
    detail: missing
      .map((to) => `the table allows ${f.service} -> ${to}, but IAM does not let ${f.service} invoke ${to}`)
      .join('; '),
    fix: `declare the edge (${f.service}.allowCallsTo(<target>)) and deploy, or remove the allow item`,
    commands: items.map((i, k) => deleteCommand(m, missing[k]!, i)),
  };
}

/** Whether `from` sends to a channel `to` consumes. */
function throughChannel(m: MeshFacts, from: string, to: string): boolean {
  const out = m.channels?.get(from)?.out ?? [];
  const consumed = m.channels?.get(to)?.in ?? [];
  return out.some((c) => consumed.includes(c));
}

/** One source decides the split: a route item with weights while the alias carries a canary weight is flagged. */
export function checkSplitSource(f: ServiceMeshFacts): MeshVerdict {
  const m = f.mesh;
  if (!m?.items) return { status: 'skip', detail: m?.itemsError ?? 'the policy table was not read' };
  const route = validRoute(m.items, f.service);
  const canary = Object.keys(f.alias?.weights ?? {}).length > 0;
  if (!routeDecidesSplit(route)) {
    return { status: 'pass', detail: `alias ${LIVE_ALIAS}${route?.matches?.length ? ' (header matches first)' : ''}` };
  }
  const item = m.items.find((i) => i[TABLE.partitionKey] === f.service && i[TABLE.sortKey] === SORT_KEY.route)!;
  // A route naming versions that do not exist fails `policy items valid`, with its own fix.
  if (unpublishedVersions(item, m.versions.get(f.service) ?? [], m.functions.get(f.service) ?? '')) {
    return { status: 'skip', detail: `${f.service}/${SORT_KEY.route} is invalid (see policy items valid)` };
  }
  const split = describeWeights(route!.weights!);
  if (!canary) return { status: 'pass', detail: `${f.service}/${SORT_KEY.route}: ${split} for mesh callers` };
  return {
    status: 'warn',
    detail:
      `${f.service}/${SORT_KEY.route} sets ${split} for every mesh caller, so the canary weight on alias ` +
      `${LIVE_ALIAS} (${describeWeights(f.alias!.weights)}) reaches only callers outside the mesh`,
    fix: 'remove the route item so the alias (shift, rollout, CodeDeploy) decides the split',
    commands: [deleteCommand(m, f.service, item)],
  };
}

function iamUnreadable(err: Error): MeshVerdict {
  return {
    status: 'warn',
    detail: `cannot read the role's policies: ${err.message}`,
    fix: 'grant yourself iam:ListRolePolicies and iam:GetRolePolicy on the mesh functions’ roles',
  };
}

/** Adapter: the table's items and each service's published versions (IAM grants come with each function's facts). */
export async function gatherMeshFacts(
  clients: AwsClients,
  mesh: DiscoveredMesh,
  grants: ReadonlyMap<string, InvokeGrants | Error>,
  command: MeshFacts['command'],
): Promise<MeshFacts> {
  const functions = new Map(mesh.services.map((s) => [s.service, s.functionName]));
  const channels = new Map(mesh.services.flatMap((s) => (s.channels ? [[s.service, s.channels] as const] : [])));
  const [items, versions] = await Promise.all([
    mesh.table
      ? scanPolicy(clients, mesh.table).then(
          (items) => ({ items }),
          (err: Error) => ({ itemsError: err.message }),
        )
      : Promise.resolve({ itemsError: `mesh ${mesh.name} has no policy table` }),
    Promise.all(
      mesh.services.map(async (s) => [s.service, await listVersions(clients, s.functionName).catch(() => [])] as const),
    ),
  ]);
  return { ...items, functions, versions: new Map(versions), grants, channels, command };
}
