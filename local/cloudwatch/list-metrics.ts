/**
 * ListMetrics from the local metric store, as the CloudWatch API Reference describes it: metrics filtered
 * by Namespace, MetricName and dimension filters (a name alone matches any value of it; a metric must
 * have every filtered dimension, and may have others), `RecentlyActive: PT3H` for metrics with data in
 * the past three hours, none without data in the past two weeks, 500 a page with a NextToken. The local
 * account is the only one: IncludeLinkedAccounts adds OwningAccounts (one per metric, all the local
 * account), and an OwningAccount of another account finds nothing.
 */
import { tokenPage } from '../endpoint/next-token';
import { cloudWatchError } from './cloudwatch-error';
import { type ListMetricsRequest, parseListMetrics } from './list-metrics-request';
import { type MetricListing, type MetricStore, metricKey } from './metric-store';

/** "Up to 500 results are returned for any one call." */
const PAGE_SIZE = 500;
/** "ListMetrics doesn't return information about metrics if those metrics haven't reported data in the past two weeks." */
const LISTED_FOR_MS = 14 * 86_400_000;

export function listMetrics(
  metrics: MetricStore,
  accountId: string,
  input: Record<string, unknown>,
  now = Date.now(),
): unknown {
  const request = parseListMetrics(input, now);
  const anotherAccount =
    request.includeLinkedAccounts && request.owningAccount !== undefined && request.owningAccount !== accountId;
  const listed = anotherAccount
    ? []
    : metrics
        .list()
        .filter((m) => m.latest >= now - LISTED_FOR_MS && listedFor(request, m))
        .map((m) => ({ key: metricKey(m.namespace, m.name, m.dimensions), m }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { page, nextToken } = tokenPage(listed, request.nextToken, PAGE_SIZE, (t) =>
    cloudWatchError('InvalidParameterValue', `NextToken ${JSON.stringify(t)} is not one ListMetrics gave`),
  );
  return {
    Metrics: page.map(({ m }) => ({
      Namespace: m.namespace,
      MetricName: m.name,
      Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
    })),
    ...(nextToken ? { NextToken: nextToken } : {}),
    ...(request.includeLinkedAccounts ? { OwningAccounts: page.map(() => accountId) } : {}),
  };
}

/** Whether the request's filters let the metric through (a pure decision). */
export function listedFor(request: ListMetricsRequest, m: MetricListing): boolean {
  if (request.namespace !== undefined && m.namespace !== request.namespace) return false;
  if (request.metricName !== undefined && m.name !== request.metricName) return false;
  if (request.activeSince !== undefined && m.latest < request.activeSince) return false;
  return request.dimensions.every((f) =>
    f.value === undefined ? Object.hasOwn(m.dimensions, f.name) : m.dimensions[f.name] === f.value,
  );
}
