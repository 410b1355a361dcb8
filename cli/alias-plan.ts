/**
 * Pure decisions for `mesh shift`, `mesh promote` and `mesh rollback` on the `live` alias. Lambda's
 * alias routing holds one stable version (FunctionVersion) plus at most one additional version with
 * a weight 0-1 (the canary).
 */
import { isPublishedVersion, LIVE_ALIAS } from '../shared/names';
import { UsageError } from './errors';
import { percentToWeight, weightToPercent } from './weight';

export interface AliasState {
  readonly functionVersion: string;
  /** version -> fraction 0-1 (Lambda's AdditionalVersionWeights). */
  readonly weights: Readonly<Record<string, number>>;
  readonly revisionId?: string;
  /** The alias's Description (where `mesh promote` records the version it replaced). */
  readonly description?: string;
}

export interface AliasUpdate {
  readonly functionVersion: string;
  readonly weights: Readonly<Record<string, number>>;
  /** A new Description; undefined leaves it as it is. */
  readonly description?: string;
}

export interface AliasChange {
  readonly service: string;
  readonly functionName: string;
  readonly alias: string;
  readonly before: AliasUpdate;
  readonly after: AliasUpdate;
  /** False when the alias already looked like this; nothing is written. */
  readonly changed: boolean;
}

/**
 * The canary: the version the alias already routes extra weight to, else the newest published
 * version above the stable one (a deploy published it but gave it no traffic yet).
 */
export function canaryVersion(alias: AliasState, publishedVersions: readonly string[]): string | undefined {
  const routed = Object.keys(alias.weights).find((v) => v !== alias.functionVersion);
  if (routed) return routed;
  if (!isPublishedVersion(alias.functionVersion)) return undefined;
  const stable = Number(alias.functionVersion);
  const newer = publishedVersions
    .filter(isPublishedVersion)
    .map(Number)
    .filter((v) => v > stable);
  return newer.length ? String(Math.max(...newer)) : undefined;
}

function noCanary(service: string, alias: AliasState): UsageError {
  return new UsageError(
    `${service} has no canary version: alias ${LIVE_ALIAS} points at version ${alias.functionVersion} and no newer version is published; deploy a new version of ${service} first`,
  );
}

function change(service: string, functionName: string, alias: AliasState, after: AliasUpdate): AliasChange {
  const before = { functionVersion: alias.functionVersion, weights: { ...alias.weights } };
  const same =
    before.functionVersion === after.functionVersion &&
    JSON.stringify(Object.entries(before.weights).sort()) === JSON.stringify(Object.entries(after.weights).sort());
  return { service, functionName, alias: LIVE_ALIAS, before, after, changed: !same };
}

/** `mesh shift <service> <pct>`: the canary gets pct% of `live`, the stable version the rest. */
export function planShift(
  service: string,
  functionName: string,
  alias: AliasState,
  versions: readonly string[],
  percent: number,
): AliasChange {
  const canary = canaryVersion(alias, versions);
  if (!canary) throw noCanary(service, alias);
  return change(service, functionName, alias, {
    functionVersion: alias.functionVersion,
    weights: { [canary]: percentToWeight(percent) },
  });
}

/**
 * `mesh promote <service>`: the canary becomes the stable version with all the traffic. An alias on
 * `$LATEST` (or any unpublished version) is moved to the newest published version.
 */
export function planPromote(
  service: string,
  functionName: string,
  alias: AliasState,
  versions: readonly string[],
): AliasChange {
  const newest = versions
    .filter(isPublishedVersion)
    .sort((a, b) => Number(a) - Number(b))
    .pop();
  const canary = canaryVersion(alias, versions) ?? (isPublishedVersion(alias.functionVersion) ? undefined : newest);
  if (!canary) throw noCanary(service, alias);
  return change(service, functionName, alias, { functionVersion: canary, weights: {} });
}

/** `mesh rollback <service>`: weights cleared; the stable version keeps 100%. */
export function planRollback(service: string, functionName: string, alias: AliasState): AliasChange {
  return change(service, functionName, alias, { functionVersion: alias.functionVersion, weights: {} });
}

/** "90% v1 / 10% v2" */
export function describeSplit(a: AliasUpdate): string {
  const extra = Object.entries(a.weights);
  const extraPct = extra.reduce((s, [, w]) => s + weightToPercent(w), 0);
  const parts = [
    `${round(100 - extraPct)}% v${a.functionVersion}`,
    ...extra.map(([v, w]) => `${weightToPercent(w)}% v${v}`),
  ];
  return parts.join(' / ');
}

function round(n: number): number {
  return Math.round(n * 1e4) / 1e4;
}
