/**
 * Pure decisions for `mesh policy allow|deny|set`: from the items the table holds now to the puts
 * and deletes that make the change. Every item to put is validated with parsePolicyItem before
 * anything is written; a bad one fails the whole command with exit 2.
 */
import { breakerPartition, DEPLOYMENT, EXTERNAL, MANAGED_BY, SORT_KEY, TABLE } from '../shared/names';
import { itemKind, parsePolicyItem } from '../shared/policy';
import { didYouMean } from '../shared/suggest';
import { UsageError } from './errors';
import { unpublishedVersions } from './published-versions';

export type RawItem = Readonly<Record<string, unknown>>;

export interface PolicyKey {
  readonly pk: string;
  readonly sk: string;
}

export interface ItemChange {
  readonly action: 'create' | 'update' | 'delete' | 'unchanged';
  readonly pk: string;
  readonly sk: string;
}

export interface PolicyPlan {
  readonly puts: readonly RawItem[];
  readonly deletes: readonly PolicyKey[];
  /** What the command did, item by item, for the output (`--json` prints this). */
  readonly changes: readonly ItemChange[];
  /** What the operator must know about the change (a deploy item that the next deploy writes again). */
  readonly warnings?: readonly string[];
}

/** The published versions of the service a `set` writes for, which its route item may name. */
export interface PublishedVersions {
  readonly functionName: string;
  readonly versions: readonly string[];
}

/** Who and when, stamped on every item the CLI writes. */
export interface WriteStamp {
  readonly updatedAt: string;
  readonly updatedBy: string;
}

const PK = TABLE.partitionKey;
const SK = TABLE.sortKey;

function keyOf(item: RawItem): PolicyKey {
  return { pk: String(item[PK]), sk: String(item[SK]) };
}

function find(existing: readonly RawItem[], pk: string, sk: string): RawItem | undefined {
  return existing.find((i) => i[PK] === pk && i[SK] === sk);
}

function validated(item: RawItem, where: string, fix = ''): RawItem {
  const res = parsePolicyItem(item);
  if (!res.ok) throw new UsageError(`${where}: ${res.error}${fix}`);
  return item;
}

/** Compares items ignoring the stamp, so re-running a command is a no-op. */
function sameContent(a: RawItem, b: RawItem): boolean {
  const strip = (i: RawItem) => {
    const { updatedAt: _a, updatedBy: _b, ...rest } = i as Record<string, unknown>;
    return JSON.stringify(
      Object.entries(rest).sort(([x], [y]) => x.localeCompare(y)),
      (_k, v) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)))
          : v,
    );
  };
  return strip(a) === strip(b);
}

/**
 * Checks an edge's ends: `to` is a mesh service, or a channel (a queue, topic or bus) a service sends
 * to or consumes; `from` is a service, "external", or the pre-traffic check of gated deployments
 * (denying it freezes the service's deployments: the next one fails its check).
 */
export function checkEdge(
  from: string,
  to: string,
  services: readonly string[],
  channels: readonly string[] = [],
): void {
  const known = services.join(', ') || 'none';
  if (!services.includes(to) && !channels.includes(to)) {
    const alsoChannels = channels.length ? `; known channels: ${channels.join(', ')}` : '';
    throw new UsageError(
      `unknown service ${JSON.stringify(to)}${didYouMean(to, [...services, ...channels])}; known services: ${known}${alsoChannels} (see \`mesh status\`)`,
    );
  }
  if (from !== EXTERNAL && from !== DEPLOYMENT.checkSource && !services.includes(from)) {
    throw new UsageError(
      `unknown service ${JSON.stringify(from)}${didYouMean(from, [...services, EXTERNAL])}; known services: ${known}, "${EXTERNAL}" for callers outside the mesh, or "${DEPLOYMENT.checkSource}" for the pre-traffic check of gated deployments`,
    );
  }
  if (from === to) {
    throw new UsageError(`${from} cannot be both caller and callee; a service does not call itself through the mesh`);
  }
}

