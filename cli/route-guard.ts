/**
 * Alias weights and a route item decide one split between them (shared/policy.ts `routeDecidesSplit`):
 * a route item with weights decides it for every caller in the mesh, and the `live` alias's weights
 * then reach only callers outside it. A command that moves the alias (`shift`, `promote`, `rollback`,
 * `rollout`) while such a route item exists would report a split the mesh does not apply, so it
 * refuses, naming the item and the command that unblocks it. Pure, apart from the one read.
 */
import { LIVE_ALIAS, MANAGED_BY, SORT_KEY, TABLE } from '../shared/names';
import { parsePolicyItem, type RouteItem, routeDecidesSplit } from '../shared/policy';
import type { AwsClients } from './aws-clients';
import { UsageError } from './errors';
import type { RawItem } from './policy-plan';
import { queryService } from './policy-store';
import { weightToPercent } from './weight';

/** "v1 90% / v2 10%" */
export function describeWeights(weights: Readonly<Record<string, number>>): string {
  return Object.entries(weights)
    .map(([v, w]) => `v${v} ${weightToPercent(w)}%`)
    .join(' / ');
}

/** The service's route item, when it is valid (an invalid one decides nothing: the mesh ignores it). */
export function validRoute(items: readonly RawItem[], service: string): RouteItem | undefined {
  const raw = items.find((i) => i[TABLE.partitionKey] === service && i[TABLE.sortKey] === SORT_KEY.route);
  const parsed = raw ? parsePolicyItem(raw) : undefined;
  return parsed?.ok ? (parsed.item as RouteItem) : undefined;
}

/**
 * Refuses an alias command whose change the route item would override for mesh callers; returns a
 * note for a route whose header matches take some calls first (the alias still decides the rest).
 */
export function checkAliasCommand(command: string, service: string, route: RouteItem | undefined): string | undefined {
  if (!route) return undefined;
  const owner = route.managedBy === MANAGED_BY.deploy ? 'deploy' : 'operator';
  if (routeDecidesSplit(route)) {
    throw new UsageError(
      `${service}/${SORT_KEY.route} (${owner}) sets weights ${describeWeights(route.weights!)} for every caller in the ` +
        `mesh, so moving the ${LIVE_ALIAS} alias would change only what callers outside the mesh see; ` +
        `remove the route item first: mesh policy delete ${service} ${SORT_KEY.route}` +
        `${owner === 'deploy' ? ' --force' : ''}, then run mesh ${command} again (nothing was written)`,
    );
  }
  const matches = route.matches?.length ?? 0;
  if (matches === 0) return undefined;
  return (
    `note: ${service}/${SORT_KEY.route} sends calls that match its ${matches} header match${matches > 1 ? 'es' : ''} ` +
    'to their versions first; the alias splits the rest'
  );
}

/** Adapter: the service's route item from the table (none when the mesh has no table). */
export async function readRoute(
  clients: AwsClients,
  table: string | undefined,
  service: string,
): Promise<RouteItem | undefined> {
  if (!table) return undefined;
  return validRoute(await queryService(clients, table, service), service);
}
