/**
 * Pure: the policy table's items, summarised the way an operator reads them — edges (who may call
 * whom, and which are denied), routes and traffic overrides — plus items that fail the schema.
 */
import { rateLimitPartition, TABLE } from '../shared/names';
import { itemKind, type PolicyItemKind, parsePolicyItem } from '../shared/policy';
import { type EdgeSummary, policyEdges } from '../shared/policy-edges';
import type { RawItem } from './policy-plan';
import { weightToPercent } from './weight';

export interface PolicySummary {
  readonly edges: readonly EdgeSummary[];
  readonly routes: readonly { readonly service: string; readonly detail: string }[];
  readonly traffic: readonly { readonly service: string; readonly detail: string }[];
  readonly faults: readonly { readonly service: string; readonly detail: string }[];
  readonly invalid: readonly { readonly key: string; readonly error: string }[];
}

/** The partitions of rate-limit buckets: the runtime's leases (`tat`, `ttl`), no policy and no schema to fail. */
const RATE_LIMIT_PARTITION_PREFIX = rateLimitPartition('');

export function summarisePolicy(items: readonly RawItem[]): PolicySummary {
  const routes: { service: string; detail: string }[] = [];
  const traffic: { service: string; detail: string }[] = [];
  const faults: { service: string; detail: string }[] = [];
  const invalid: { key: string; error: string }[] = [];
  for (const item of items) {
    if (String(item[TABLE.partitionKey]).startsWith(RATE_LIMIT_PARTITION_PREFIX)) continue;
    const res = parsePolicyItem(item);
    if (!res.ok) {
      invalid.push({ key: `${String(item[TABLE.partitionKey])}/${String(item[TABLE.sortKey])}`, error: res.error });
      continue;
    }
    const pk = String(item[TABLE.partitionKey]);
    if (res.kind === 'route') routes.push({ service: pk, detail: describeItem(item, res.kind) });
    else if (res.kind === 'traffic') traffic.push({ service: pk, detail: describeItem(item, res.kind) });
    else if (res.kind === 'fault') faults.push({ service: pk, detail: describeItem(item, res.kind) });
  }
  return { edges: policyEdges(items), routes, traffic, faults, invalid };
}

/** The fields `describeItem` reads, as a raw (not yet validated) item may hold them. */
type ItemFields = Partial<{
  functionName: string;
  alias: string;
  url: string;
  auth: string;
  reason: string;
  timeoutMs: number;
  perTryTimeoutMs: number;
  retries: { maxAttempts?: number };
  idempotent: boolean;
  breaker: unknown;
  budget: unknown;
  weights: Record<string, number>;
  matches: unknown[];
  sticky: { header: string };
  mirror: { percent: number; version: string };
  abort: { percent: number; errorType?: string };
  delay: { ms: number; percent: number };
  version: string;
  state: string;
}>;

/**
 * What `policy list` shows of an item: its settings, or, for an item the mesh ignores (it fails the
 * schema), why, so a list never shows as applied what no sandbox applies. The row names the item already.
 */
export function itemDetail(item: RawItem): string {
  if (String(item[TABLE.partitionKey]).startsWith(RATE_LIMIT_PARTITION_PREFIX)) return describeItem(item);
  const res = parsePolicyItem(item);
  if (res.ok) return describeItem(item, res.kind);
  const key = `${String(item[TABLE.partitionKey])}/${String(item[TABLE.sortKey])}: `;
  return `INVALID, ignored by the mesh: ${res.error.startsWith(key) ? res.error.slice(key.length) : res.error}`;
}

/** One line describing an item's settings, for `policy list` and `status`. */
export function describeItem(item: RawItem, kind: PolicyItemKind | undefined = itemKind(item[TABLE.sortKey])): string {
  const parts: string[] = [];
  const i = item as ItemFields;
  switch (kind) {
    case 'service':
      parts.push(`function ${i.functionName}`);
      if (i.alias) parts.push(`alias ${i.alias}`);
      break;
    case 'deny':
      if (i.reason) parts.push(`reason: ${i.reason}`);
      break;
    case 'allow':
    case 'traffic':
      if (i.timeoutMs !== undefined) parts.push(`timeout ${i.timeoutMs}ms`);
      if (i.perTryTimeoutMs !== undefined) parts.push(`per-try ${i.perTryTimeoutMs}ms`);
      if (i.retries?.maxAttempts !== undefined) parts.push(`attempts ${i.retries.maxAttempts}`);
      if (i.idempotent) parts.push('idempotent');
      if (i.breaker) parts.push('breaker');
      if (i.budget) parts.push('budget');
      break;
    case 'route':
      if (i.weights) {
        parts.push(
          `weights ${Object.entries(i.weights)
            .map(([v, w]) => `v${v} ${weightToPercent(w)}%`)
            .join(' / ')}`,
        );
      }
      if (i.matches?.length) parts.push(`${i.matches.length} header match${i.matches.length > 1 ? 'es' : ''}`);
      if (i.sticky) parts.push(`sticky on ${i.sticky.header}`);
      if (i.mirror) parts.push(`mirror ${i.mirror.percent}% to v${i.mirror.version}`);
      break;
    case 'fault':
      if (i.abort) parts.push(`abort ${i.abort.percent}%${i.abort.errorType ? ` (${i.abort.errorType})` : ''}`);
      if (i.delay) parts.push(`delay ${i.delay.ms}ms on ${i.delay.percent}%`);
      break;
    case 'breaker':
      parts.push(`v${i.version} ${i.state}`);
      break;
    default:
      break;
  }
  return parts.join(', ') || '-';
}