/** `mesh policy allow <from> <to>`: remove the operator's deny, add an allow if there is none. */
export function planAllow(existing: readonly RawItem[], from: string, to: string, stamp: WriteStamp): PolicyPlan {
  const puts: RawItem[] = [];
  const deletes: PolicyKey[] = [];
  const changes: ItemChange[] = [];
  const denySk = SORT_KEY.deny(from);
  const allowSk = SORT_KEY.allow(from);
  if (find(existing, to, denySk)) {
    deletes.push({ pk: to, sk: denySk });
    changes.push({ action: 'delete', pk: to, sk: denySk });
  }
  if (find(existing, to, allowSk)) {
    changes.push({ action: 'unchanged', pk: to, sk: allowSk });
  } else {
    const item = { [PK]: to, [SK]: allowSk, source: from, managedBy: MANAGED_BY.operator, ...stamp };
    puts.push(validated(item, `allow ${from} -> ${to}`));
    changes.push({ action: 'create', pk: to, sk: allowSk });
  }
  return { puts, deletes, changes };
}

/** `mesh policy deny <from> <to>`: an operator deny item, which wins over any allow. */
export function planDeny(
  existing: readonly RawItem[],
  from: string,
  to: string,
  stamp: WriteStamp,
  reason?: string,
): PolicyPlan {
  const sk = SORT_KEY.deny(from);
  const item: RawItem = {
    [PK]: to,
    [SK]: sk,
    source: from,
    managedBy: MANAGED_BY.operator,
    ...(reason !== undefined ? { reason } : {}),
    ...stamp,
  };
  validated(item, `deny ${from} -> ${to}`);
  const current = find(existing, to, sk);
  if (current && sameContent(current, item)) {
    return { puts: [], deletes: [], changes: [{ action: 'unchanged', pk: to, sk }] };
  }
  return { puts: [item], deletes: [], changes: [{ action: current ? 'update' : 'create', pk: to, sk }] };
}

/**
 * `mesh policy set <service> --file f`: every item in the file, for that service, validated before
 * any write. Items without `pk` get the service; items without `managedBy` are the operator's.
 */
export function planSet(
  service: string,
  fileItems: unknown,
  existing: readonly RawItem[],
  stamp: WriteStamp,
  file: string,
  published?: PublishedVersions,
): PolicyPlan {
  const list = itemsOf(fileItems, service, file);
  const puts: RawItem[] = [];
  const changes: ItemChange[] = [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    const where = `${file} item ${i + 1}`;
    const item = fileItem(raw, service, stamp, where);
    checkFileItem(item, where, file, published);
    const sk = String(item[SK]);
    if (seen.has(sk)) throw new UsageError(`${where}: sk = ${JSON.stringify(sk)} appears twice in ${file}; keep one`);
    seen.add(sk);
    const current = find(existing, service, sk);
    if (current && sameContent(current, item)) {
      changes.push({ action: 'unchanged', pk: service, sk });
    } else {
      puts.push(item);
      changes.push({ action: current ? 'update' : 'create', pk: service, sk });
    }
  });
  checkOneTransaction(puts.length, service, file);
  return { puts, deletes: [], changes };
}

/** TransactWriteItems takes at most 100 actions ("TransactWriteItems", Amazon DynamoDB API Reference). */
export const TRANSACT_LIMIT = 100;

/**
 * A change of more items than one transaction holds would be written in parts, and a failure between
 * two parts (a throttle, a dropped connection, Ctrl-C) would leave the table half-changed: refused whole.
 */
function checkOneTransaction(writes: number, service: string, file: string): void {
  if (writes <= TRANSACT_LIMIT) return;
  throw new UsageError(
    `${file} changes ${writes} items of ${service}, more than one DynamoDB transaction holds (${TRANSACT_LIMIT}), so the change could land in part; split it into files of at most ${TRANSACT_LIMIT} changed items and run each (nothing was written)`,
  );
}

/** The file's items: a JSON array, or `{"items": [...]}`; never empty. */
function itemsOf(fileItems: unknown, service: string, file: string): unknown[] {
  const list = Array.isArray(fileItems)
    ? fileItems
    : fileItems && typeof fileItems === 'object' && Array.isArray((fileItems as { items?: unknown }).items)
      ? (fileItems as { items: unknown[] }).items
      : undefined;
  if (!list) {
    throw new UsageError(
      `${file} must hold a JSON array of policy items (or {"items": [...]}) for ${service}, e.g. [{"sk":"traffic","timeoutMs":2000}]`,
    );
  }
  if (list.length === 0) throw new UsageError(`${file} holds no policy items; add at least one item for ${service}`);
  return list;
}

/** One entry of the file as the item to write: the service's pk, the operator's unless it says, stamped. */
function fileItem(raw: unknown, service: string, stamp: WriteStamp, where: string): RawItem {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(
      `${where} must be an object such as {"sk":"traffic","timeoutMs":2000}, got ${JSON.stringify(raw)}`,
    );
  }
  const r = raw as Record<string, unknown>;
  if (r[PK] !== undefined && r[PK] !== service) {
    throw new UsageError(
      `${where}: pk = ${JSON.stringify(r[PK])} is not ${service}; put only ${service}'s items in this file, or run \`mesh policy set ${String(r[PK])} ...\``,
    );
  }
  const { updatedAt: _a, updatedBy: _b, [PK]: _pk, [SK]: sk0, ...rest } = r;
  return { [PK]: service, [SK]: sk0, ...rest, managedBy: r.managedBy ?? MANAGED_BY.operator, ...stamp };
}

/** The schema, and the versions the item routes to published: the error names the field and the fix. */
function checkFileItem(item: RawItem, where: string, file: string, published?: PublishedVersions): void {
  const fix = `; fix it in ${file} and run again (nothing was written)`;
  const missing = published && unpublishedVersions(item, published.versions, published.functionName);
  // A schema refusal of a version (`$LATEST`) names the versions there are, too.
  const schema = parsePolicyItem(item);
  if (!schema.ok) throw new UsageError(`${where}: ${schema.error}${missing ? ` (${missing})` : ''}${fix}`);
  if (missing) throw new UsageError(`${where}: ${missing}${fix}`);
}

/**
 * `mesh policy delete <service> <sk>`: removes one item. A deploy-time item needs `force` (the
 * deployment declared it, and the next deploy that updates the mesh's policy writes it again);
 * `breaker#<version>` names shared breaker state, kept in the partition `breaker#<service>`.
 */
export function planDelete(existing: readonly RawItem[], service: string, sk: string, force: boolean): PolicyPlan {
  const kind = itemKind(sk);
  if (!kind) {
    throw new UsageError(
      `${JSON.stringify(sk)} is not an item kind; use service, traffic, route, fault, allow#<source>, deny#<source> or breaker#<version> (see \`mesh policy list --service ${service}\`)`,
    );
  }
  const pk = kind === 'breaker' ? breakerPartition(service) : service;
  const current = find(existing, pk, sk);
  if (!current) {
    const have = existing.map((i) => String(i[SK])).join(', ') || 'none';
    throw new UsageError(`${pk} has no item ${sk}; its items: ${have} (nothing was deleted)`);
  }
  const warnings: string[] = [];
  if (current.managedBy === MANAGED_BY.deploy) {
    const restore = `the next deploy that updates the mesh's policy writes ${pk}/${sk} again`;
    if (!force) {
      throw new UsageError(
        `${pk}/${sk} is managed by the deployment (managedBy "deploy"); ${restore}. To delete it until then, ` +
          `run: \`mesh policy delete ${service} ${sk} --force\` (nothing was deleted)`,
      );
    }
    warnings.push(`${pk}/${sk} was declared at deploy: ${restore}`);
  }
  return { puts: [], deletes: [{ pk, sk }], changes: [{ action: 'delete', pk, sk }], warnings };
}

export { keyOf };
